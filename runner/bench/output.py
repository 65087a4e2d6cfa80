"""Renderings of bench records: a rich table, and llama-bench's machine formats (json, jsonl, csv, md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from rich.table import Table

from runner.bench.plan import BenchRecord

OutputFormat = Literal["table", "json", "jsonl", "csv", "md"]
FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "md")


def _mib(value: int | None) -> str:
    return f"{value / 2**20:.1f} MiB" if value is not None else "-"


def _rate(record: BenchRecord) -> str:
    if record.error:
        return "FAILED"
    if record.avg_ts is None:
        return "-"
    return f"{record.avg_ts:.2f} ± {record.stddev_ts or 0:.2f}"


def _row(record: BenchRecord) -> list[str]:
    return [
        Path(record.model_filename).name,
        _mib(record.model_size),
        record.backend,
        str(record.n_threads or "-"),
        record.test,
        record.grammar or "-",
        _rate(record),
        _mib(record.peak_rss_bytes),
    ]


HEADERS = ["model", "size", "backend", "threads", "test", "grammar", "t/s", "peak RSS"]


def render_table(records: Sequence[BenchRecord]) -> Table:
    """Columns whose value is the same on every row (one model, one backend) move into the title, so the
    table stays readable on an 80-column terminal."""
    rows = [_row(r) for r in records]
    constant = [i for i, h in enumerate(HEADERS[:4]) if rows and len({row[i] for row in rows}) == 1]
    title = " · ".join(f"{HEADERS[i]} {rows[0][i]}" for i in constant)
    table = Table(title=f"lapbench bench: {title}" if title else "lapbench bench")
    shown = [i for i in range(len(HEADERS)) if i not in constant]
    numeric = ("size", "threads", "t/s", "peak RSS")
    for i in shown:
        header = HEADERS[i]
        table.add_column(header, justify="right" if header in numeric else "left", no_wrap=header != "model")
    for record, row in zip(records, rows, strict=True):
        table.add_row(*(row[i] for i in shown), style="red" if record.error else None)
    return table


def failures(records: Sequence[BenchRecord]) -> list[str]:
    """One line per failed (configuration, test), for stderr."""
    return [
        f"{Path(r.model_filename).name} [{r.backend}] {r.test}{' +' + r.grammar if r.grammar else ''}: {r.error}"
        for r in records
        if r.error
    ]


def render_markdown(records: Sequence[BenchRecord]) -> str:
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if h == "t/s" else "---" for h in HEADERS) + "|",
    ]
    lines.extend("| " + " | ".join(_row(r)) + " |" for r in records)
    return "\n".join(lines) + "\n"


def render_csv(records: Sequence[BenchRecord]) -> str:
    buffer = io.StringIO()
    fields = list(BenchRecord.model_fields)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for record in records:
        data = record.model_dump()
        for key in ("samples_ns", "samples_ts"):
            data[key] = ",".join(str(v) for v in data[key])
        writer.writerow(data)
    return buffer.getvalue()


def render_text(records: Sequence[BenchRecord], fmt: str) -> str:
    """Every format but the rich table, as text."""
    if fmt == "json":
        return json.dumps([r.model_dump() for r in records], indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r.model_dump()) + "\n" for r in records)
    if fmt == "csv":
        return render_csv(records)
    if fmt == "md":
        return render_markdown(records)
    raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
