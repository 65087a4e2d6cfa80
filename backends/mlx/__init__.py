"""MLX backend (mlx-lm): Metal on macOS, `mlx[cpu]` on Linux; and the GGUF -> MLX folder converter.

- `backend.py`: `MlxBackend` — loading, one generation call and its stats, memory figures;
- `prompt_cache.py`: mlx-lm's KV cache reused across calls by common prefix (live or saved), chunked prefill;
- `decode.py`: the two decode loops (mlx-lm's `generate_step`, or the shared grammar loop);
- `convert.py`, `convert_tokenizer.py`: a llama GGUF -> an MLX model folder (weights, config, tokenizer).

Only `is_mlx_folder` lives here: `backends.registry` uses it without importing mlx.
"""

from __future__ import annotations

from pathlib import Path


def is_mlx_folder(path: Path) -> bool:
    """A folder `mlx_lm.load` can read: config.json plus *.safetensors weights."""
    return path.is_dir() and (path / "config.json").is_file() and any(path.glob("*.safetensors"))
