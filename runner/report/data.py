"""What a report shows about one run, gathered from the results store: the run record (scores with
confidence intervals, phases, machine) plus per-call measurements aggregated (peak memory, decode and
prefill speed, time to first token)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import LapbenchError
from runner.rubric.types import RUBRIC_VERSION
from runner.run.record import RunRecord
from runner.run.store import ResultsStore


@dataclass(frozen=True)
class RunView:
    record: RunRecord
    label: str
    """Model, quant and mode, unique within one report."""
    peak_memory_bytes: int | None
    decode_tps: float | None
    prefill_tps: float | None
    ttft_seconds: float | None

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def first_try_rate(self) -> float | None:
        """First-try successes per tool call (a part is one tool call with its own retry budget)."""
        parts = sum(p.parts or 0 for p in self.record.phases.values())
        if parts == 0:
            return None
        return sum(p.first_try_successes for p in self.record.phases.values()) / parts

    @property
    def quant(self) -> str:
        model = self.record.model
        if self.record.machine.get("quant"):
            return str(self.record.machine["quant"])
        if ":" in model:
            return model.rsplit(":", 1)[1]
        for token in model.replace("-", ".").split("."):
            if token.upper().startswith(("Q", "IQ", "F16", "BF16", "F32")) and any(
                c.isdigit() for c in token
            ):
                return token.upper()
        return "—"


def version_mark(version: str) -> str:
    """The mark ` [rubric v1]` of a run scored under another rubric than the current one, else ""."""
    return "" if version == RUBRIC_VERSION else f" [rubric v{version}]"


def mixed_versions(records: Sequence[RunRecord]) -> str | None:
    """A warning when the runs were scored under different rubric versions or ran different tracks
    (runner.run.tracks: other work, other axes): their scores do not compare."""
    versions = sorted({r.rubric_version for r in records})
    tracks = sorted({r.track for r in records})
    notes = []
    if len(versions) > 1:
        notes.append(
            f"runs scored under different rubrics ({', '.join('v' + v for v in versions)}): their scores and "
            "axes are not comparable"
        )
    if len(tracks) > 1:
        notes.append(f"runs of different tracks ({', '.join(tracks)}): they did different work")
    return "; ".join(notes) or None


def _median(values: Sequence[float | int | None]) -> float | None:
    clean = [float(v) for v in values if v is not None and v > 0]
    return statistics.median(clean) if clean else None


def _peak(values: Sequence[float | int | None]) -> int | None:
    clean = [int(v) for v in values if v is not None and v > 0]
    return max(clean) if clean else None


def view_of(store: ResultsStore, run_id: str) -> RunView:
    record = store.load_run(run_id)
    calls = store.call_rows(run_id)
    peak = _peak([c.get("peak_rss_bytes") for c in calls]) or _peak(
        [c.get("backend_peak_bytes") for c in calls]
    )
    track = "" if record.track == "full" else f" [{record.track} track]"  # other work: never unmarked
    label = f"{record.model} ({record.mode})" + track + version_mark(record.rubric_version)
    return RunView(
        record=record,
        label=label,
        peak_memory_bytes=peak,
        decode_tps=_median([c.get("generation_tps") for c in calls]),
        prefill_tps=_median([c.get("prompt_tps") for c in calls]),
        ttft_seconds=_median([c.get("ttft_seconds") for c in calls]),
    )


def load_views(results: Path, run_ids: Sequence[str] = ()) -> list[RunView]:
    """The named runs (ids, id prefixes or model names), or every run with a result record when none is
    named; labels made unique."""
    with ResultsStore(results, read_only=True) as store:
        if not run_ids:
            run_ids = [r["run_id"] for r in store.list_runs() if r.get("score") is not None]
            if not run_ids:
                raise LapbenchError(
                    f"no finished run in {results}", hint="run `lapbench run` first, or pass --results FILE"
                )
        views = [view_of(store, resolve_run(store, token)) for token in run_ids]
    return _unique_labels(views)


def resolve_run(store: ResultsStore, token: str) -> str:
    """A run id, a unique prefix of one, or a model name (its newest finished run)."""
    runs = store.list_runs()  # newest first
    ids = [r["run_id"] for r in runs]
    if token in ids:
        return token
    prefixed = [i for i in ids if i.startswith(token)]
    if len(prefixed) == 1:
        return prefixed[0]
    by_model = [r["run_id"] for r in runs if r.get("model") == token and r.get("score") is not None]
    if by_model:
        return str(by_model[0])
    raise LapbenchError(
        f"no run or model {token!r} in {store.path}", hint="`lapbench runs` lists run ids and models"
    )


def _unique_labels(views: list[RunView]) -> list[RunView]:
    counts: dict[str, int] = {}
    for v in views:
        counts[v.label] = counts.get(v.label, 0) + 1
    out = []
    for v in views:
        if counts[v.label] > 1:
            v = RunView(v.record, f"{v.label} [{v.run_id[-6:]}]", v.peak_memory_bytes, v.decode_tps,
                        v.prefill_tps, v.ttft_seconds)  # fmt: skip
        out.append(v)
    return out


def machine_summary(machine: dict[str, Any]) -> str:
    """One line: CPU, RAM, OS, accelerator — whatever the record has."""
    parts = []
    for key in ("cpu_model", "chip", "gpu"):
        if machine.get(key):
            parts.append(str(machine[key]))
            break
    for key in ("cpu_cores_logical", "cpu_cores_physical"):
        if machine.get(key):
            parts.append(f"{machine[key]} cores")
            break
    ram = machine.get("ram_bytes")
    if isinstance(ram, int | float) and ram > 0:
        parts.append(f"{ram / 2**30:.0f} GiB RAM")
    os_name = " ".join(str(machine[k]) for k in ("os", "os_version", "arch") if machine.get(k))
    if os_name:
        parts.append(os_name)
    return ", ".join(parts) or "unknown machine"
