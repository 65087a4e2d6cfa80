"""ModelArch from a models.toml entry (the last resort: no header, no config.json at hand)."""

from __future__ import annotations

from typing import Any

from runner.errors import ConfigError
from runner.fit.arch import LayerCache, LayerKind, ModelArch, swa_flags
from runner.models.catalog import ModelEntry, Quant


def _v(field: Any) -> Any:
    return None if field is None else field.value


# Measured on published files: Q4_K_M averages 4.85-5.05 bits per weight. Used only for a catalog
# entry that lists no quant at all, so that `fit --all` can still say whether a typical 4-bit file would fit.
TYPICAL_Q4_BPW = 4.9


def quant_bytes(entry: ModelEntry, quant: Quant | None) -> int | None:
    """File size of the quant, else total parameters x bits per weight."""
    if quant is None:
        total = _v(entry.params.total)
        return int(total * TYPICAL_Q4_BPW / 8) if total else None
    if quant.size_bytes is not None:
        return int(quant.size_bytes.value)
    total, bpw = _v(entry.params.total), _v(quant.bits_per_weight)
    return int(total * bpw / 8) if total and bpw else None


def arch_from_catalog(entry: ModelEntry, quant: Quant | None) -> ModelArch:
    a = entry.arch
    n_layers, n_embd, n_head = _v(a.layers), _v(a.hidden_size), _v(a.attention_heads)
    if not (n_layers and n_embd and n_head):
        raise ConfigError(
            f"models.toml entry {entry.id!r} lacks layers/hidden_size/attention_heads",
            hint="pass a GGUF file or URL instead; its header has the numbers",
        )
    kv_heads = _v(a.kv_heads) or n_head
    key_len = _v(a.key_length) or n_embd // n_head
    value_len = _v(a.value_length) or key_len
    window = _v(a.sliding_window) or 0
    linear = _v(a.linear_attention_layers) or 0
    full_count = _v(a.full_attention_layers)
    kv_lora = _v(a.mla_kv_lora_rank) or 0
    swa = swa_flags(n_layers, _v(a.sliding_window_pattern)) if window else [False] * n_layers
    if window and full_count is not None and not a.sliding_window_pattern:
        swa = [i >= full_count for i in range(n_layers)]
    state_each = (_v(a.linear_state_bytes) or 0) // linear if linear else 0
    layers: list[LayerCache] = []
    for i in range(n_layers):
        if i < linear:
            layers.append(LayerCache("recurrent", state_bytes=state_each))
        elif kv_lora:
            extra = _v(a.dsa_index_head_dim) or 0
            layers.append(LayerCache("full", k_elems=kv_lora + (_v(a.mla_rope_head_dim) or 0) + extra))
        else:
            kind: LayerKind = "swa" if swa[i] else "full"
            layers.append(LayerCache(kind, kv_heads * key_len, kv_heads * value_len, window if swa[i] else 0))
    weights = quant_bytes(entry, quant)
    total, active = _v(entry.params.total), _v(entry.params.active)
    active_bytes = int(weights * active / total) if weights and total and active else weights
    experts, used = _v(a.experts) or 0, _v(a.experts_active) or 0
    ff = _v(a.intermediate_size) or 4 * n_embd
    notes = () if quant else (f"no quant listed: weights assume a typical Q4_K_M ({TYPICAL_Q4_BPW} bpw)",)
    return ModelArch(
        arch=a.gguf_arch or entry.family, notes=notes, n_layers=n_layers, n_embd=n_embd, n_vocab=_v(a.vocab_size) or 0,
        n_head=n_head, n_ff=ff, head_dim=key_len, layers=tuple(layers), max_context=_v(a.max_context),
        n_params=total, weights_bytes=weights, active_weights_bytes=active_bytes, n_expert=experts,
        n_expert_used=used, source=f"models.toml:{entry.id}" + (f":{quant.name}" if quant else ""),
    )  # fmt: skip
