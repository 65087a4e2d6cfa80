"""models.toml validation: every malformed file gives one line naming the file, line and key (exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner import paths
from runner.cli import app
from runner.errors import ConfigError
from runner.models.catalog import load_catalog

GOOD = paths.REPO_ROOT / "models.toml"
runner = CliRunner()


def _variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = GOOD.read_text()
    assert old in text, old
    path = tmp_path / "models.toml"
    path.write_text(text.replace(old, new, count))
    return path


def test_repository_catalog_is_valid_and_has_the_models_that_run_here() -> None:
    catalog = load_catalog(GOOD)
    ids = [m.id for m in catalog]
    assert {"smollm2-135m", "gemma-3-270m"} <= set(ids)
    smol = catalog.get("smollm2-135m")
    assert smol is not None and smol.arch.layers is not None
    assert smol.arch.layers.value == 30 and smol.arch.layers.source
    quant = smol.find_quant("q4_1")
    assert quant is not None and quant.sha256 and quant.sha256.startswith("b179c952")


def test_every_number_in_the_catalog_has_a_source() -> None:
    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "value" in node and isinstance(node["value"], int | float):
                assert node.get("source"), f"{where} has no source"
                assert node.get("status"), f"{where} has no status"
            for key, child in node.items():
                walk(child, f"{where}.{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{where}[{i}]")

    walk(load_catalog(GOOD).model_dump(), "catalog")


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'family = "smollm2"', 'family = "smollm2')
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    line = next(
        i for i, t in enumerate(path.read_text().splitlines(), 1) if t.startswith('family = "smollm2')
    )
    assert f"models.toml:{line}" in err.value.one_line()
    assert "syntax" in err.value.one_line()


def test_unknown_key_names_line_key_and_the_allowed_keys(tmp_path: Path) -> None:
    path = _variant(tmp_path, "layers = { value = 18", "layerz = { value = 18")
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    text = err.value.one_line()
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.startswith("layerz"))
    assert f"models.toml:{line}" in text
    assert "layerz" in text and "gemma-3-270m" in text and "sliding_window" in text


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    path = _variant(tmp_path, "kv_heads = { value = 3,", 'kv_heads = { value = "three",')
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    text = err.value.one_line()
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if '"three"' in t)
    assert f"models.toml:{line}" in text and "kv_heads" in text and "three" in text


def test_missing_source_is_rejected(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        'hidden_size = { value = 576, source = "GGUF llama.embedding_length; SMOL_CFG",',
        "hidden_size = { value = 576,",
    )
    with pytest.raises(ConfigError, match="source"):
        load_catalog(path)


def test_duplicate_id_names_the_second_occurrence(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'id = "gemma-3-270m"', 'id = "smollm2-135m"')
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    lines = [i for i, t in enumerate(path.read_text().splitlines(), 1) if t == 'id = "smollm2-135m"']
    assert f"models.toml:{lines[1]}: duplicate model id 'smollm2-135m'" in err.value.one_line()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('family = "smollm2"', 'family = "smollm2'),
        ("layers = { value = 18", "layerz = { value = 18"),
        ('id = "gemma-3-270m"', 'id = "smollm2-135m"'),
    ],
)
def test_cli_prints_one_line_and_exits_2(tmp_path: Path, old: str, new: str) -> None:
    path = _variant(tmp_path, old, new)
    result = runner.invoke(app, ["models", "--catalog", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "models.toml:" in lines[0]
    assert "Traceback" not in result.output


def test_models_json_lists_every_entry_with_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "gemma-3-270m-q4_k_m.gguf").write_bytes(b"GGUF")
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # none of the user's LM Studio, Ollama... stores
    result = runner.invoke(app, ["models", "--json", "--models-dir", str(models)])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    rows = listing["models"]
    assert [r["id"] for r in rows] == [m.id for m in load_catalog(GOOD)]
    by_id = {r["id"]: r for r in rows}
    assert by_id["smollm2-135m"]["params"]["total"]["source"]
    assert by_id["smollm2-135m"]["quant"][0]["local_path"] is None
    assert by_id["gemma-3-270m"]["quant"][0]["local_path"] == str(models / "gemma-3-270m-q4_k_m.gguf")
    assert by_id["gemma-3-270m"]["quant"][0]["found_in"] == "models-dir"
    assert listing["other_local"] == []


def test_models_table_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m" in result.output and "gemma-3-270m" in result.output


def test_models_table_fits_80_columns_without_cutting_a_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["models"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, result.output
    assert "…" not in result.output, result.output
    rows = {tuple(line.split()[:5]) for line in lines if line.strip()}
    assert ("qwen3.5-35b-a3b", "34.7B", "qwen35moe", "UD-Q4_K_XL", "22.3GB") in rows
    assert ("minimax-m2.7", "228.7B", "minimax-m2", "Q5_K_M", "168.8GB") in rows
    assert ("qwen3.5-397b-a17b", "397.0B", "qwen3.5", "-", "?") in rows  # no GGUF arch known: the family


def test_user_visible_catalog_text_names_no_file_users_lack() -> None:
    from runner.models.catalog import Catalog

    text = GOOD.read_text()
    described = json.dumps(Catalog.model_json_schema())
    for where in (text, described):
        assert "FACTS" not in where and "shared/" not in where
    catalog = load_catalog(GOOD)
    keys = set()
    for field in re.findall(r'source = "([^"]*)"', text):
        keys |= set(
            re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\b(?:LLMFIT|KVGEOM|QKNOWN|MLXLM|DS4)\b", field)
        )
    keys = {k for k in keys if not re.fullmatch(r"I?Q\d\w*", k)}  # quant names such as Q4_K_M
    assert keys and keys <= set(catalog.source), sorted(keys - set(catalog.source))
