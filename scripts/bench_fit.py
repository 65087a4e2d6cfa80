"""Accuracy of `lapbench fit` on the models that run here.

1. Memory, per runtime: for SmolLM2-135M Q4_1 and Gemma-3-270M Q4_K_M at each context, the predicted peak
   memory (the fit model on a CPU with the runtime's cache layout) versus the measured peak RSS (VmHWM) of a
   fresh subprocess that loads the model with that runtime's settings, evaluates a prompt of ctx - 64 tokens
   (the whole context is used: the peak the fit check must bound) and generates 64 tokens.
   - lapbench: lapbench's own llama.cpp backend, as `lapbench run` loads it (window-sized SWA cache);
   - llama-cpp-python: `Llama(n_ctx=...)` with its defaults (full-size SWA cache, no flash attention);
   - llama-server, ollama: a llama.cpp context with those servers' settings (4 slots in a unified cache or
     one sequence, window-sized SWA cache, flash attention, n_batch 2048 / 512), built in the subprocess with
     the same libllama (the process overhead is Python's, as in the fit model);
   - mlx: mlx-lm on the MLX conversion of SmolLM2 (Linux CPU here), reported.
2. Speed: each model's prompt and decode speed measured through the llama.cpp backend (runner.fit.calibrate),
   and predicted from the other model's measurement as a calibration (runner.fit.speed), with the kernel
   rates of the target's weight types measured on re-quantized copies of the calibrating model
   (runner.fit.kernels; never on the target itself).
3. Remote: bytes transferred to read each file's header from a Range-capable HTTP server on 127.0.0.1.

    python scripts/bench_fit.py [--json] [--ctx 512 --ctx 2048] [--model smollm2] [--runtime lapbench]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runner import paths  # noqa: E402
from runner.fit import kernels  # noqa: E402
from runner.fit.api import FitOptions, runtime_for  # noqa: E402
from runner.fit.calibrate import Calibration, measure_speed  # noqa: E402
from runner.fit.hf_config import arch_from_folder  # noqa: E402
from runner.fit.memory import estimate_memory  # noqa: E402
from runner.fit.resolve import local_gguf, remote_gguf  # noqa: E402
from runner.fit.speed import bytes_per_token, from_calibration, prompt_flops_per_token  # noqa: E402
from tests.support.range_server import serve_files  # noqa: E402

MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma": "gemma-3-270m-q4_k_m.gguf"}
MLX_FOLDERS = {"smollm2": "mlx/smollm2-135m-q4_1"}
RUNTIMES = ("lapbench", "llama-cpp-python", "llama-server", "ollama", "mlx")
GENERATE = 64

MEASURE = r"""
import sys
runtime, path, ctx, gen = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text = "The quick brown fox jumps over the lazy dog. " * (ctx // 4 + 8)

def hwm():
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))

if runtime == "lapbench":
    from backends.base import GenerationRequest, LoadConfig
    from backends.registry import create_backend
    b = create_backend("llama-cpp")
    b.load(LoadConfig(model=path, n_ctx=ctx))
    prompt = b.detokenize(b.tokenize(text)[: ctx - gen - 2])
    out = b.generate(GenerationRequest(prompt=prompt, max_tokens=gen, ignore_eos=True))
    print(out.stats.generated_tokens, hwm())
elif runtime == "llama-cpp-python":
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=ctx, verbose=False, seed=1)
    tokens = llm.tokenize(text.encode(), add_bos=True)[: ctx - gen]
    out = llm.create_completion(prompt=tokens, max_tokens=gen, temperature=0.0)
    print(out["usage"]["completion_tokens"], hwm())
elif runtime == "mlx":
    from mlx_lm import load, stream_generate
    model, tok = load(path)
    tokens = tok.encode(text)[: ctx - gen]
    n = sum(1 for _ in stream_generate(model, tok, tokens, max_tokens=gen))
    print(n, hwm())
