"""The realize phase through the pipeline: the oracle writes every operation's logic on the first try
and the assembled document is the gold realize; a broken answer gets placed feedback and is repaired."""

from __future__ import annotations

import json
from pathlib import Path

from runner.gold import load_gold
from runner.projects import builtin_projects
from runner.run.config import RunConfig
from runner.run.record import RunRecord
from runner.run.run import benchmark, execute_run, start_run
from runner.run.store import ResultsStore
from runner.schemas.realize import RealizeDocument
from tests.support.broken_oracle import GHOST_TABLE, BrokenRealizeOracle

ORACLE = RunConfig(model="gold", model_label="oracle", backend="oracle", suite="full")


def _realize_document(path: Path, run_id: str) -> RealizeDocument:
    with ResultsStore(path) as store:
        rows = {r["phase"]: r["document_json"] for r in store.phase_rows(run_id)}
    return RealizeDocument.model_validate_json(rows["realize"])


def test_the_oracle_writes_every_operation_first_try_and_the_gold_realize_is_assembled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "results.sqlite"
    record = benchmark(ORACLE, [builtin_projects()["todo"]], path)
    (result,) = record.results
    realize = result.phases["realize"]
    gold = load_gold("todo")
    assert gold.realize is not None
    operations = len(gold.interface.operations)
    counts = (realize.status, realize.parts, realize.parts_valid, realize.retries)
    assert counts == ("ok", operations, operations, 0)
    assert record.phases["realize"].first_try_successes == operations
    assert _realize_document(path, record.run_id) == gold.realize


def test_a_broken_realize_answer_gets_placed_feedback_and_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    run_id = start_run(ORACLE, [builtin_projects()["todo"]], path)
    oracle = BrokenRealizeOracle()
    record: RunRecord = execute_run(run_id, path, create_backend=lambda _name: oracle)
    realize = record.results[0].phases["realize"]
    assert oracle.broken and (realize.status, realize.retries, realize.first_try_successes) == ("ok", 1, 11)
    assert realize.parts == realize.parts_valid == 12
    with ResultsStore(path) as store:
        calls = [c for c in store.call_rows(run_id) if c["phase"] == "realize"]
    first, retry = calls[0], calls[1]
    assert (first["valid"], retry["valid"], retry["attempt"]) == (0, 1, 1)
    feedback = json.loads(retry["prompt"])[-1]["content"]
    assert "$input.steps[0].table" in feedback and f'"{GHOST_TABLE}"' in feedback
    assert _realize_document(path, run_id) == load_gold("todo").realize
