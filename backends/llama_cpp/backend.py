"""`LlamaCppBackend`: load a GGUF, tokenize, and run one generation through the shared decode loop.

Stats clock: a call's clock starts once the prompt is rendered and tokenized and the grammar compiled
(compiled grammars are cached per model; the first constrained call also builds the llguidance tokenizer,
~0.3 s), so prompt_seconds/time_to_first_token measure the model, not the set-up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import llama_cpp

from backends.base import (
    BackendError,
    Capabilities,
    Generation,
    GenerationRequest,
    GenerationStats,
    LoadConfig,
    ModelLoadError,
    TokenCallback,
)
from backends.chat_template import ChatTemplate
from backends.gguf import check_gguf_file
from backends.grammar import ENGINE_NAMES
from backends.grammar.decode import DecodeResult, Sampling
from backends.llama_cpp.grammars import Grammars
from backends.llama_cpp.load_log import LoadLog
from backends.llama_cpp.prefix_cache import SavedStates
from backends.llama_cpp.sequence import KvSequence, SequenceSource
from backends.prefix_cache import max_bytes_option
from backends.thinking import ThinkFormat, decode_with_thinking, open_segment, requested_format


class LlamaCppBackend:
    name = "llama-cpp"
    capabilities = Capabilities(grammar_engines=ENGINE_NAMES, jump_forward=True, prefix_cache=True)

    def __init__(self) -> None:
        self._llm: Any = None
        self._path: Path | None = None
        self._sequence: KvSequence | None = None
        self._saved = SavedStates(0)
        self._grammars: Grammars | None = None
        self._pieces: dict[int, bytes] = {}
        self._seed = 0
        self._buffers: dict[str, int] = {}
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
            with LoadLog() as log:
                llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=config.n_ctx,
                    n_batch=config.n_batch,
                    n_threads=config.n_threads,
                    n_threads_batch=config.n_threads,
                    n_gpu_layers=config.n_gpu_layers,
                    seed=config.seed,
                    # sliding-window layers keep only their window (as llama-server does), not n_ctx cells
                    swa_full=False,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelLoadError(
                f"{path}: llama.cpp could not load it: {err} {log.last_error()}".strip()
            ) from err
        self._llm, self._path, self._buffers, self._seed = llm, path, log.buffers, config.seed
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        n_vocab = llm.n_vocab()
        self._eog = [t for t in range(n_vocab) if llama_cpp.llama_vocab_is_eog(self._vocab, t)]
        self._sequence = KvSequence(llm.ctx, llm.n_ctx(), llm.n_batch, n_vocab)
        self._saved = SavedStates(max_bytes_option(config.options))
        self._grammars = Grammars(self._vocab, n_vocab, self._eog)
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

    def render_prompt(self, request: GenerationRequest, think: ThinkFormat | None = None) -> list[int]:
        """The prompt's tokens: the raw prompt, or the messages through the model's chat template (with
        the thinking segment opened when `think` is given)."""
        if request.prompt is not None:
            return self.tokenize(request.prompt, add_special=True)
        assert self.template is not None
        text = self.template.render(request.messages)
        text = open_segment(text, think) if think is not None else text
        add_bos = bool(self._add_bos) and not (self._bos_text and text.startswith(self._bos_text))
        return self.tokenize(text, add_special=add_bos)

    # -- generation ------------------------------------------------------------------------------------

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        llm = self._require()
        assert self._sequence is not None and self._grammars is not None
        constraint = request.constraint
        think = requested_format(request, self.template.source if self.template else "", str(self._path))
        compiling = time.perf_counter()
        matcher = self._grammars.matcher(constraint) if constraint is not None else None
        compile_seconds = time.perf_counter() - compiling
        prompt = self.render_prompt(request, think)
        started = time.perf_counter()
        llama_cpp.llama_perf_context_reset(llm.ctx)
        sequence = self._sequence
        if not prompt or len(prompt) >= sequence.n_ctx:
            return self._error(
                request, prompt, f"prompt of {len(prompt)} tokens does not fit n_ctx={sequence.n_ctx}"
            )
        kept = self._saved.reuse(sequence, prompt)
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
            repetition=request.repetition,
        )
        try:
            result, thought = decode_with_thinking(
                SequenceSource(sequence, self._pieces, self._vocab),
                think,
                request.think_tokens,
                sampling=sampling,
                eog_tokens=self._eog,
                matcher=matcher,
                tokenize=self.tokenize,
                started=started,
                on_token=on_token,
            )
        except BaseException:
            sequence.clear()  # KeyboardInterrupt mid-decode: the cache bookkeeping may be off by a batch
            raise
        self.last_decode = result
        self._saved.save(sequence)
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
            compile_seconds=compile_seconds,
            reasoning_tokens=len(thought.tokens) if thought is not None else 0,
        )
        return Generation(
            text=result.text,
            tokens=tuple(result.tokens),
            finish_reason=result.finish_reason,
            constrained=matcher is not None,
            stats=stats,
            engine=constraint.engine if constraint is not None else None,
            error=result.error,
            reasoning=thought.text if thought is not None else "",
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
        llama_state_get_size reports now: the KV cells in use plus logits), prefix_cache_bytes (the KV states
        saved for prompt reuse, in host memory)."""
        llm = self._require()
        report = dict(self._buffers)
        report["model_bytes"] = int(llama_cpp.llama_model_size(llm.model))
        report["context_state_bytes"] = int(llama_cpp.llama_state_get_size(llm.ctx))
        report["prefix_cache_bytes"] = self._saved.store.total_bytes
        return report

    def close(self) -> None:
        if self._grammars is not None:  # first: the grammars point into the model's vocabulary
            self._grammars.close()
            self._grammars = None
        self._pieces.clear()
        self._saved.clear()
        if self._sequence is not None:
            self._sequence.close()
            self._sequence = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None