else:  # llama-server / ollama context settings on the same libllama
    import llama_cpp
    import numpy as np
    server = runtime == "llama-server"
    llama_cpp.llama_backend_init()
    model = llama_cpp.llama_model_load_from_file(path.encode(), llama_cpp.llama_model_default_params())
    cp = llama_cpp.llama_context_default_params()
    cp.n_ctx, cp.n_batch, cp.n_ubatch = ctx, (2048 if server else 512), 512
    cp.n_seq_max, cp.kv_unified, cp.swa_full = (4 if server else 1), server, False
    cp.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO
    lctx = llama_cpp.llama_init_from_model(model, cp)
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    raw = text.encode()
    buf = (llama_cpp.llama_token * (len(raw) + 16))()
    n = llama_cpp.llama_tokenize(vocab, raw, len(raw), buf, len(raw) + 16, True, False)
    tokens = list(buf[: min(n, ctx - gen)])
    batch = llama_cpp.llama_batch_init(cp.n_batch, 0, 1)
    def decode(toks, start):
        for s in range(0, len(toks), cp.n_batch):
            chunk = toks[s : s + cp.n_batch]
            for i, t in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = t, start + s + i, 1
                batch.seq_id[i][0], batch.logits[i] = 0, False
            batch.logits[len(chunk) - 1] = True
            batch.n_tokens = len(chunk)
            assert llama_cpp.llama_decode(lctx, batch) == 0
    decode(tokens, 0)
    pos = len(tokens)
    for _ in range(gen):
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(lctx, -1), shape=(n_vocab,))
        decode([int(logits.argmax())], pos)
        pos += 1
    print(gen, hwm())
"""


def measure_peak_rss(runtime: str, path: Path, ctx: int) -> tuple[int, int]:
    """(generated tokens, peak RSS bytes) of a fresh process; the repetitive prompt keeps greedy decoding
    going, and the count is reported so that an early end of text would be visible."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, runtime, str(path), str(ctx), str(GENERATE)],
        capture_output=True, text=True, check=True, timeout=3600, cwd=REPO,
    )  # fmt: skip
    generated, hwm = out.stdout.strip().splitlines()[-1].split()
    return int(generated), int(hwm)


