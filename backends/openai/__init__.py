"""OpenAI-compatible HTTP backend: llama-server, llama-cpp-python's server, LM Studio, Ollama, vLLM, hosted APIs.

- `backend.py`: `OpenAIHttpBackend` — where the server is, tokens, one generation call (plain or streamed);
- `enforce.py`: how a schema is sent (response_format json_schema / json_object, Ollama's format, a forced
  tool call), which kind of server answers, and the load-time probe's finding;
- `ollama.py`: Ollama's native `/api/chat`, used for constrained calls;
- `wire.py`: the protocol as data — request bodies, reading answers and stream chunks, tool-call recovery,
  stats from `usage` / `timings`;
- `transport.py`: one HTTP exchange with bounded retries, every failure mapped to `RemoteError`.

This `__init__` imports nothing, so that `backends.registry` loads httpx only when asked.
"""
