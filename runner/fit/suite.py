"""Tokens one benchmark suite processes, for the wall-time prediction.

From earlier runs in the results store when there are any (prompt tokens actually evaluated and generated
tokens of the newest finished run); otherwise a documented estimate: the AutoBe-style suite makes, per
project, four phase calls (analyze, database, interface, test) plus retries; each prompt carries the
instructions, the schema summary and the earlier phases (~6k tokens on average) and each answer is an AST of
~1.5k tokens. For the default suite of 3 projects with ~1.3 calls per phase that is ≈ 94k prompt and ≈ 23k
generated tokens.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ESTIMATE_PROJECTS, ESTIMATE_CALLS_PER_PROJECT = 3, 4 * 1.3
ESTIMATE_PROMPT_PER_CALL, ESTIMATE_GENERATED_PER_CALL = 6000, 1500


@dataclass(frozen=True)
class SuiteTokens:
    prompt: int
    generated: int
    source: str

    def as_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "generated": self.generated, "source": self.source}


def estimated_suite() -> SuiteTokens:
    calls = ESTIMATE_PROJECTS * ESTIMATE_CALLS_PER_PROJECT
    return SuiteTokens(
        int(calls * ESTIMATE_PROMPT_PER_CALL), int(calls * ESTIMATE_GENERATED_PER_CALL), "estimate"
    )


def suite_tokens(results_db: Path | None = None) -> SuiteTokens:
    """Read-only look at the results store (never creates it); falls back to the estimate."""
    from runner import paths

    db_path = results_db or paths.results_db()
    if not db_path.exists():
        return estimated_suite()
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute(
                "SELECT c.run_id, SUM(COALESCE(c.prompt_tokens_evaluated, c.prompt_tokens, 0)),"
                " SUM(COALESCE(c.generated_tokens, 0)) FROM calls c JOIN runs r ON r.run_id = c.run_id"
                " WHERE r.status = 'finished' GROUP BY c.run_id ORDER BY MAX(r.created_at) DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return estimated_suite()
    if not row or not row[2]:
        return estimated_suite()
    return SuiteTokens(int(row[1] or 0), int(row[2]), f"results store run {row[0]}")