def accuracy(models: list[str], contexts: list[int], runtimes: list[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for key in models:
        for runtime in runtimes:
            if runtime == "mlx":
                if key not in MLX_FOLDERS:
                    continue
                path = paths.models_dir() / MLX_FOLDERS[key]
                arch = arch_from_folder(path)
            else:
                path = paths.models_dir() / MODELS[key]
                arch = local_gguf(path).arch
            for ctx in contexts:
                cfg = runtime_for(FitOptions(ctx=ctx, runtime=runtime, device="cpu"))
                predicted = estimate_memory(arch, cfg).total_bytes
                generated, measured = measure_peak_rss(runtime, path, ctx)
                rows.append({
                    "model": path.name, "runtime": runtime, "ctx": ctx, "predicted_bytes": predicted,
                    "measured_bytes": measured, "rel_error": round((predicted - measured) / measured, 4),
                })  # fmt: skip
                print(f"{path.name:34s} {runtime:16s} ctx {ctx:5d}: predicted {predicted / 2**20:7.1f} MiB, "
                      f"measured {measured / 2**20:7.1f} MiB, error {rows[-1]['rel_error']:+.2%} "
                      f"({generated} tokens generated)", file=sys.stderr)  # fmt: skip
    return rows


def speed(models: list[str], rounds: int) -> list[dict[str, object]]:
    """Each model's speed measured `rounds` times, interleaved (the machine may be shared: the fastest round
    of each is kept, as a calibration does), then each predicted from every other's as a calibration."""
    paths_by = {key: paths.models_dir() / MODELS[key] for key in models}
    best: dict[str, tuple[float, float, int, int]] = {}
    for _ in range(rounds):
        for key, path in paths_by.items():
            m = measure_speed(path)
            old = best.get(key, (0.0, 0.0, m.prompt_tokens, m.generated_tokens))
            best[key] = (max(old[0], m.pp_tps), max(old[1], m.tg_tps), m.prompt_tokens, m.generated_tokens)
    archs = {key: local_gguf(path).arch for key, path in paths_by.items()}
    rows: list[dict[str, object]] = []
    for target in models:
        for source in models:
            if source == target:
                continue
            pp, tg, n_prompt, n_gen = best[source]
            cfg = runtime_for(FitOptions(ctx=n_prompt + n_gen, device="cpu"))
            depth = n_prompt + n_gen // 2
            cal = Calibration(
                model=MODELS[source], backend="llama-cpp", pp_tps=pp, tg_tps=tg, prompt_tokens=n_prompt,
                generated_tokens=n_gen, bytes_per_token=bytes_per_token(archs[source], cfg, depth),
                prompt_flops=prompt_flops_per_token(archs[source], n_prompt), machine="", created_at="",
            )  # fmt: skip
            cal = kernels.base_rates(cal, archs[source])  # then the target's weight types, on the source
            cal = kernels.measure_types(cal, kernels.missing_types(archs[target], cal), paths_by[source])
            t_pp, t_tg, t_prompt, t_gen = best[target]
            pred = from_calibration(archs[target], cfg, cal, depth=t_prompt + t_gen // 2, prompt=t_prompt)
            assert pred.decode_tps and pred.prompt_tps
            rows.append({
                "model": MODELS[target], "calibrated_on": MODELS[source],
                "predicted_tg": pred.decode_tps, "measured_tg": t_tg,
                "predicted_pp": pred.prompt_tps, "measured_pp": t_pp,
                "rel_error_tg": round((pred.decode_tps - t_tg) / t_tg, 4),
                "rel_error_pp": round((pred.prompt_tps - t_pp) / t_pp, 4),
                "kernel_rates_gflops": {t: round(r / 1e9, 2) for t, r in sorted(cal.type_rates.items())},
            })  # fmt: skip
            print(f"{MODELS[target]:34s} from {MODELS[source]:34s}: decode {pred.decode_tps:6.1f} vs "
                  f"{t_tg:6.1f} tok/s ({rows[-1]['rel_error_tg']:+.1%}), prompt {pred.prompt_tps:6.1f} vs "
                  f"{t_pp:6.1f} tok/s ({rows[-1]['rel_error_pp']:+.1%})", file=sys.stderr)  # fmt: skip
    return rows


def remote(models: list[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with serve_files(paths.models_dir()) as (url, stats):
        for key in models:
            before = stats.bytes_sent
            found = remote_gguf(f"{url}/{MODELS[key]}")
            assert found.bytes_read == stats.bytes_sent - before, "client and server disagree on bytes sent"
            rows.append({"model": MODELS[key], "bytes_read": found.bytes_read, "file_size": found.file_size})
            print(f"{MODELS[key]:34s} remote header: {found.bytes_read / 2**20:.2f} MiB of "
                  f"{found.file_size / 2**20:.1f} MiB ({found.bytes_read / found.file_size:.2%})", file=sys.stderr)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument(
        "--ctx", type=int, action="append", help="context(s) to measure (default 512 2048 8192)"
    )
    parser.add_argument("--model", choices=sorted(MODELS), action="append", help="model(s) (default both)")
    parser.add_argument("--runtime", choices=RUNTIMES, action="append", help="runtime(s) (default all)")
    parser.add_argument(
        "--speed-rounds", type=int, default=3, help="interleaved speed measurements per model"
    )
    parser.add_argument("--skip-memory", action="store_true", help="no peak-memory measurement")
    parser.add_argument("--skip-speed", action="store_true", help="no speed measurement")
    args = parser.parse_args()
    models = args.model or list(MODELS)
    result = {
        "accuracy": []
        if args.skip_memory
        else accuracy(models, args.ctx or [512, 2048, 8192], args.runtime or list(RUNTIMES)),
        "speed": [] if args.skip_speed or len(models) < 2 else speed(models, args.speed_rounds),
        "remote": remote(models),
    }
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
