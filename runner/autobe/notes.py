"""Import bookkeeping: what an import changed (lossy mappings, counted per kind) and what it could not
import at all (those parts fail the gate)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import ValidationError

from runner.schemas.base import DESCRIPTION_MAX

T = TypeVar("T")


@dataclass
class ImportNotes:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def note(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    def error(self, where: str, exc: ValidationError | str) -> None:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            self.errors.append(f"{where}: {loc}: {first['msg']} ({exc.error_count()} error(s))")
        else:
            self.errors.append(f"{where}: {exc}")

    def text(self, value: object, what: str) -> str:
        """A description, cut to lapbench's cap (a generation limit, not a defect of the source)."""
        text = value if isinstance(value, str) else ""
        if len(text) > DESCRIPTION_MAX:
            self.note(f"{what} descriptions cut to {DESCRIPTION_MAX} characters")
            return text[: DESCRIPTION_MAX - 1] + "…"
        return text

    def lines(self) -> list[str]:
        return [f"{what} (x{n})" if n > 1 else what for what, n in sorted(self.counts.items())]


@dataclass(frozen=True)
class ImportResult(Generic[T]):
    """`document` is None only when nothing could be imported; `errors` non-empty fails the gate."""

    document: T | None
    notes: list[str]
    errors: list[str]
