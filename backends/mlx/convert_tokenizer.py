"""The tokenizer files of a converted MLX folder, built from a GGUF's `tokenizer.ggml.*` metadata.

`tokenizer.json` is a byte-level BPE built with `tokenizers` from the GGUF's tokens and merges, with the
pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre` and control tokens as special added tokens;
`tokenizer_config.json` carries bos/eos/unk/pad and the GGUF chat template. The end-of-generation ids are
llama.cpp's, so that both backends stop on the same tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends.base import ModelLoadError

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


def end_of_generation_ids(meta: dict[str, Any]) -> list[int]:
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


def build_tokenizer(meta: dict[str, Any], gguf: Path) -> Any:
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


def tokenizer_config(meta: dict[str, Any]) -> dict[str, Any]:
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
