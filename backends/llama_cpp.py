"""llama.cpp backend (llama-cpp-python) with its own decode loop, grammar engines and prompt-prefix reuse.

`Llama` only loads the model and context; evaluation goes through `llama_decode` with our own batch, and
the logits row is read as a numpy view (backends/grammar/decode.py samples from it). The tokens held in
the KV cache are remembered: the next call evaluates only the suffix after the longest common prefix,
the way `Llama.generate` does (at least one token is replayed so that fresh logits exist).

Stats clock: a call's clock starts once the prompt is rendered and tokenized and the grammar compiled
(compiled grammars are cached per backend; the first constrained call also builds the llguidance
tokenizer, ~0.3 s), so prompt_seconds/time_to_first_token measure the model, not the set-up.
"""

from __future__ import annotations

import ctypes
import json
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from numpy.typing import NDArray

from backends.base import (
    BackendError,
    Capabilities,
    Constraint,
    Generation,
    GenerationRequest,
    GenerationStats,
    LoadConfig,
    ModelLoadError,
    TokenCallback,
    UnsupportedCapability,
)
from backends.chat_template import ChatTemplate
from backends.grammar import TokenMatcher, gbnf_engine, llguidance_engine
from backends.grammar.decode import DecodeResult, Sampling, run_decode

GGUF_MAGIC = b"GGUF"
_BUFFER_LINE = re.compile(r"(\w+) (model|KV|compute|output) buffer size =\s*([\d.]+) MiB")


def check_gguf_file(path: Path) -> None:
    """Refuse what llama.cpp should not be handed: missing, not a GGUF, or cut off inside its header."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(24)
    if head[:4] != GGUF_MAGIC:
        raise ModelLoadError(f"{path}: not a GGUF file (magic {head[:4]!r}, expected {GGUF_MAGIC!r})")
    if size < 24 or int.from_bytes(head[4:8], "little") not in (2, 3):
        raise ModelLoadError(f"{path}: truncated or unsupported GGUF header ({size} bytes)")


class _LogCapture:
    """Collects llama.cpp's buffer-size log lines during load (the C API has no getter for them)."""

    def __init__(self) -> None:
        self.buffers: dict[str, int] = {}
        self.lines: list[str] = []
        self.callback = llama_cpp.llama_log_callback(self._on_log)

    def _on_log(self, level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", errors="replace")
        self.lines.append(line)
        for match in _BUFFER_LINE.finditer(line):
            key = f"{match.group(2).lower()}_bytes"
            self.buffers[key] = self.buffers.get(key, 0) + int(float(match.group(3)) * 1024 * 1024)

    def __enter__(self) -> _LogCapture:
        llama_cpp.llama_log_set(self.callback, ctypes.c_void_p(0))
        return self

    def __exit__(self, *exc: object) -> None:
        from llama_cpp import _logger

        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))


class _Sequence:
    """Sequence 0 of a llama.cpp context: the tokens in its KV cache and a decode batch."""

    def __init__(self, ctx: Any, n_ctx: int, n_batch: int, n_vocab: int) -> None:
        self.ctx = ctx
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self.n_vocab = n_vocab
        self.tokens: list[int] = []
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)

    def close(self) -> None:
        llama_cpp.llama_batch_free(self.batch)

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
        self.tokens = []

    def keep_prefix(self, tokens: Sequence[int]) -> int:
        """Drop cached tokens after the longest prefix shared with `tokens` (minus one, so the last
        token is re-evaluated and its logits are fresh); returns how many are kept."""
        keep = 0
        for cached, new in zip(self.tokens, tokens, strict=False):
            if cached != new:
                break
            keep += 1
        keep = min(keep, len(tokens) - 1)
        if keep < len(self.tokens):
            mem = llama_cpp.llama_get_memory(self.ctx)
            if keep <= 0 or not llama_cpp.llama_memory_seq_rm(mem, -1, keep, -1):
                self.clear()
                return 0
            del self.tokens[keep:]
        return keep

    def evaluate(self, tokens: Sequence[int]) -> bool:
        if len(self.tokens) + len(tokens) > self.n_ctx:
            return False
        batch = self.batch
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            n_past = len(self.tokens)
            for i, token in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = n_past + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = False
            batch.logits[len(chunk) - 1] = True
            batch.n_tokens = len(chunk)
            code = llama_cpp.llama_decode(self.ctx, batch)
            if code != 0:
                self.clear()
                if code == 1:  # no KV slot for the batch: the context is full
                    return False
                raise BackendError(f"llama_decode failed with code {code}")
            self.tokens.extend(chunk)
        llama_cpp.llama_synchronize(self.ctx)
        return True

    def logits(self) -> NDArray[np.float32]:
        pointer = llama_cpp.llama_get_logits_ith(self.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))


