"""The terminal side of `lapbench run`: a rich progress bar (phases done, ETA, the current call and the
retries so far) on stderr, and the final score table."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from runner.rubric.types import axis_points
from runner.run.record import CallAttempt, RunRecord
from runner.run.run import RunHooks
from runner.run.stats import format_interval


class RunProgress:
    """Context manager that turns RunHooks events into a progress bar."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("phases"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.where = ""
        self.calls = 0
        self.retries = 0
        self.tokens = 0
        self._phase_started = False

    def __enter__(self) -> RunProgress:
        self.progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.__exit__(kind, exc, tb)

    def hooks(self) -> RunHooks:
        return RunHooks(
            on_start=self._start, on_phase=self._phase, on_attempt=self._attempt, on_token=self._token
        )

    def _start(self, run_id: str, total: int) -> None:
        self.console.print(f"run [bold]{run_id}[/bold]")
        self.task = self.progress.add_task("starting", total=total)

    def _phase(self, repeat: int, project: str, phase: str) -> None:
        if self.task is None:
            return
        if self._phase_started:
            self.progress.advance(self.task)
        self._phase_started = True
        self.where = f"{project} #{repeat + 1} {phase}"
        self._describe()

    def _attempt(self, attempt: CallAttempt, replayed: bool) -> None:
        self.calls += 1
        self.retries += attempt.attempt > 0
        self._describe()

    def _token(self, _token: int, _text: str) -> None:
        self.tokens += 1
        if self.tokens % 16 == 0:
            self._describe()

    def _describe(self) -> None:
        if self.task is not None:
            text = f"{self.where} · call {self.calls + 1} · retries {self.retries} · {self.tokens} tok"
            self.progress.update(self.task, description=text)

    def finish(self) -> None:
        if self.task is not None:
            total = self.progress.tasks[0].total or 0
            self.progress.update(self.task, completed=total, description=f"done · {self.calls} calls")


def score_tables(record: RunRecord) -> list[Table]:
    ci = record.repeats > 1
    track = "" if record.track == "full" else f" · {record.track} track"
    head = f"{record.model} · {record.backend} · {record.suite}{track} · {record.mode}"
    axes = Table(title=f"lapbench score {format_interval(record.score_ci)} / 100", caption=head)
    axes.add_column("axis / dimension")
    axes.add_column("points", justify="right")
    axes.add_column("max", justify="right")
    for axis, max_points in axis_points(record.rubric_version).items():
        value = format_interval(record.axes_ci[axis]) if ci else f"{record.axes[axis]:.1f}"
        axes.add_row(f"[bold]{axis}[/bold]", f"[bold]{value}[/bold]", f"{max_points:.0f}")
        for name, points in record.dimensions.items():
            if name.startswith(axis + "."):
                shown = format_interval(record.dimensions_ci[name], 2) if ci else f"{points:.2f}"
                axes.add_row(f"  {name.split('.', 1)[1]}", shown, "")
    axes.add_row("[bold]total[/bold]", f"[bold]{format_interval(record.score_ci)}[/bold]", "100")
    phases = Table(
        title=f"phases · {record.wall_seconds:.0f} s wall · run {record.run_id}", caption=cost_line(record)
    )
    # calls: tool calls (each with its own retry budget); gens: generations (first tries + retries)
    for column in ("phase", "status", "calls", "valid", "gens", "retries", "1st try", "tokens"):
        phases.add_column(column, justify="left" if column in ("phase", "status") else "right")
    for name, p in record.phases.items():
        status = f"{p.status}, {p.overflows} over context" if p.overflows else p.status
        phases.add_row(
            name, status, str(p.parts), str(p.parts_valid), str(p.calls), str(p.retries),
            str(p.first_try_successes), str(p.tokens),
        )  # fmt: skip
    return [axes, phases]


def cost_line(record: RunRecord) -> str:
    """Memory and speed of the run in one line (from the profiler's aggregate)."""
    p = record.profile
    if not p:
        return ""
    parts = []
    if p.get("peak_rss_bytes"):
        parts.append(f"peak RSS {p['peak_rss_bytes'] / 2**20:.0f} MiB")
    parts.append(f"prompt {p.get('prompt_tps', 0.0):.0f} tok/s")
    parts.append(f"generation {p.get('generation_tps', 0.0):.1f} tok/s")
    if p.get("ttft_p50_seconds") is not None:
        parts.append(f"TTFT p50 {p['ttft_p50_seconds']:.2f} s")
    parts.append(
        f"mask {p.get('mask_ms_per_token', 0.0):.2f} ms/token, forced {100 * p.get('forced_share', 0.0):.0f}%"
    )
    return " · ".join(parts)
