"""What makes a run the same run: its inputs, stored when it starts and checked before it resumes.

A resume replays the stored calls and generates the rest, so every input must be what it was: the model
file (a replaced file at the same path would put two models' calls under one name), the projects, the
options. Projects and options are stored with the run and read back from it; the model lives outside the
store, so it is fingerprinted: size, modification time, and a digest of its first and last MiB plus 16
evenly spaced 64 KiB samples (a GGUF's header, tensor index and some weights of every part of the file,
about 3 MiB read however large the file is). The digest decides: a file copied back unchanged (new
modification time, same bytes) still resumes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner.errors import ConfigError, LapbenchError
from runner.projects import Project

EDGE = 1 << 20
STORED_GRAMMAR = "schema"
"""The grammar of a run stored before `--grammar` existed: every call then used the plain schema."""
SAMPLES = 16
SAMPLE = 64 << 10


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size, modification time and sampled sha256 of one file; a one-line error when it cannot be read."""
    try:
        info = path.stat()
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            size = info.st_size
            offsets = [0, *(size * i // (SAMPLES + 1) for i in range(1, SAMPLES + 1)), max(0, size - EDGE)]
            for offset in offsets:
                handle.seek(offset)
                digest.update(handle.read(EDGE if offset in (0, max(0, size - EDGE)) else SAMPLE))
    except OSError as err:
        raise LapbenchError(
            f"cannot read the model file {path}: {err.strerror or err}",
            hint="check that the file exists and that you may read it",
        ) from None
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": digest.hexdigest()}


def model_fingerprint(model: str) -> dict[str, Any]:
    """A local model file or folder by its contents; anything else (a server's model name) by name."""
    path = Path(model).expanduser()
    if path.is_file():
        return {"path": str(path), **file_fingerprint(path)}
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return {"path": str(path), "files": {str(p.relative_to(path)): file_fingerprint(p) for p in files}}
    return {"name": model}


def run_inputs(run: dict[str, Any], projects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The identity stored with a run: its model's fingerprint and digests of its projects and options."""
    return {
        "model": model_fingerprint(str(run["model"])),
        "projects_sha256": _digest(list(projects)),
        "options_sha256": _digest(run),
        # in the options too; named so that a refusal says what differs (runner.run.tracks)
        "track": run.get("track", "full"),
        # likewise: narrowed and schema grammars decode different calls (runs stored before it: schema)
        "grammar": run.get("grammar", STORED_GRAMMAR),
    }


def check_unique_ids(projects: Sequence[Project]) -> None:
    """Calls are keyed by project id, so two projects with one id would share (and overwrite) answers."""
    seen: set[str] = set()
    for project in projects:
        if project.id in seen:
            raise ConfigError(
                f"two projects have the id {project.id!r}; their calls and scores could not be told apart",
                hint="give every project file its own `id`",
            )
        seen.add(project.id)


def differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What changed between two identities, in words."""
    out = []
    if stored.get("track", "full") != current.get("track", "full"):
        out.append(f"the track changed from {stored.get('track', 'full')} to {current.get('track', 'full')}")
    before, now = stored.get("grammar", STORED_GRAMMAR), current.get("grammar", STORED_GRAMMAR)
    if before != now:
        out.append(f"the grammar changed from {before} to {now}")
    for key, what in (("projects_sha256", "the stored projects"), ("options_sha256", "the stored options")):
        if stored.get(key) != current.get(key):
            out.append(f"{what} changed")
    before, now = stored.get("model", {}), current.get("model", {})
    if before != now:
        out.append(_model_change(before, now))
    return [d for d in out if d]


def _model_change(before: dict[str, Any], now: dict[str, Any]) -> str:
    where = before.get("path") or before.get("name") or "the model"
    if "files" in before or "files" in now:
        old, new = before.get("files", {}), now.get("files", {})
        changed = sorted(n for n in {*old, *new} if _content(old.get(n)) != _content(new.get(n)))
        return f"model folder {where}: {', '.join(changed[:5]) or 'its files'} changed" if changed else ""
    if "sha256" not in now:
        return f"model file {where} is gone" if "sha256" in before else f"model {where} changed"
    if before.get("size") != now.get("size"):
        return f"model file {where} changed: {before.get('size')} bytes then, {now.get('size')} now"
    if before.get("sha256") != now.get("sha256"):
        return f"model file {where} changed: same size, different content"
    return ""


def _content(entry: dict[str, Any] | None) -> tuple[Any, Any] | None:
    return None if entry is None else (entry.get("size"), entry.get("sha256"))


def check_resumable(run_id: str, stored: dict[str, Any], projects: Sequence[Project]) -> None:
    """Refuse to resume run `run_id` when its inputs are not what they were (saying what differs)."""
    check_unique_ids(projects)
    inputs = stored.get("inputs")
    if inputs is None:  # a run stored before lapbench kept its inputs: the replay checks each prompt
        return
    changed = differences(inputs, run_inputs(stored["run"], stored["projects"]))
    if changed:
        raise ConfigError(
            f"run {run_id} cannot resume: {'; '.join(changed)}",
            hint="put the original back, or start a new run (its stored calls belong to the old inputs)",
        )
