"""User-facing errors: one line saying what went wrong, where, and how to fix it."""

from __future__ import annotations


class LapbenchError(Exception):
    """An error the CLI prints as one line (no traceback) before exiting with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} (fix: {self.hint})" if self.hint else self.message


class ConfigError(LapbenchError):
    """Malformed user input (models.toml, project files, options): exit code 2 like a usage error."""

    exit_code = 2


class ModelFileError(LapbenchError):
    """A model file is missing, truncated, or fails its checksum."""

    exit_code = 3
