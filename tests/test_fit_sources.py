"""Architecture from config.json (MLX / safetensors folders), split names and quant picking."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from runner.errors import ModelFileError
from runner.fit.hf_config import arch_from_config, arch_from_folder, safetensors_data_bytes
from runner.fit.hub import pick_gguf
from runner.fit.memory import RuntimeConfig, kv_bytes
from runner.fit.resolve import resolve_model, split_names

EXACT = RuntimeConfig(backend="mlx", swa_full=False, n_ubatch=1)  # one token at a time: exactly the window

# Qwen3.6-27B text_config as FACTS.md quotes it (Q35_27B_CFG), wrapped like the multimodal checkpoint.
QWEN36 = {
    "model_type": "qwen3_5",
    "text_config": {
        "model_type": "qwen3_5_text", "num_hidden_layers": 64, "hidden_size": 5120, "num_attention_heads": 24,
        "num_key_value_heads": 4, "head_dim": 256, "intermediate_size": 17408, "vocab_size": 248320,
        "max_position_embeddings": 262144, "full_attention_interval": 4, "linear_num_key_heads": 16,
        "linear_num_value_heads": 48, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
        "linear_conv_kernel_dim": 4,
    },
}  # fmt: skip


def test_hybrid_config_json_gives_constant_state_and_quarter_kv() -> None:
    arch = arch_from_config(QWEN36, None, "config.json")
    assert (arch.count("full"), arch.count("recurrent")) == (16, 48)
    full, _, state = kv_bytes(arch, replace(EXACT, ctx=1024))
    assert full == 65536 * 1024
    assert state == 39223296 * 4  # FACTS linear_state_per_seq, f32


def test_gpt_oss_layer_types_alternate() -> None:
    config = {
        "model_type": "gpt_oss", "num_hidden_layers": 24, "hidden_size": 2880, "num_attention_heads": 64,
        "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 201088, "sliding_window": 128,
        "layer_types": ["sliding_attention", "full_attention"] * 12, "num_local_experts": 32,
        "experts_per_token": 4,
    }  # fmt: skip
    arch = arch_from_config(config, 11 * 2**30, "config.json")
    assert (arch.count("swa"), arch.count("full")) == (12, 12)
    full, swa, _ = kv_bytes(arch, replace(EXACT, ctx=32768))
    assert full == 2 * 8 * 64 * 12 * 2 * 32768
    assert swa == 2 * 8 * 64 * 12 * 2 * 128
    assert arch.is_moe and arch.n_expert_used == 4


def test_qwen3_max_window_layers_is_not_sliding() -> None:
    config = {"num_hidden_layers": 28, "hidden_size": 1024, "num_attention_heads": 16, "num_key_value_heads": 8,
              "head_dim": 128, "sliding_window": 32768, "use_sliding_window": False, "max_window_layers": 28}  # fmt: skip
    assert arch_from_config(config, None, "x").count("swa") == 0


@pytest.mark.mlx
def test_mlx_folder(smollm2_mlx: Path) -> None:
    arch = arch_from_folder(smollm2_mlx)
    assert (arch.n_layers, arch.head_dim, arch.count("full")) == (30, 64, 30)
    assert arch.weights_bytes is not None
    assert 0.95 * (smollm2_mlx / "model.safetensors").stat().st_size < arch.weights_bytes
    assert resolve_model(str(smollm2_mlx)).source_kind == "config"


def test_bad_safetensors_header(tmp_path: Path) -> None:
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ModelFileError, match="absurd"):
        safetensors_data_bytes(bad)
    good = tmp_path / "ok.safetensors"
    header = json.dumps({"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}}).encode()
    good.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    assert safetensors_data_bytes(good) == 8


def test_split_names_and_quant_picking() -> None:
    assert split_names("m-00002-of-00003.gguf") == [f"m-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert split_names("m.gguf") == ["m.gguf"]
    files = ["a/Model-Q4_K_M-00001-of-00002.gguf", "a/Model-Q4_K_M-00002-of-00002.gguf", "Model-Q4_K_S.gguf",
             "Model-IQ4_XS.gguf"]  # fmt: skip
    assert pick_gguf(files, "q4_k_m") == [
        "a/Model-Q4_K_M-00001-of-00002.gguf",
        "a/Model-Q4_K_M-00002-of-00002.gguf",
    ]
    assert pick_gguf(files, "Q4_K_S") == ["Model-Q4_K_S.gguf"]


@pytest.mark.mlx
@pytest.mark.server
def test_remote_mlx_folder_reads_config_and_safetensors_header(smollm2_mlx: Path) -> None:
    from tests.support.range_server import serve_files

    local = arch_from_folder(smollm2_mlx)
    with serve_files(smollm2_mlx.parent) as (url, stats):
        found = resolve_model(f"{url}/{smollm2_mlx.name}")
    assert found.source_kind == "config"
    assert found.arch.weights_bytes == local.weights_bytes
    assert stats.bytes_sent < 2**20  # config.json + the safetensors header, not the weights
