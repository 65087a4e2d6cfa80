"""Convert a llama-architecture GGUF into an MLX model folder that `mlx_lm.load` (and `MlxBackend`) can load.

What the folder holds:
- `model.safetensors`: the weights as `mlx.core.load` reads them from the GGUF. Q4_0, Q4_1 and Q8_0 tensors
  stay quantized (MLX's affine layout: packed uint32 weights plus float16 `scales` and `biases`, group size
  32, which is exactly the GGUF block layout); other quantized types (K-quants, ...) are dequantized to
  float16 by MLX while reading, and float tensors are kept as they are. The default SmolLM2 Q4_1 file is all
  Q4_1 except the norms (float32), so the MLX model uses the very same 4-bit numbers as llama.cpp.
- `config.json`: llama hyper-parameters from the GGUF metadata, `rope_traditional: true` (llama.cpp's
  converter permutes the Q/K rows of llama weights for its interleaved "normal" RoPE, which is MLX's
  traditional RoPE, so no un-permutation is needed), and a `quantization` section with a per-layer entry
  for every layer whose bits differ from the default.
- `tokenizer.json`, `tokenizer_config.json`: built from the GGUF's vocabulary (see `convert_tokenizer.py`).
- `lapbench-conversion.json`: the source file's name and size, so a caller can tell what was converted.

The conversion is atomic: everything is written into a temporary folder beside `out_dir`, which is renamed
into place at the end (replacing an older conversion), so a crash leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from backends.base import BackendUnavailable, ModelLoadError
from backends.gguf import check_gguf_file, gguf_architecture
from backends.mlx.convert_tokenizer import build_tokenizer, end_of_generation_ids, tokenizer_config
from backends.registry import INSTALL_HINTS

# GGUF tensor names -> mlx-lm llama parameter names (substring replacements, order matters: "output" last).
_NAME_MAP = (
    ("token_embd", "model.embed_tokens"),
    ("output_norm", "model.norm"),
    ("blk.", "model.layers."),
    ("attn_q.", "self_attn.q_proj."),
    ("attn_k.", "self_attn.k_proj."),
    ("attn_v.", "self_attn.v_proj."),
    ("attn_output", "self_attn.o_proj"),
    ("attn_norm", "input_layernorm"),
    ("ffn_norm", "post_attention_layernorm"),
    ("ffn_gate", "mlp.gate_proj"),
    ("ffn_down", "mlp.down_proj"),
    ("ffn_up", "mlp.up_proj"),
    ("output.", "lm_head."),
)
GROUP_SIZE = 32
"""Block size of Q4_0/Q4_1/Q8_0, which mlx.core.load keeps as MLX affine groups."""


def convert_gguf_to_mlx(gguf: Path, out_dir: Path) -> Path:
    """Convert `gguf` into the MLX folder `out_dir` (created or atomically replaced); returns `out_dir`.
    Raises ModelLoadError naming the file when it is missing, truncated or not a supported llama GGUF, and
    BackendUnavailable (with the install command) when mlx or tokenizers is not installed."""
    try:
        import mlx.core as mx
        import tokenizers  # noqa: F401
    except ImportError as err:
        raise BackendUnavailable(f"converting to MLX needs {err.name}: {INSTALL_HINTS['mlx']}") from err

    gguf = Path(gguf).expanduser()
    out_dir = Path(out_dir).expanduser()
    check_gguf_file(gguf)
    arch = gguf_architecture(gguf)
    if arch != "llama":
        raise ModelLoadError(
            f"{gguf}: architecture {arch!r} is not supported by the MLX converter (only 'llama')"
        )
    try:
        loaded: Any = mx.load(str(gguf), format="gguf", return_metadata=True)
        tensors, metadata = loaded
    except (RuntimeError, ValueError) as err:
        raise ModelLoadError(f"{gguf}: cannot read the GGUF (truncated or corrupt?): {err}") from err
    meta = {k: _plain(v) for k, v in metadata.items()}

    weights = {_mlx_name(name): array for name, array in tensors.items()}
    config = _config(meta, weights)
    tokenizer = build_tokenizer(meta, gguf)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model folder should read like any other
    try:
        mx.save_safetensors(str(staging / "model.safetensors"), weights, metadata={"format": "mlx"})
        _write_json(staging / "config.json", config)
        tokenizer.save(str(staging / "tokenizer.json"))
        _write_json(staging / "tokenizer_config.json", tokenizer_config(meta))
        _write_json(
            staging / "lapbench-conversion.json",
            {"source": gguf.name, "source_bytes": gguf.stat().st_size, "converter": __name__},
        )
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _plain(value: Any) -> Any:
    """mlx metadata scalars are 0-d arrays; turn them into Python values (lists of strings stay lists)."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value


def _mlx_name(name: str) -> str:
    for old, new in _NAME_MAP:
        name = name.replace(old, new)
    return name


def _config(meta: dict[str, Any], weights: dict[str, Any]) -> dict[str, Any]:
    n_heads = int(meta["llama.attention.head_count"])
    hidden = int(meta["llama.embedding_length"])
    tokens = meta["tokenizer.ggml.tokens"]
    config: dict[str, Any] = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": hidden,
        "num_hidden_layers": int(meta["llama.block_count"]),
        "intermediate_size": int(meta["llama.feed_forward_length"]),
        "num_attention_heads": n_heads,
        "num_key_value_heads": int(meta.get("llama.attention.head_count_kv", n_heads)),
        "head_dim": int(meta.get("llama.rope.dimension_count", hidden // n_heads)),
        "rms_norm_eps": float(meta["llama.attention.layer_norm_rms_epsilon"]),
        "vocab_size": int(meta.get("llama.vocab_size", len(tokens))),
        "max_position_embeddings": int(meta.get("llama.context_length", 4096)),
        "rope_theta": float(meta.get("llama.rope.freq_base", 10000.0)),
        "rope_traditional": True,
        "tie_word_embeddings": "lm_head.weight" not in weights,
        "bos_token_id": int(meta.get("tokenizer.ggml.bos_token_id", 1)),
        "eos_token_id": end_of_generation_ids(meta),
    }
    quantization = _quantization(weights)
    if quantization:
        config["quantization"] = config["quantization_config"] = quantization
    return config


def _quantization(weights: dict[str, Any]) -> dict[str, Any]:
    """mlx-lm's quantization section: the most common bit width as default, other widths per layer."""
    bits_by_layer: dict[str, int] = {}
    for name, scales in weights.items():
        if name.endswith(".scales"):
            layer = name.removesuffix(".scales")
            packed = weights[f"{layer}.weight"]
            in_features = scales.shape[-1] * GROUP_SIZE
            bits_by_layer[layer] = packed.shape[-1] * 32 // in_features
    if not bits_by_layer:
        return {}
    counts: dict[int, int] = {}
    for bits in bits_by_layer.values():
        counts[bits] = counts.get(bits, 0) + 1
    default_bits = max(counts, key=lambda b: counts[b])
    section: dict[str, Any] = {"group_size": GROUP_SIZE, "bits": default_bits}
    for layer, bits in sorted(bits_by_layer.items()):
        if bits != default_bits:
            section[layer] = {"group_size": GROUP_SIZE, "bits": bits}
    return section


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Rename `staging` to `out_dir`; an older `out_dir` is moved aside first and removed afterwards."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
