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
- `tokenizer.json`: a byte-level BPE built with `tokenizers` from `tokenizer.ggml.tokens` / `merges`, with the
  pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre`, control tokens as special added tokens;
  `tokenizer_config.json` carries bos/eos/unk/pad and the GGUF chat template.
- `lapbench-conversion.json`: the source file's name and size, so a caller can tell what was converted.

The conversion is atomic: everything is written into a temporary folder beside `out_dir`, which is renamed
into place at the end (replacing an older conversion), so a crash leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from backends.base import BackendUnavailable, ModelLoadError

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

# llama.cpp's pre-tokenizer per `tokenizer.ggml.pre`, expressed as `tokenizers` pre-tokenizers.
_DIGIT_SPLITTING_PRE = {"smollm", "starcoder", "refact", "codeshell"}
_PLAIN_GPT2_PRE = {"gpt-2", "gpt2", "default", "phi-2", "jais"}
CONTROL_TOKEN = 3
# llama.cpp's end-of-generation tokens by text (llama-vocab.cpp), including the FIM pad/repo/separator ones.
_EOG_TEXTS = {
    "<|endoftext|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<end_of_turn>",
    "<|end|>",
    "<EOT>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<reponame>",
    "<fim-repo>",
    "<REPO>",
    "<|file_sep|>",
}
USER_DEFINED_TOKEN = 4


def convert_gguf_to_mlx(gguf: Path, out_dir: Path) -> Path:
    """Convert `gguf` into the MLX folder `out_dir` (created or atomically replaced); returns `out_dir`.
    Raises ModelLoadError naming the file when it is missing, truncated or not a supported llama GGUF, and
    BackendUnavailable (with the install command) when mlx or tokenizers is not installed."""
    try:
        import mlx.core as mx
        import tokenizers  # noqa: F401
    except ImportError as err:
        raise BackendUnavailable(f'converting to MLX needs {err.name}: pip install -e ".[mlx]"') from err

    gguf = Path(gguf).expanduser()
    out_dir = Path(out_dir).expanduser()
    _check_gguf_file(gguf)
    arch = _architecture(gguf)
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
    tokenizer = _tokenizer(meta, gguf)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model folder should read like any other
    try:
        mx.save_safetensors(str(staging / "model.safetensors"), weights, metadata={"format": "mlx"})
        _write_json(staging / "config.json", config)
        tokenizer.save(str(staging / "tokenizer.json"))
        _write_json(staging / "tokenizer_config.json", _tokenizer_config(meta))
        _write_json(
            staging / "lapbench-conversion.json",
            {"source": gguf.name, "source_bytes": gguf.stat().st_size, "converter": "backends.mlx_convert"},
        )
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _check_gguf_file(gguf: Path) -> None:
    if not gguf.is_file():
        raise ModelLoadError(f"{gguf}: GGUF file not found")
    with gguf.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelLoadError(f"{gguf}: not a GGUF file (bad magic bytes)")


# GGUF value types -> byte size of fixed-size scalars (8 = string, 9 = array are variable-sized).
_GGUF_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def _architecture(gguf: Path) -> str | None:
    """`general.architecture` read from the header's key/value section only (mlx.core.load would decode
    every tensor first and fails outright on K-quants, gguf.GGUFReader parses the whole vocabulary)."""
    with gguf.open("rb") as handle:
        try:
            handle.seek(8)  # magic + version
            _, n_kv = struct.unpack("<QQ", _read(handle, 16))
            for _ in range(n_kv):
                key = _read(handle, struct.unpack("<Q", _read(handle, 8))[0]).decode("utf-8")
                kind = struct.unpack("<I", _read(handle, 4))[0]
                if key == "general.architecture" and kind == 8:
                    return _read(handle, struct.unpack("<Q", _read(handle, 8))[0]).decode("utf-8")
                _skip_value(handle, kind)
        except (struct.error, UnicodeDecodeError, ValueError, EOFError) as err:
            raise ModelLoadError(
                f"{gguf}: cannot read the GGUF header (truncated or corrupt?): {err}"
            ) from err
    return None


def _read(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise EOFError(f"header ends after {handle.tell()} bytes")
    return data


def _skip_value(handle: BinaryIO, kind: int) -> None:
    if kind == 8:
        handle.seek(struct.unpack("<Q", _read(handle, 8))[0], 1)
    elif kind == 9:
        item_kind, count = struct.unpack("<IQ", _read(handle, 12))
        if item_kind in _GGUF_SCALAR_BYTES:
            handle.seek(count * _GGUF_SCALAR_BYTES[item_kind], 1)
        else:
            for _ in range(count):
                _skip_value(handle, item_kind)
    elif kind in _GGUF_SCALAR_BYTES:
        handle.seek(_GGUF_SCALAR_BYTES[kind], 1)
    else:
        raise ValueError(f"unknown GGUF value type {kind}")


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
        "eos_token_id": _end_of_generation_ids(meta),
    }
    quantization = _quantization(weights)
    if quantization:
        config["quantization"] = config["quantization_config"] = quantization
    return config


def _end_of_generation_ids(meta: dict[str, Any]) -> list[int]:
    """eos, eot and eom ids plus the control tokens llama.cpp also treats as end-of-generation by their text,
    so that both backends stop on the same tokens (SmolLM2: <|im_end|> and <|endoftext|>)."""
    ids = [
        int(meta[f"tokenizer.ggml.{k}_token_id"])
        for k in ("eos", "eot", "eom")
        if f"tokenizer.ggml.{k}_token_id" in meta
    ]
    types = meta["tokenizer.ggml.token_type"].tolist()
    for index, text in enumerate(meta["tokenizer.ggml.tokens"]):
        if text in _EOG_TEXTS and int(types[index]) == CONTROL_TOKEN and index not in ids:
            ids.append(index)
    return ids


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


def _tokenizer(meta: dict[str, Any], gguf: Path) -> Any:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    model = meta.get("tokenizer.ggml.model")
    pre = meta.get("tokenizer.ggml.pre", "default")
    if model != "gpt2":
        raise ModelLoadError(
            f"{gguf}: tokenizer model {model!r} is not supported (only byte-level BPE 'gpt2')"
        )
    if pre not in _DIGIT_SPLITTING_PRE | _PLAIN_GPT2_PRE:
        raise ModelLoadError(f"{gguf}: pre-tokenizer {pre!r} is not supported by the MLX converter")
    tokens: list[str] = list(meta["tokenizer.ggml.tokens"])
    merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
    types = [int(t) for t in meta["tokenizer.ggml.token_type"].tolist()]

    bpe = models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, fuse_unk=False)
    tokenizer = Tokenizer(bpe)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre in _DIGIT_SPLITTING_PRE:
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level]
        )
    else:
        tokenizer.pre_tokenizer = byte_level
    tokenizer.decoder = decoders.ByteLevel()
    if meta.get("tokenizer.ggml.add_bos_token"):
        bos = tokens[int(meta["tokenizer.ggml.bos_token_id"])]
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tokens.index(bos))]
        )
    else:
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False)
            for t, k in zip(tokens, types, strict=True)
            if k == CONTROL_TOKEN
        ]
    )
    tokenizer.add_tokens(
        [
            AddedToken(t, normalized=False)
            for t, k in zip(tokens, types, strict=True)
            if k == USER_DEFINED_TOKEN
        ]
    )
    return tokenizer


def _tokenizer_config(meta: dict[str, Any]) -> dict[str, Any]:
    tokens = meta["tokenizer.ggml.tokens"]

    def token(key: str) -> str | None:
        index = meta.get(f"tokenizer.ggml.{key}_token_id")
        return tokens[int(index)] if index is not None else None

    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": token("bos"),
        "eos_token": token("eos"),
        "unk_token": token("unknown"),
        "pad_token": token("padding"),
        "add_bos_token": bool(meta.get("tokenizer.ggml.add_bos_token", False)),
        "clean_up_tokenization_spaces": False,
        "model_max_length": int(meta.get("llama.context_length", 4096)),
    }
    if "tokenizer.chat_template" in meta:
        config["chat_template"] = meta["tokenizer.chat_template"]
    return {k: v for k, v in config.items() if v is not None}


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
