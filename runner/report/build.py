"""`lapbench report [RUN…]` as one core function."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.outputs import check_target
from runner.report.data import load_views
from runner.report.render import ReportFiles, report_paths, write_report


def build_report(results: Path, run_ids: Sequence[str], output: Path) -> ReportFiles:
    """Render the HTML report (and its Markdown twin) of the named runs, or of every finished run. The
    output paths are checked before the store is read (a folder, or the store itself, is refused)."""
    for path in report_paths(output):
        check_target(path, results)
    return write_report(load_views(results, run_ids), output, results)
