"""Output files of the commands that write them (`report`, `export -o`): all written or none.

Each file is written beside its target under a temporary name and renamed over it only when every file
of the command was written, so a full disk or a killed process never leaves an empty or half-written
report. A target that is not a regular file (/dev/stdout, a pipe) is written directly. Writing over the
results store, or over another output of the same command, is refused.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from runner.errors import ConfigError, LapbenchError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def check_target(path: Path, store: Path | None = None) -> None:
    """Refuse an output path that is a folder or the results store (before any work is done)."""
    if path.is_dir():
        raise ConfigError(
            f"cannot write {path}: it is a directory", hint=f"give a file name, e.g. {path}/out"
        )
    if store is not None and _same_file(path, store):
        raise ConfigError(
            f"cannot write {path}: it is the results store the command reads",
            hint="give another output file with -o",
        )


def write_outputs(files: Mapping[Path, str], store: Path | None = None) -> None:
    """Write every file of `files` (path -> text), or none of them."""
    paths = list(files)
    for path in paths:
        check_target(path, store)
    if len({p.resolve() for p in paths}) < len(paths):
        raise ConfigError(f"two outputs would be one file: {', '.join(map(str, paths))}")
    staged: list[tuple[str, Path]] = []
    current = paths[0]
    try:
        for path, text in files.items():
            current = path
            if path.exists() and not path.is_file():
                with path.open("w", encoding="utf-8") as handle:
                    handle.write(text)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            staged.append((temporary, path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        for temporary, path in staged:
            current = path
            os.replace(temporary, path)
    except OSError as err:
        for temporary, _ in staged:
            with suppress(OSError):
                os.unlink(temporary)
        raise LapbenchError(
            f"cannot write {current}: {_reason(err)}",
            hint="free some disk space, or write somewhere else with -o",
        ) from None
