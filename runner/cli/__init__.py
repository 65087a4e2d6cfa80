"""The `lapbench` command. Each `runner/cli/cmd_*.py` module adds its commands through `register(app)`,
so a command group lives in its own module and this file never changes when one is added."""

from __future__ import annotations

import importlib
import pkgutil
import signal
import threading
from typing import Any

import typer
from typer.core import TyperGroup

from runner.errors import LapbenchError


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


class _OneLineErrors(TyperGroup):
    """LapbenchError becomes one red line on stderr and its exit code (also under CliRunner);
    Ctrl-C exits 130 without a traceback. SIGTERM (`kill`, a closing terminal, a service manager) is
    handled as Ctrl-C, so a run is marked interrupted and a bench stops its workers."""

    def invoke(self, ctx: Any) -> Any:
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
        try:
            return super().invoke(ctx)
        except LapbenchError as err:
            typer.secho(f"error: {err.one_line()}", err=True, fg=typer.colors.RED)
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            typer.secho("interrupted", err=True)
            raise typer.Exit(130) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


app = typer.Typer(
    name="lapbench",
    cls=_OneLineErrors,
    help="Local-first benchmark runner for open-weight LLMs: does it fit, can it build a backend by "
    "function calling, and at what cost.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(app)


_register_commands()


def main() -> None:
    app()