class _Source:
    """The decode loop's view of a sequence (see backends.grammar.decode.LogitsSource)."""

    def __init__(self, sequence: _Sequence, pieces: dict[int, bytes], vocab: Any) -> None:
        self.sequence = sequence
        self.pieces = pieces
        self.vocab = vocab
        self.evaluate = sequence.evaluate
        self.logits = sequence.logits

    def token_bytes(self, token: int) -> bytes:
        piece = self.pieces.get(token)
        if piece is None:
            buffer = ctypes.create_string_buffer(256)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 256, 0, True)
            piece = self.pieces[token] = buffer.raw[: max(n, 0)]
        return piece


class LlamaCppBackend:
    name = "llama-cpp"
    capabilities = Capabilities(
        grammar_engines=("llguidance", "gbnf"),
        jump_forward=True,
        streaming=True,
        prefix_cache=True,
        chat_template=True,
        token_level=True,
    )

    def __init__(self) -> None:
        self._llm: Any = None
        self._path: Path | None = None
        self._sequence: _Sequence | None = None
        self._pieces: dict[int, bytes] = {}
        self._seed = 0
        self._buffers: dict[str, int] = {}
        self._lltokenizer: Any = None
        self._gbnf: dict[tuple[str, int], gbnf_engine.GbnfGrammar] = {}
        self.template: ChatTemplate | None = None
        self.last_decode: DecodeResult | None = None
        """The last call's raw decode record (per-step grammar times for benchmarks)."""
        self.last_perf: dict[str, float] = {}

    # -- loading ---------------------------------------------------------------------------------------

    def load(self, config: LoadConfig) -> None:
        self.close()
        path = Path(config.model).expanduser()
        check_gguf_file(path)
        try:
            with _LogCapture() as capture:
                llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=config.n_ctx,
                    n_batch=config.n_batch,
                    n_threads=config.n_threads,
                    n_threads_batch=config.n_threads,
                    n_gpu_layers=config.n_gpu_layers,
                    seed=config.seed,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as err:
            detail = next((line.strip() for line in reversed(capture.lines) if "error" in line.lower()), "")
            raise ModelLoadError(f"{path}: llama.cpp could not load it: {err} {detail}".strip()) from err
        self._llm, self._path, self._buffers, self._seed = llm, path, capture.buffers, config.seed
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._n_vocab = llm.n_vocab()
        self._eog = [t for t in range(self._n_vocab) if llama_cpp.llama_vocab_is_eog(self._vocab, t)]
        self._sequence = _Sequence(llm.ctx, llm.n_ctx(), llm.n_batch, self._n_vocab)
        model = llm._model
        bos = model.token_get_text(model.token_bos()) if model.token_bos() != -1 else ""
        eos = model.token_get_text(model.token_eos()) if model.token_eos() != -1 else ""
        self.template = ChatTemplate.from_metadata(
            llm.metadata, bos_token=bos, eos_token=eos, where=str(path)
        )
        self._add_bos = llama_cpp.llama_vocab_get_add_bos(self._vocab)
        self._bos_text = bos

    def _require(self) -> Any:
        if self._llm is None:
            raise BackendError("llama-cpp backend: no model loaded (call load() first)")
        return self._llm

    # -- tokens ----------------------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return list(self._require().tokenize(text.encode("utf-8"), add_bos=add_special, special=True))

    def detokenize(self, tokens: Sequence[int]) -> str:
        data: bytes = self._require().detokenize(list(tokens), special=True)
        return data.decode("utf-8", errors="replace")

    def render_prompt(self, request: GenerationRequest) -> list[int]:
        """The prompt's tokens: the raw prompt, or the messages through the model's chat template."""
        if request.prompt is not None:
            return self.tokenize(request.prompt, add_special=True)
        assert self.template is not None
        text = self.template.render(request.messages)
        add_bos = bool(self._add_bos) and not (self._bos_text and text.startswith(self._bos_text))
        return self.tokenize(text, add_special=add_bos)

    # -- constraints -----------------------------------------------------------------------------------

    def compile(self, constraint: Constraint) -> TokenMatcher:
        """A fresh matcher for `constraint` (compiled grammars are cached); ConstraintCompileError if not."""
        self._require()
        if constraint.engine == "llguidance":
            if self._lltokenizer is None:
                self._lltokenizer = llguidance_engine.tokenizer_from_llama_vocab(
                    self._vocab, eos_tokens=self._eog
                )
            grammar = llguidance_engine.compile_json_schema(
                constraint.json_schema,
                self._lltokenizer,
                name=constraint.name,
                max_whitespace=constraint.max_whitespace,
            )
            return grammar.matcher()
        if constraint.engine == "gbnf":
            key = (json.dumps(constraint.json_schema, sort_keys=True), constraint.max_whitespace)
            if key not in self._gbnf:
                self._gbnf[key] = gbnf_engine.compile_json_schema(
                    constraint.json_schema,
                    self._vocab,
                    n_vocab=self._n_vocab,
                    eog_tokens=self._eog,
                    name=constraint.name,
                    max_whitespace=constraint.max_whitespace,
                )
            return self._gbnf[key].matcher()
        raise UnsupportedCapability(
            f"llama-cpp backend has no grammar engine {constraint.engine!r} "
            f"(available: {', '.join(self.capabilities.grammar_engines)})"
        )

    # -- generation ------------------------------------------------------------------------------------

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        llm = self._require()
        assert self._sequence is not None
        constraint = request.constraint
        matcher = self.compile(constraint) if constraint is not None else None
        prompt = self.render_prompt(request)
        started = time.perf_counter()
        llama_cpp.llama_perf_context_reset(llm.ctx)
        sequence = self._sequence
        if not prompt or len(prompt) >= sequence.n_ctx:
            return self._error(
                request, prompt, f"prompt of {len(prompt)} tokens does not fit n_ctx={sequence.n_ctx}"
            )
        kept = sequence.keep_prefix(prompt)
        try:
            fitted = sequence.evaluate(prompt[kept:])
        except BaseException:
            sequence.clear()
            raise
        if not fitted:
            return self._error(request, prompt, f"no KV cache room for the prompt (n_ctx={sequence.n_ctx})")
        prompt_seconds = time.perf_counter() - started
        sampling = Sampling(
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed if request.seed is not None else self._seed,
            stop=request.stop,
            ignore_eos=request.ignore_eos,
            jump_forward=constraint.jump_forward if constraint is not None else False,
        )
        try:
            result = run_decode(
                _Source(sequence, self._pieces, self._vocab),
                sampling=sampling,
                eog_tokens=self._eog,
                matcher=matcher,
                started=started,
                on_token=on_token,
            )
        except BaseException:
            sequence.clear()  # KeyboardInterrupt mid-decode: the cache bookkeeping may be off by a batch
            raise
        self.last_decode = result
        perf = llama_cpp.llama_perf_context(llm.ctx)
        self.last_perf = {
            "prompt_eval_ms": perf.t_p_eval_ms,
            "eval_ms": perf.t_eval_ms,
            "n_eval": perf.n_eval,
        }
        stats = GenerationStats.from_token_times(
            prompt_tokens=len(prompt),
            prompt_tokens_evaluated=len(prompt) - kept,
            prompt_seconds=prompt_seconds,
            token_times=tuple(result.token_times),
            forced_tokens=result.forced_tokens,
            mask_seconds=sum(result.grammar_seconds),
            peak_memory_bytes=self._peak_bytes(),
        )
        return Generation(
            text=result.text,
            tokens=tuple(result.tokens),
            finish_reason=result.finish_reason,
            constrained=matcher is not None,
            stats=stats,
            engine=constraint.engine if constraint is not None else None,
            error=result.error,
        )

    def _error(self, request: GenerationRequest, prompt: list[int], message: str) -> Generation:
        stats = GenerationStats(len(prompt), 0, 0.0, 0.0, 0, 0.0)
        engine = request.constraint.engine if request.constraint else None
        return Generation("", (), "error", request.constraint is not None, stats, engine, message)

    # -- memory and lifecycle --------------------------------------------------------------------------

    def _peak_bytes(self) -> int:
        report = self.memory_report()
        parts = ("model_bytes", "kv_bytes", "compute_bytes", "output_bytes")
        return sum(report.get(key, 0) for key in parts)

    def memory_report(self) -> Mapping[str, int]:
        """model_bytes (llama_model_size), kv_bytes / compute_bytes / output_bytes (the buffers llama.cpp
        allocated at load, summed over devices, from its load log), context_state_bytes (what
        llama_state_get_size reports now: the KV cells in use plus logits)."""
        llm = self._require()
        report = dict(self._buffers)
        report["model_bytes"] = int(llama_cpp.llama_model_size(llm.model))
        report["context_state_bytes"] = int(llama_cpp.llama_state_get_size(llm.ctx))
        return report

    def close(self) -> None:
        # grammars first: they point into the model's vocabulary
        if self._lltokenizer is not None:
            llguidance_engine.forget_tokenizer(self._lltokenizer)
            self._lltokenizer = None
        self._gbnf.clear()
        self._pieces.clear()
        if self._sequence is not None:
            self._sequence.close()
            self._sequence = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None
