"""Convert a llama-architecture GGUF (default: the bundled SmolLM2-135M Q4_1) into an MLX model folder.

    python scripts/convert_gguf_to_mlx.py                       # default model -> <models>/mlx/smollm2-135m-q4_1
    python scripts/convert_gguf_to_mlx.py MODEL.gguf OUT_DIR [--json]

See backends/mlx/convert.py for what the folder holds (quantized weights kept, rope_traditional, tokenizer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from backends.base import BackendError
from backends.mlx.convert import convert_gguf_to_mlx
from runner.paths import models_dir

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_FOLDER = Path("mlx") / "smollm2-135m-q4_1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("gguf", nargs="?", type=Path, help=f"GGUF file (default: <models>/{DEFAULT_GGUF})")
    parser.add_argument(
        "out_dir", nargs="?", type=Path, help=f"output folder (default: <models>/{DEFAULT_FOLDER})"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    gguf = args.gguf or models_dir() / DEFAULT_GGUF
    out_dir = args.out_dir or models_dir() / DEFAULT_FOLDER
    started = time.perf_counter()
    try:
        folder = convert_gguf_to_mlx(gguf, out_dir)
    except BackendError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    seconds = time.perf_counter() - started
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir())}
    if args.json:
        print(json.dumps({"gguf": str(gguf), "mlx_folder": str(folder), "seconds": seconds, "files": files}))
    else:
        print(f"converted {gguf} -> {folder} in {seconds:.1f} s ({sum(files.values()) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
