"""What a failed CLI command must look like: a non-zero exit, no traceback, one `error:` line."""

from __future__ import annotations

from typer.testing import Result

from tests.support.processes import one_line_error


def failed_one_line(done: Result) -> str:
    """The one `error:` line of a command that failed cleanly (asserts it is exactly one)."""
    assert done.exit_code not in (0, None), done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    return one_line_error(done.output)
