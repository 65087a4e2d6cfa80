"""`lapbench fit` and `lapbench pull` through CliRunner; pull against a Hugging Face-like server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from tests.support.fake_hub import HubLog, serve_hub, use_hub
from tests.support.gguf_builder import build_gguf, gguf_str, kv_u32

runner = CliRunner()
KEYS = {"weights_bytes", "kv_bytes", "compute_bytes", "overhead_bytes", "total_bytes", "budget_bytes",
        "verdict", "max_ctx", "predicted_tps"}  # fmt: skip


def _fit(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["fit", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.model
def test_fit_catalog_id_reads_the_local_header(smollm2_gguf: Path) -> None:
    out = _fit("smollm2-135m", "--ctx", "2048", "--bandwidth", "100")
    assert out.keys() >= KEYS
    assert out["source"] == "gguf-file"
    assert out["weights_bytes"] == 96576768
    assert out["kv_bytes"] == 2 * 3 * 64 * 30 * 2 * 2048
    terms = ("weights_bytes", "kv_bytes", "compute_bytes", "overhead_bytes", "saved_state_bytes")
    assert out["total_bytes"] == sum(out[t] for t in terms)
    assert out["saved_state_bytes"] == out["kv_bytes"]  # lapbench keeps the last call's KV state for reuse
    assert out["verdict"] == "fits"


@pytest.mark.model
def test_fit_file_with_chip_predicts_speed(gemma_gguf: Path) -> None:
    out = _fit(str(gemma_gguf), "--chip", "M4 Pro", "--ctx", "4096")
    assert out["chip"] == "M4 Pro" and out["bandwidth_gbs"] == 273.0
    assert out["budget_bytes"] == 64 * 2**30 * 3 // 4
    assert out["layers"] == {"full": 3, "sliding_window": 15, "recurrent": 0}
    assert out["predicted_tps"] > 0 and out["suite_seconds"] > 0


def test_fit_64gb_mac_verdicts_match_facts() -> None:
    # FACTS.md §2 on a 64 GB Mac (48 GiB Metal budget): gpt-oss-120b does not fit, Qwen3.5-122B Q3_K_M
    # needs a raised wired limit, gpt-oss-20b and Qwen3.6-27B fit.
    args = ("--memory", "64GB", "--chip", "M1 Max", "--ctx", "32768")
    assert _fit("gpt-oss-120b", *args)["verdict"] == "does not fit"
    assert _fit("qwen3.5-122b-a10b", "--quant", "Q3_K_M", *args)["verdict"] == "does not fit"
    assert _fit("gpt-oss-20b", *args)["verdict"] == "fits"
    qwen = _fit("qwen3.6-27b:Q4_K_M", *args)
    assert qwen["verdict"] == "fits"
    assert qwen["kv_detail"]["recurrent_state_bytes"] == 156893184
    assert qwen["layers"] == {"full": 16, "sliding_window": 0, "recurrent": 48}


def test_fit_all_ranks_every_catalog_quant() -> None:
    result = runner.invoke(app, ["fit", "--all", "--json", "--memory", "64GB", "--chip", "M4 Max"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) > 40 and all(row.keys() >= KEYS for row in rows)
    order = {"fits": 0, "tight": 1, "does not fit": 2}
    assert [order[r["verdict"]] for r in rows] == sorted(order[r["verdict"]] for r in rows)


def test_fit_bad_input_is_one_line() -> None:
    result = runner.invoke(app, ["fit", "no-such-model"])
    assert result.exit_code == 2
    assert "not a catalog id" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["fit", "qwen3-8b", "--kv-type", "q3_z"])
    assert result.exit_code == 2 and "KV cache type" in result.output
    result = runner.invoke(app, ["fit", "qwen3-8b", "--chip", "M9 Hyper"])
    assert result.exit_code == 2 and "unknown chip" in result.output


# ---- pull ---------------------------------------------------------------------------------------------


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubLog, Path]]:
    arch = gguf_str("general.architecture") + __import__("struct").pack("<I", 8) + gguf_str("llama")
    tiny = build_gguf([arch, kv_u32("llama.block_count", 2), kv_u32("llama.embedding_length", 32),
                       kv_u32("llama.attention.head_count", 4), kv_u32("llama.vocab_size", 100)])  # fmt: skip
    catalog = tmp_path / "models.toml"
    catalog.write_text(
        '[[model]]\nid = "tiny"\nname = "Tiny"\nfamily = "t"\nlicense = "MIT"\n'
        '[model.arch]\nlayers = { value = 2, source = "test", status = "measured" }\n'
        'hidden_size = { value = 32, source = "test", status = "measured" }\n'
        'attention_heads = { value = 4, source = "test", status = "measured" }\n'
        '[[model.quant]]\nname = "Q4_K_M"\nfile = "tiny-Q4_K_M.gguf"\nrepo = "org/tiny"\n'
        '[[model.quant]]\nname = "HUGE"\nfile = "tiny-HUGE.gguf"\nrepo = "org/tiny"\n'
        'size_bytes = { value = 900000000000, source = "test", status = "measured" }\n'
    )
    monkeypatch.setenv("LAPBENCH_CATALOG", str(catalog))
    with serve_hub({"org/tiny/tiny-Q4_K_M.gguf": tiny}) as (url, log):
        use_hub(monkeypatch, url)
        yield log, tmp_path / "downloads"


@pytest.mark.server
def test_pull_downloads_then_finds_it_present(fake_hub: tuple[HubLog, Path]) -> None:
    log, folder = fake_hub
    args = ["pull", "tiny:Q4_K_M", "--models-dir", str(folder), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["already_present"] is False and Path(out["paths"][0]).read_bytes()[:4] == b"GGUF"
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["already_present"] is True
    assert log.files == ["org/tiny/tiny-Q4_K_M.gguf"]  # fetched once


@pytest.mark.server
def test_fit_hugging_face_ids_resolve_through_hf_endpoint(fake_hub: tuple[HubLog, Path]) -> None:
    by_url = _fit("hf://org/tiny/tiny-Q4_K_M.gguf", "--bandwidth", "100")
    by_quant = _fit("org/tiny:Q4_K_M", "--bandwidth", "100")
    assert by_url["source"] == by_quant["source"] == "gguf-remote"
    assert by_url["weights_bytes"] == by_quant["weights_bytes"] == 32 * 4 * 4
    result = runner.invoke(app, ["fit", "org/tiny:Q8_0"])
    assert result.exit_code == 2 and "no .gguf file for quant" in result.output


@pytest.mark.server
def test_pull_refuses_what_does_not_fit(fake_hub: tuple[HubLog, Path]) -> None:
    log, folder = fake_hub
    result = runner.invoke(
        app, ["pull", "tiny", "--quant", "HUGE", "--models-dir", str(folder), "--memory", "16GB"]
    )
    assert result.exit_code == 2  # the refusal shared with `run` (runner.fit.verdict)
    assert "does not fit" in result.output and "--force" in result.output
    assert log.files == []


@pytest.mark.model
def test_pull_default_model_is_already_present(smollm2_gguf: Path) -> None:
    result = runner.invoke(app, ["pull", "smollm2-135m"])
    assert result.exit_code == 0, result.output
    assert f"already present: {smollm2_gguf}" in result.output
