"""ModelArch from a Hugging Face / MLX `config.json`: of a local model folder (plus the tensor bytes that
its safetensors headers declare), or fetched from the hub by `runner.fit.hub`. A models.toml entry becomes
a ModelArch in `runner.fit.catalog_arch`."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from runner.errors import ModelFileError
from runner.fit.arch import LayerCache, LayerKind, ModelArch, recurrent_state_bytes, swa_flags

MAX_SAFETENSORS_HEADER = 100 << 20


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    inner = config.get("text_config")
    return {**config, **inner} if isinstance(inner, dict) else config


def arch_from_config(config: dict[str, Any], weights_bytes: int | None, source: str) -> ModelArch:
    c = _text_config(config)
    n_layers = int(c["num_hidden_layers"])
    n_embd = int(c["hidden_size"])
    n_head = int(c["num_attention_heads"])
    kv_heads = int(c.get("num_key_value_heads", n_head))
    head_dim = int(c.get("head_dim") or n_embd // n_head)
    value_dim = int(c.get("v_head_dim", head_dim))
    window = int(c.get("sliding_window") or 0) if c.get("use_sliding_window", True) else 0
    layer_types: list[str] = list(c.get("layer_types") or [])
    if len(layer_types) != n_layers:
        interval = int(c.get("full_attention_interval", 0) or 0)
        pattern = c.get("sliding_window_pattern")
        swa = swa_flags(n_layers, pattern) if window and pattern else [False] * n_layers
        layer_types = [
            "linear_attention"
            if interval and (i + 1) % interval
            else "sliding_attention"
            if swa[i]
            else "full_attention"
            for i in range(n_layers)
        ]
    kv_lora = int(c.get("kv_lora_rank") or 0)
    rope_dim = int(c.get("qk_rope_head_dim") or 0)
    state = recurrent_state_bytes(
        int(c.get("linear_conv_kernel_dim", 4)),
        int(c.get("linear_num_value_heads", 0)) * int(c.get("linear_value_head_dim", 0)),
        int(c.get("linear_num_key_heads", 0)),
        int(c.get("linear_key_head_dim", 0)),
    )
    layers = []
    for kind_name in layer_types:
        if kind_name == "linear_attention":
            layers.append(LayerCache("recurrent", state_bytes=state))
        elif kv_lora:
            layers.append(LayerCache("full", k_elems=kv_lora + rope_dim))
        else:
            kind: LayerKind = "swa" if kind_name == "sliding_attention" and window else "full"
            layers.append(
                LayerCache(kind, kv_heads * head_dim, kv_heads * value_dim, window if kind == "swa" else 0)
            )
    n_expert = int(c.get("num_experts") or c.get("num_local_experts") or c.get("n_routed_experts") or 0)
    used = int(c.get("num_experts_per_tok") or c.get("experts_per_token") or 0)
    ff = int(c.get("intermediate_size") or 4 * n_embd)
    if n_expert:
        ff = max(ff, int(c.get("moe_intermediate_size") or ff) * max(used, 1))
    return ModelArch(
        arch=str(c.get("model_type", "unknown")), n_layers=n_layers, n_embd=n_embd, n_vocab=int(c.get("vocab_size", 0)),
        n_head=n_head, n_ff=ff, head_dim=head_dim, layers=tuple(layers),
        max_context=c.get("max_position_embeddings"), weights_bytes=weights_bytes,
        active_weights_bytes=None if n_expert else weights_bytes, n_expert=n_expert, n_expert_used=used,
        source=source,
    )  # fmt: skip


def safetensors_data_bytes(path: Path) -> int:
    """Tensor bytes of one .safetensors file, from its JSON header (8-byte length + JSON)."""
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise ModelFileError(f"{path}: truncated safetensors file")
        (n,) = struct.unpack("<Q", raw)
        if n > MAX_SAFETENSORS_HEADER or n > path.stat().st_size:
            raise ModelFileError(f"{path}: safetensors header length {n} is absurd")
        try:
            header = json.loads(fh.read(n))
        except ValueError as err:
            raise ModelFileError(f"{path}: safetensors header is not JSON ({err})") from err
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    return int(max(ends, default=0))


def arch_from_folder(folder: Path) -> ModelArch:
    """An MLX or safetensors model folder: config.json plus the tensor bytes of its safetensors files."""
    config_path = folder / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{config_path}: cannot read the model config ({err})") from err
    weights = sum(safetensors_data_bytes(p) for p in sorted(folder.glob("*.safetensors")))
    return arch_from_config(config, weights or None, str(folder))
