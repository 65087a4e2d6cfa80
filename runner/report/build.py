"""`lapbench report [RUN…]` as one core function."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.report.data import load_views
from runner.report.render import ReportFiles, write_report


def build_report(results: Path, run_ids: Sequence[str], output: Path) -> ReportFiles:
    """Render the HTML report (and its Markdown twin) of the named runs, or of every finished run."""
    return write_report(load_views(results, run_ids), output)
