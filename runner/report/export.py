"""`lapbench export RUN --format jsonl|csv`: one run's data for other tools.

Two tables: `results` (default) has one row per project × repeat with the score, every axis and every
rubric dimension; `calls` has one row per generation with its timings, tokens, memory and validity (the
prompt and raw output only with `full=True`, since they are large)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from runner.errors import ConfigError
from runner.run.store import ResultsStore

ExportFormat = Literal["jsonl", "csv"]
ExportTable = Literal["results", "calls"]
_LARGE = ("prompt", "raw_output", "parsed_json", "feedback")


def export_rows(
    results: Path, run_id: str, table: ExportTable = "results", full: bool = False
) -> list[dict[str, Any]]:
    with ResultsStore(results, read_only=True) as store:
        if table == "calls":
            rows = store.call_rows(run_id)
            if not rows:
                store.run_row(run_id)  # a clear error when the run does not exist
            return [{k: v for k, v in row.items() if full or k not in _LARGE} for row in rows]
        record = store.load_run(run_id)
    out = []
    for r in record.results:
        row: dict[str, Any] = {"run_id": record.run_id, "model": record.model, "backend": record.backend,
                               "mode": record.mode, "project": r.project, "repeat": r.repeat, "seed": r.seed,
                               "score": r.score, "rubric_version": record.rubric_version}  # fmt: skip
        row.update({f"axis.{k}": v for k, v in r.axes.items()})
        row.update({f"dim.{k}": v for k, v in r.dimensions.items()})
        out.append(row)
    return out


def format_rows(rows: list[dict[str, Any]], fmt: ExportFormat) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(row, sort_keys=False, default=str) + "\n" for row in rows)
    if fmt != "csv":
        raise ConfigError(f"unknown export format {fmt!r}", hint="use jsonl or csv")
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
