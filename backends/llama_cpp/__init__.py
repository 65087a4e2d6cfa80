"""llama.cpp backend (llama-cpp-python) with its own decode loop, grammar engines and prompt-prefix reuse.

`Llama` only loads the model and context; evaluation goes through `llama_decode` with our own batch, and
the logits row is read as a numpy view (backends/grammar/decode.py samples from it).

- `backend.py`: `LlamaCppBackend` — loading, tokens, one generation call and its stats, memory figures;
- `sequence.py`: the context's KV cache as a token list with prefix reuse, and batched evaluation;
- `prefix_cache.py`: KV states saved after each call and restored when they serve a later prompt better;
- `grammars.py`: the constraint compilers (llguidance, GBNF) of one loaded model, cached;
- `load_log.py`: the buffer sizes llama.cpp logs while loading (its C API has no getter for them).

This `__init__` imports nothing, so that `backends.registry` loads llama-cpp-python only when asked.
"""
