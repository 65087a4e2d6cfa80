"""Reports: HTML + Markdown from a store holding two models' runs (made through the store's own API),
checked in headless Chromium; compare with bootstrap significance; export."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.report.bootstrap import bootstrap_difference
from runner.report.build import build_report
from runner.report.compare import compare_runs, format_comparison
from runner.report.plots import pareto_front
from runner.run.aggregate import build_record
from runner.run.record import CallAttempt, PhaseSummary, ProjectResult
from runner.run.store import ResultsStore

MACHINE = {
    "os": "Linux",
    "os_version": "6.1",
    "arch": "x86_64",
    "python": "3.11",
    "hostname_hash": "ab12",
    "cpu_model": "Test CPU",
    "cpu_cores_physical": 2,
    "cpu_cores_logical": 2,
    "ram_bytes": 24 * 2**30,
}
PROJECTS = ("todo", "discussion_board")
# (label, mode, mean score per axis, decode tok/s, peak RSS GiB, wall seconds)
MODELS = {
    "smollm2": ("SmolLM2-135M-Instruct.Q4_1", "grammar", {"database": 14, "interface": 9, "test": 3, "efficiency": 11},
                38.0, 0.45, 240.0),
    "gemma": ("gemma-3-270m-q4_k_m", "free", {"database": 6, "interface": 3, "test": 0, "efficiency": 6},
              24.0, 0.7, 410.0),
}  # fmt: skip


def _make_run(store: ResultsStore, key: str, repeats: int = 3) -> str:
    label, mode, axes, tps, rss_gib, wall = MODELS[key]
    rng = random.Random(key)
    run_id = f"20261124-0900-{key}"
    config = {"model_label": label, "backend": "llama-cpp", "suite": "smoke", "mode": mode, "engine": "llguidance",
              "repeats": repeats, "seed": 0}  # fmt: skip
    store.create_run(run_id, model=label, backend="llama-cpp", suite="smoke", rubric_version="1", config=config,
                     machine=MACHINE)  # fmt: skip
    results = []
    for repeat in range(repeats):
        for project in PROJECTS:
            got = {a: max(0.0, v + rng.uniform(-2, 2)) for a, v in axes.items()}
            phases = {}
            for p, phase in enumerate(("analyze", "database", "interface", "test")):
                first_try = rng.random() < (0.8 if mode == "grammar" else 0.4)
                attempts = 1 if first_try else 3
                for attempt in range(attempts):
                    measures = {
                        "prompt_tokens": 900,
                        "prompt_tokens_evaluated": 600,
                        "generated_tokens": 250,
                        "generation_tps": tps * rng.uniform(0.9, 1.1),
                        "prompt_tps": 400.0,
                        "ttft_seconds": 1.4,
                        "peak_rss_bytes": int(rss_gib * 2**30 * rng.uniform(0.95, 1)),
                    }
                    store.record_call(
                        run_id,
                        CallAttempt(
                            key=f"{repeat}/{project}/{phase}/{attempt}",
                            repeat=repeat,
                            project=project,
                            phase=phase,
                            part="all",
                            attempt=attempt,
                            prompt="[]",
                            raw_output="{}",
                            valid=attempt == attempts - 1,
                            errors=(),
                            feedback="",
                            finish_reason="stop",
                            constrained=mode == "grammar",
                            engine="llguidance",
                            schema_hash="h",
                            wall_seconds=2.0 + p,
                            measures=measures,
                        ),
                    )
                phases[phase] = PhaseSummary(
                    status="ok",
                    calls=attempts,
                    retries=attempts - 1,
                    first_try_successes=int(first_try),
                    tokens=850 * attempts,
                    parts=1,
                    parts_valid=1,
                )
            results.append(ProjectResult(project=project, repeat=repeat, seed=repeat * 1000, score=sum(got.values()),
                                         axes=got, dimensions={"ddl_executes": got["database"] / 5,
                                                               "crud_coverage": got["interface"] / 3},
                                         phases=phases))  # fmt: skip
    record = build_record(run_id=run_id, status="finished", config=config, machine=MACHINE, projects=PROJECTS,
                          results=results, started_at="2026-11-24T09:00:00+00:00",
                          finished_at="2026-11-24T09:05:00+00:00", wall_seconds=wall)  # fmt: skip
    store.save_record(record)
    return run_id


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "results.sqlite"
    with ResultsStore(path) as store:
        _make_run(store, "smollm2")
        _make_run(store, "gemma")
    return path


@pytest.fixture(scope="module")
def report_html(store_path: Path) -> Path:
    files = build_report(store_path, [], store_path.parent / "out" / "report.html")
    assert files.runs == 2
    return files.html


def test_report_html_and_markdown_have_leaderboard_and_plots(report_html: Path) -> None:
    text = report_html.read_text()
    assert 'id="leaderboard"' in text and text.count('<img class="plot"') == 5
    assert "http://" not in text and "https://" not in text and "<script" not in text  # self-contained
    assert text.index("SmolLM2") < text.index("gemma-3")  # the better model ranks first
    md = report_html.with_suffix(".md").read_text()
    assert "## Leaderboard" in md and "| 1 | SmolLM2-135M-Instruct.Q4_1 (grammar)" in md
    assert "significant" in md and "Test CPU" in md and "Q4_1" in md


def _chromium() -> str | None:
    return next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--hide-scrollbars"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report_html: Path, tmp_path: Path) -> None:
    browser = _chromium()
    assert browser is not None
    base = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", report_html.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout  # fmt: skip
    assert '<section id="leaderboard">' in dom and dom.count('class="plot"') == 5
    assert "SmolLM2-135M-Instruct.Q4_1 (grammar)" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1280,2400", report_html.as_uri()],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    colours = {tuple(int(c * 255) for c in px[:3]) for px in pixels[::8, ::8].reshape(-1, pixels.shape[2])}
    assert len(colours) > 50  # the plots painted (a blank or text-only page has a handful of colours)


def test_compare_flags_significance_and_is_deterministic(store_path: Path) -> None:
    first = compare_runs(store_path, "20261124-0900-smollm2", "20261124-0900-gemma", samples=500)
    again = compare_runs(store_path, "20261124-0900-smollm2", "20261124-0900-gemma", samples=500)
    assert first.as_json() == again.as_json()
    score = first.rows[0]
    assert score.name == "score" and score.difference.diff > 0 and score.difference.significant
    assert "significant" in format_comparison(first)


def test_bootstrap_difference_cases() -> None:
    def results(scores: list[float], project: str = "todo") -> list[ProjectResult]:
        return [ProjectResult(project=project, repeat=i, seed=i, score=s, axes={}, dimensions={}, phases={})
                for i, s in enumerate(scores)]  # fmt: skip

    same = bootstrap_difference(results([50, 52, 48, 51]), results([51, 49, 50, 50]), lambda r: r.score)
    assert not same.significant and same.low < 0 < same.high
    apart = bootstrap_difference(results([80, 82, 81]), results([40, 41, 42]), lambda r: r.score)
    assert apart.significant and apart.low > 30
    single = bootstrap_difference(results([60]), results([40]), lambda r: r.score)
    assert not single.significant and "one sample" in single.reason


def test_pareto_front_keeps_only_undominated_points() -> None:
    points = [(1.0, 40.0), (2.0, 35.0), (3.0, 60.0), (0.5, 10.0), (3.0, 50.0)]
    assert pareto_front(points) == [(0.5, 10.0), (1.0, 40.0), (3.0, 60.0)]


def test_cli_report_compare_export(store_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "--results", str(store_path), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["runs"] == 2 and out.exists()
    res = runner.invoke(app, ["compare", "20261124-0900-smollm2", "20261124-0900-gemma", "--results",
                              str(store_path), "--json", "--samples", "200"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert {r["kind"] for r in json.loads(res.output)["rows"]} == {"score", "axis", "dimension"}
    res = runner.invoke(
        app, ["export", "20261124-0900-gemma", "--results", str(store_path), "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert len(rows) == 6 and "dim.crud_coverage" in rows[0] and "axis.database" in rows[0]
    res = runner.invoke(
        app, ["export", "20261124-0900-gemma", "--results", str(store_path), "--table", "calls"]
    )
    lines = [json.loads(line) for line in res.output.splitlines()]
    assert lines and "generation_tps" in lines[0] and "prompt" not in lines[0]
    by_model = runner.invoke(app, ["compare", "SmolLM2-135M-Instruct.Q4_1", "gemma-3-270m-q4_k_m",
                                   "--results", str(store_path), "--samples", "200"])  # fmt: skip
    assert by_model.exit_code == 0 and "20261124-0900-smollm2" in by_model.output
    res = runner.invoke(app, ["compare", "nope", "gemma-3-270m-q4_k_m", "--results", str(store_path)])
    assert res.exit_code != 0 and "no run or model" in res.output
    res = runner.invoke(app, ["export", "nope", "--results", str(store_path)])
    assert res.exit_code != 0 and "no run" in res.output


def test_compare_marks_an_axis_inversion() -> None:
    from runner.report.compare import compare_views
    from runner.report.data import RunView

    def view(run_id: str, database: list[float], interface: list[float]) -> RunView:
        config = {"model_label": run_id, "backend": "llama-cpp", "suite": "smoke", "mode": "grammar",
                  "engine": "llguidance", "repeats": len(database)}  # fmt: skip
        results = [
            ProjectResult(
                project="todo",
                repeat=i,
                seed=i,
                score=d + a,
                axes={"database": d, "interface": a},
                dimensions={},
                phases={},
            )
            for i, (d, a) in enumerate(zip(database, interface, strict=True))
        ]
        record = build_record(run_id=run_id, status="finished", config=config, machine={}, projects=["todo"],
                              results=results, started_at="", finished_at=None, wall_seconds=1.0)  # fmt: skip
        return RunView(record, run_id, None, None, None, None)

    big = view("big", [20, 21, 22, 20], [5, 6, 5, 4])
    small = view("small", [5, 6, 4, 5], [10, 11, 9, 10])
    rows = {r.name: r for r in compare_views(big, small, samples=500).rows}
    assert rows["score"].difference.significant and not rows["score"].inversion
    assert rows["interface"].inversion and rows["interface"].difference.significant
    assert not rows["database"].inversion


def test_compare_warns_when_the_runs_did_not_do_the_same_work(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"

    def oracle(*args: str) -> str:
        done = CliRunner().invoke(app, ["run", "--backend", "oracle", "--results", str(db), "--json", *args])
        assert done.exit_code == 0, done.output
        return str(json.loads(done.stdout[done.stdout.index("{") :])["run_id"])

    smoke, again = oracle(), oracle("--seed", "1")
    project = tmp_path / "todo.toml"
    with ResultsStore(db) as store:
        todo = store.run_config(smoke)["projects"][0]
    todo["requirements"] += " Tasks can be pinned."
    project.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in todo.items()))
    edited = oracle("--project-file", str(project))

    def warning(a: str, b: str) -> str | None:
        done = CliRunner().invoke(app, ["compare", a, b, "--json", "--samples", "100", "--results", str(db)])
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)["warning"]

    assert warning(smoke, again) is None
    said = warning(smoke, edited)
    assert (
        said is not None
        and "suites smoke and custom" in said
        and "different definitions of project todo" in said
    )
    text = (
        CliRunner().invoke(app, ["compare", smoke, edited, "--samples", "100", "--results", str(db)]).output
    )
    assert "WARNING: " in text and "did not do the same work" in text
