"""`--price-in` / `--price-out`: the cost of a run, stored with it and shown by `run`, `report` and `compare`,
computed from the prompt and generated tokens of every call in the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.projects import builtin_projects
from runner.report.build import build_report
from runner.report.compare import compare_runs, format_comparison
from runner.run.config import RunConfig
from runner.run.cost import format_cost, run_cost
from runner.run.record import RunRecord
from runner.run.run import benchmark
from runner.run.store import ResultsStore


def test_run_cost_is_tokens_times_prices() -> None:
    profile = {"prompt_tokens": 2_000_000, "generated_tokens": 500_000}
    assert run_cost({"price_in": 0.25, "price_out": 1.0}, profile) == pytest.approx(1.0)
    assert run_cost({"price_in": 0.1, "price_out": None}, profile) == pytest.approx(0.2)
    assert run_cost({"price_in": None, "price_out": None}, profile) is None
    assert run_cost({}, profile) is None
    assert run_cost({"price_out": 2.0}, {}) == 0.0
    assert [format_cost(x) for x in (None, 0.00042, 0.5, 1234.5)] == ["—", "$0.0004", "$0.5000", "$1,234.50"]


def _oracle_run(path: Path, **prices: float) -> RunRecord:
    config = RunConfig(model="gold", model_label="oracle", backend="oracle", suite="todo", **prices)
    return benchmark(config, [builtin_projects()["todo"]], path)


def test_cost_is_stored_with_the_run_and_shown_by_report_and_compare(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    priced = _oracle_run(path, price_in=0.25, price_out=2.0)
    free = _oracle_run(path)
    with ResultsStore(path) as store:
        rows = store.call_rows(priced.run_id)
        assert store.load_run(priced.run_id).cost_usd == priced.cost_usd
    prompt, generated = sum(r["prompt_tokens"] for r in rows), sum(r["generated_tokens"] for r in rows)
    assert prompt > 0 and generated > 0
    assert priced.cost_usd == pytest.approx((0.25 * prompt + 2.0 * generated) / 1e6)
    assert priced.config["price_in"] == 0.25 and free.cost_usd is None

    files = build_report(path, [priced.run_id, free.run_id], tmp_path / "report.html")
    markdown = files.markdown.read_text()
    lines = markdown.splitlines()
    top = next(i for i, line in enumerate(lines) if "| cost |" in line)
    table = [[c.strip() for c in line.strip("|").split("|")] for line in lines[top : top + 4]]
    column = table[0].index("cost")
    assert table[0][column - 1] == "score"  # the cost sits next to the score
    shown = {row[column] for row in table[2:]}
    assert shown == {format_cost(priced.cost_usd), "—"}
    assert format_cost(priced.cost_usd) in files.html.read_text()

    comparison = compare_runs(path, priced.run_id, free.run_id, samples=200)
    assert comparison.as_json()["a"]["cost_usd"] == priced.cost_usd
    assert comparison.as_json()["b"]["cost_usd"] is None
    text = format_comparison(comparison)
    assert f"cost {format_cost(priced.cost_usd)}" in text and "cost —" in text


def test_cli_run_prints_the_cost(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    common = ["run", "--backend", "oracle", "--suite", "todo", "--results", str(db)]
    prices = ["--price-in", "0.2", "--price-out", "0.8"]
    shown = CliRunner().invoke(app, [*common, *prices])
    assert shown.exit_code == 0, shown.output
    assert "cost $" in shown.output and "prompt tokens at $0.2/M" in shown.output
    as_json = CliRunner().invoke(app, [*common, *prices, "--json"])
    record = json.loads(as_json.output[as_json.output.index("{") :])
    assert record["cost_usd"] > 0 and record["config"]["price_out"] == 0.8
    refused = CliRunner().invoke(app, [*common, "--price-in", "-1"])
    assert refused.exit_code != 0
