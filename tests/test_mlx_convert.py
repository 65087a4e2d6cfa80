"""GGUF -> MLX conversion on the real default model: the folder's contents, atomicity, refusals, and
agreement with llama.cpp (same tokens for the same text, same next-token choices, same greedy answer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.base import LoadConfig, ModelLoadError
from backends.mlx.convert import convert_gguf_to_mlx

pytestmark = [pytest.mark.model, pytest.mark.mlx]

SAMPLES = [
    "Hello, world!",
    "In 1492, Columbus sailed 3 ships: the Niña, the Pinta and the Santa María.",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    '<|im_start|>user\n{"a": [1, 2.5e-3]}<|im_end|>\n',
]


@pytest.fixture(scope="module")
def converted(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_gguf_to_mlx(smollm2_gguf, tmp_path_factory.mktemp("convert") / "smollm2")


@pytest.fixture(scope="module")
def llama_vocab(smollm2_gguf: Path) -> Iterator[Any]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(smollm2_gguf), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def test_folder_holds_a_quantized_llama_with_traditional_rope(converted: Path) -> None:
    names = sorted(p.name for p in converted.iterdir())
    assert names == [
        "config.json",
        "lapbench-conversion.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    config = json.loads((converted / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert config["rope_traditional"] is True
    assert config["tie_word_embeddings"] is True
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (30, 576, 49152)
    # Q4_1 blocks kept as 4-bit groups of 32; the token embedding is Q8_0 in this GGUF.
    assert config["quantization"]["bits"] == 4 and config["quantization"]["group_size"] == 32
    assert config["quantization"]["model.embed_tokens"]["bits"] == 8
    assert 2 in config["eos_token_id"]
    tokenizer_config = json.loads((converted / "tokenizer_config.json").read_text())
    assert "<|im_start|>" in tokenizer_config["chat_template"]
    assert tokenizer_config["eos_token"] == "<|im_end|>"
    # Quantized weights are about the size of the GGUF, not a float16 blow-up.
    assert (converted / "model.safetensors").stat().st_size < 1.1 * 98_362_432


def test_tokenizer_matches_llama_cpp(converted: Path, llama_vocab: Any) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(converted / "tokenizer.json"))
    for text in SAMPLES:
        expected = llama_vocab.tokenize(text.encode(), add_bos=False, special=True)
        assert tokenizer.encode(text).ids == expected, text
        assert tokenizer.decode(expected, skip_special_tokens=False) == text


def test_reconversion_replaces_the_folder_and_leaves_no_temporaries(
    smollm2_gguf: Path, converted: Path
) -> None:
    marker = converted / "stale-file"
    marker.write_text("from an older conversion")
    assert convert_gguf_to_mlx(smollm2_gguf, converted) == converted
    assert not marker.exists()
    assert [p.name for p in converted.parent.iterdir()] == [converted.name]


@pytest.mark.parametrize("keep_bytes", [1_000_000, 50_000_000], ids=["cut-in-header", "cut-in-tensors"])
def test_truncated_gguf_is_refused_and_nothing_is_written(
    smollm2_gguf: Path, tmp_path: Path, keep_bytes: int
) -> None:
    truncated = tmp_path / "cut.gguf"
    with smollm2_gguf.open("rb") as source:
        truncated.write_bytes(source.read(keep_bytes))
    out = tmp_path / "models" / "mlx" / "cut"
    with pytest.raises(ModelLoadError, match=r"cut\.gguf"):
        convert_gguf_to_mlx(truncated, out)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_missing_or_foreign_files_are_refused(tmp_path: Path, gemma_gguf: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"absent\.gguf"):
        convert_gguf_to_mlx(tmp_path / "absent.gguf", tmp_path / "out")
    text = tmp_path / "notes.gguf"
    text.write_text("not a gguf at all")
    with pytest.raises(ModelLoadError, match="bad magic"):
        convert_gguf_to_mlx(text, tmp_path / "out")
    with pytest.raises(ModelLoadError, match="gemma3"):
        convert_gguf_to_mlx(gemma_gguf, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_next_token_choices_agree_with_llama_cpp(smollm2_gguf: Path, smollm2_mlx: Path) -> None:
    """Teacher-forced over a short text: llama.cpp's CPU kernels quantize activations to 8 bits for Q4_1
    dot products while MLX multiplies in float, so logits differ by a few tenths and near-ties can flip;
    the argmax must still agree almost everywhere (0.97 observed)."""
    import mlx.core as mx
    import numpy as np
    from llama_cpp import Llama
    from mlx_lm import load

    text = " ".join(SAMPLES[1:3])
    llm = Llama(model_path=str(smollm2_gguf), n_ctx=256, logits_all=True, verbose=False)
    ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    llm.eval(ids)
    reference = np.asarray(llm.scores[: len(ids)])
    llm.close()
    loaded: Any = load(str(smollm2_mlx))
    model = loaded[0]
    ours = np.asarray(model(mx.array([ids]))[0].astype(mx.float32))
    agreement = float((reference.argmax(-1) == ours.argmax(-1)).mean())
    assert agreement >= 0.9
    correlation = np.mean([np.corrcoef(reference[i], ours[i])[0, 1] for i in range(len(ids))])
    assert correlation > 0.99


def test_greedy_answer_is_the_same_as_llama_cpp(smollm2_gguf: Path, smollm2_mlx: Path) -> None:
    from backends.base import GenerationRequest, Message
    from backends.registry import create_backend

    request = GenerationRequest(messages=(Message("user", "What is 2+2?"),), max_tokens=16)
    answers = []
    for name, model in (("llama-cpp", smollm2_gguf), ("mlx", smollm2_mlx)):
        backend = create_backend(name)
        backend.load(LoadConfig(str(model), n_ctx=512))
        answers.append(backend.generate(request))
        backend.close()
    assert answers[0].tokens == answers[1].tokens
    assert answers[0].text == answers[1].text
    assert answers[0].finish_reason == answers[1].finish_reason == "stop"
