"""Documents from files, for `lapbench validate` (the CLI stays thin)."""

from __future__ import annotations

from pathlib import Path

from runner.errors import ConfigError
from runner.schemas.feedback import ValidationReport
from runner.schemas.lenient import validate_text
from runner.schemas.validate import PARTS, PHASES, validate_document, validate_part

NAMES = (*PHASES, *PARTS)


def _known(name: str) -> str:
    if name not in NAMES:
        raise ConfigError(f"unknown phase or part {name!r}", hint=f"use one of: {', '.join(NAMES)}")
    return name


def check_file(name: str, path: Path, lenient: bool = False) -> ValidationReport:
    """Validate the JSON document in `path` as phase or part `name`. A file that cannot be read is a
    ConfigError (exit 2); text that is not JSON is an invalid document (an error in the report)."""
    _known(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read {path}: {reason}", hint="pass a readable UTF-8 JSON file") from None
    if lenient:
        report, _ = validate_text(name, text)
        return report
    return validate_part(name, text) if name in PARTS else validate_document(name, text)
