"""Accuracy of `lapbench fit` on the models that run here.

1. Memory: for SmolLM2-135M Q4_1 and Gemma-3-270M Q4_K_M at contexts 512, 2048 and 8192, the predicted peak
   memory (the fit model for llama.cpp on a CPU, with the settings lapbench's llama.cpp backend uses:
   llama-cpp-python defaults, n_ubatch 512, f16 cache, full-size SWA cache, no flash attention) versus the
   measured peak RSS (VmHWM) of a fresh subprocess that loads the model with that context, evaluates a prompt
   of ctx - 64 tokens (so the whole context is used, the peak the fit check must bound) and generates 64 tokens.
2. Remote: bytes transferred to read each file's header from a Range-capable HTTP server on 127.0.0.1,
   versus the file size.

    python scripts/bench_fit.py [--json] [--ctx 512 --ctx 2048] [--model smollm2]
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
from runner.fit.memory import RuntimeConfig, estimate_memory  # noqa: E402
from runner.fit.resolve import local_gguf, remote_gguf  # noqa: E402
from tests.support.range_server import serve_files  # noqa: E402

MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma": "gemma-3-270m-q4_k_m.gguf"}
GENERATE = 64

MEASURE = r"""
import sys, llama_cpp
path, ctx, gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = llama_cpp.Llama(model_path=path, n_ctx=ctx, verbose=False, seed=1)
text = b"The quick brown fox jumps over the lazy dog. " * (ctx // 4 + 8)
tokens = llm.tokenize(text, add_bos=True)[: ctx - gen]
out = llm.create_completion(prompt=tokens, max_tokens=gen, temperature=0.0)
hwm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(out["usage"]["completion_tokens"], hwm)
"""


def measure_peak_rss(path: Path, ctx: int) -> tuple[int, int]:
    """(generated tokens, peak RSS bytes) of a fresh process; the repetitive prompt keeps greedy decoding
    going, and the count is reported so that an early end of text would be visible."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(ctx), str(GENERATE)],
        capture_output=True, text=True, check=True, timeout=3600,
    )  # fmt: skip
    generated, hwm = out.stdout.strip().splitlines()[-1].split()
    return int(generated), int(hwm)


def accuracy(models: list[str], contexts: list[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for key in models:
        path = paths.models_dir() / MODELS[key]
        arch = local_gguf(path).arch
        for ctx in contexts:
            cfg = RuntimeConfig(ctx=ctx, swa_full=True, flash_attn=False, device="cpu")
            predicted = estimate_memory(arch, cfg).total_bytes
            generated, measured = measure_peak_rss(path, ctx)
            rows.append({
                "model": MODELS[key], "ctx": ctx, "predicted_bytes": predicted, "measured_bytes": measured,
                "rel_error": round((predicted - measured) / measured, 4),
            })  # fmt: skip
            print(f"{MODELS[key]:36s} ctx {ctx:5d}: predicted {predicted / 2**20:8.1f} MiB, measured "
                  f"{measured / 2**20:8.1f} MiB, error {rows[-1]['rel_error']:+.2%} ({generated} tokens generated)",
                  file=sys.stderr)  # fmt: skip
    return rows


def remote(models: list[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with serve_files(paths.models_dir()) as (url, stats):
        for key in models:
            before = stats.bytes_sent
            found = remote_gguf(f"{url}/{MODELS[key]}")
            assert found.bytes_read == stats.bytes_sent - before, "client and server disagree on bytes sent"
            rows.append({"model": MODELS[key], "bytes_read": found.bytes_read, "file_size": found.file_size})
            print(f"{MODELS[key]:36s} remote header: {found.bytes_read / 2**20:.2f} MiB of "
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
    parser.add_argument("--skip-memory", action="store_true", help="only the remote measurement")
    args = parser.parse_args()
    models = args.model or list(MODELS)
    result = {
        "accuracy": [] if args.skip_memory else accuracy(models, args.ctx or [512, 2048, 8192]),
        "remote": remote(models),
    }
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
