"""`lapbench bench`: test matrix, exact token counts on the real model, worker isolation, CLI output."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.base import Backend, LoadConfig
from runner.bench.execute import WorkerDied, WorkerHandle
from runner.bench.output import render_text
from runner.bench.plan import (
    BenchConfig,
    BenchRecord,
    BenchTest,
    Sample,
    fill_statistics,
    plan_tests,
)
from runner.bench.worker import TextSource, measure
from runner.cli import app

LLAMA_BENCH_FIELDS = (
    "model_filename",
    "n_prompt",
    "n_gen",
    "n_depth",
    "n_threads",
    "avg_ts",
    "stddev_ts",
    "samples_ts",
    "samples_ns",
    "backend",
    "grammar",
    "peak_rss_bytes",
)


def test_test_matrix_follows_llama_bench_names_and_pairs_grammar_variants() -> None:
    tests = plan_tests([512], [128], [(256, 32)], [0, 1024], [None, "llguidance"])
    names = [(t.name, t.grammar) for t in tests]
    assert names[:5] == [
        ("pp512", None),
        ("tg128", None),
        ("tg128", "llguidance"),
        ("pp256+tg32", None),
        ("pp256+tg32", "llguidance"),
    ]
    assert names[5][0] == "pp512 @ d1024"
    assert len(tests) == 10


def test_statistics_are_mean_and_sample_stddev() -> None:
    record = BenchRecord(
        model_filename="m.gguf",
        backend="llama-cpp",
        n_threads=1,
        n_ctx=512,
        n_batch=512,
        n_prompt=0,
        n_gen=10,
        n_depth=0,
        test="tg10",
        grammar=None,
        test_time="2026-01-01T00:00:00+00:00",
    )
    samples = [
        Sample(seconds=s, tokens=10, peak_rss_bytes=p) for s, p in ((0.5, 100), (0.25, 300), (0.4, 200))
    ]
    filled = fill_statistics(record, samples)
    assert filled.samples_ts == pytest.approx([20.0, 40.0, 25.0])
    assert filled.avg_ts == pytest.approx(statistics.fmean([20.0, 40.0, 25.0]))
    assert filled.stddev_ts == pytest.approx(statistics.stdev([20.0, 40.0, 25.0]))
    assert filled.samples_ns == [500_000_000, 250_000_000, 400_000_000]
    assert filled.peak_rss_bytes == 300
    csv_text = render_text([filled], "csv")
    assert csv_text.splitlines()[0].startswith("model_filename,")
    assert '"500000000,250000000,400000000"' in csv_text
    assert "28.33 ± " in render_text([filled], "md")
    assert json.loads(render_text([filled], "jsonl"))["avg_ts"] == pytest.approx(filled.avg_ts)


@pytest.fixture(scope="module")
def llama(smollm2_gguf: Path) -> Iterator[tuple[Backend, TextSource]]:
    from backends.registry import create_backend

    backend = create_backend("llama-cpp")
    backend.load(LoadConfig(model=str(smollm2_gguf), n_ctx=512, n_threads=1))
    yield backend, TextSource(backend)
    backend.close()


@pytest.mark.model
def test_measure_times_exactly_the_tests_tokens(llama: tuple[Backend, TextSource]) -> None:
    backend, source = llama
    pp = measure(backend, BenchTest(n_prompt=24), source, rep=0)
    assert pp.tokens == 24 and pp.seconds > 0
    again = measure(backend, BenchTest(n_prompt=24), source, rep=1)
    assert again.tokens == 24  # a different prompt each repetition: nothing served from the cache
    deep = measure(backend, BenchTest(n_prompt=16, n_depth=64), source, rep=0)
    assert deep.tokens == 16  # the 64-token depth was pre-filled outside the timed region
    tg = measure(backend, BenchTest(n_gen=6), source, rep=0)
    assert tg.tokens == 6 and tg.generated_tokens == 7
    pg = measure(backend, BenchTest(n_prompt=8, n_gen=4), source, rep=0)
    assert pg.tokens == 12
    assert min(pp.peak_rss_bytes, tg.peak_rss_bytes) > 50 * 1024 * 1024


@pytest.mark.model
def test_grammar_generation_runs_the_full_length_under_llguidance(llama: tuple[Backend, TextSource]) -> None:
    backend, source = llama
    sample = measure(backend, BenchTest(n_gen=12, grammar="llguidance"), source, rep=0)
    assert sample.tokens == 12
    assert sample.mask_seconds > 0
    assert sample.forced_tokens > 0  # property names of the schema are jump-forward tokens
    warm = measure(backend, BenchTest(n_gen=12, grammar="llguidance"), source, rep=1, warmup=True)
    assert warm.generated_tokens == 3  # llama-bench's warm-up: a short generation, same grammar


def test_a_killed_worker_is_reported_not_raised_through(tmp_path: Path) -> None:
    handle = WorkerHandle(BenchConfig(model=str(tmp_path / "none.gguf"), backend="fake"))
    try:
        reply = handle.request({"op": "sample", "test": asdict(BenchTest(n_gen=1)), "rep": 0})
        assert reply["ok"] is False and "before load" in reply["error"]
        os.kill(handle.process.pid, signal.SIGKILL)
        handle.process.wait()
        with pytest.raises(WorkerDied, match="code -9"):
            handle.request({"op": "sample", "test": asdict(BenchTest(n_gen=1)), "rep": 0})
    finally:
        handle.close()


@pytest.mark.model
def test_cli_bench_default_model_json(smollm2_gguf: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["test"] for r in records] == ["pp16", "tg4"]
    for record in records:
        for name in LLAMA_BENCH_FIELDS:
            assert name in record
        assert Path(record["model_filename"]).name == smollm2_gguf.name
        assert record["backend"] == "llama-cpp" and record["n_threads"] == 1 and record["grammar"] is None
        assert len(record["samples_ts"]) == len(record["samples_ns"]) == 2
        assert record["avg_ts"] > 0 and record["peak_rss_bytes"] > 0 and record["error"] is None
        assert record["cpu_info"] and record["backend_version"]


@pytest.mark.model
def test_cli_a_failing_configuration_is_reported_and_the_other_still_runs(
    smollm2_gguf: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.gguf"
    args = [
        "bench",
        str(missing),
        str(smollm2_gguf),
        "-p",
        "8",
        "-n",
        "2",
        "-r",
        "1",
        "-t",
        "1",
        "-o",
        "jsonl",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [r for r in records if r["model_filename"] == str(missing)]
    good = [r for r in records if r["model_filename"] == str(smollm2_gguf)]
    assert len(failed) == len(good) == 2
    assert all("not found" in r["error"] for r in failed)
    assert all(r["error"] is None and len(r["samples_ts"]) == 1 for r in good)
    assert "missing.gguf" in result.stderr


@pytest.mark.model
@pytest.mark.mlx
def test_cli_bench_mlx_backend(smollm2_mlx: Path) -> None:
    pytest.importorskip("mlx_lm")
    result = CliRunner().invoke(
        app, ["bench", str(smollm2_mlx), "-p", "8", "-n", "3", "-r", "1", "--no-warmup", "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert {r["backend"] for r in records} == {"mlx"}
    assert all(r["avg_ts"] > 0 and r["peak_rss_bytes"] > 0 for r in records)


def test_cli_rejects_bad_options() -> None:
    result = CliRunner().invoke(app, ["bench", "/x.gguf", "-p", "12,abc"])
    assert result.exit_code == 2
    assert "-p expects comma-separated integers" in result.stderr
    result = CliRunner().invoke(app, ["bench", "/x.gguf", "-o", "xml"])
    assert result.exit_code == 2


@pytest.mark.model
def test_repetitions_alternate_between_configurations(smollm2_gguf: Path, tmp_path: Path) -> None:
    from runner.bench.execute import BenchSpec, run_bench

    models = [tmp_path / "A.gguf", tmp_path / "B.gguf"]
    for link in models:
        link.symlink_to(smollm2_gguf)
    configs = tuple(BenchConfig(model=str(m), backend="llama-cpp", n_threads=1) for m in models)
    spec = BenchSpec(configs=configs, tests=(BenchTest(n_prompt=4),), repetitions=2, warmup=False)
    seen: list[str] = []
    records = run_bench(spec, lambda what, _n: seen.append(what) if "rep" in what else None)
    assert [what[0] for what in seen] == ["A", "B", "A", "B"]
    assert [len(r.samples_ns) for r in records] == [2, 2]


@pytest.mark.model
def test_a_catalog_id_names_its_local_file(smollm2_gguf: Path) -> None:
    from runner.bench.spec import locate_model
    from runner.errors import ConfigError

    assert locate_model("smollm2-135m") == (str(smollm2_gguf), "llama-cpp")
    # neither a file nor a catalog id: one line from the resolver, as `bench no-such-model` always ended (exit 2)
    with pytest.raises(ConfigError, match="not a catalog id"):
        locate_model("no-such-model")
    with pytest.raises(ConfigError, match="no quant 'Q8_0'"):
        locate_model("smollm2-135m:Q8_0")


def test_fail_fast_stops_the_sweep_at_the_first_failure(tmp_path: Path) -> None:
    first, second = tmp_path / "first.gguf", tmp_path / "second.gguf"
    args = ["bench", str(first), str(second), "-p", "8", "-n", "0", "-r", "1", "--fail-fast", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    records = {Path(r["model_filename"]).name: r for r in json.loads(result.stdout)}
    assert "not found" in records["first.gguf"]["error"]
    assert records["second.gguf"]["error"].startswith("skipped")


@pytest.mark.model
def test_tests_beyond_the_trained_context_are_refused(smollm2_gguf: Path) -> None:
    for extra in (["-p", "9000", "-n", "0"], ["-p", "16", "-n", "4", "--ctx", "16384"]):
        done = CliRunner().invoke(app, ["bench", str(smollm2_gguf), *extra, "-r", "1"])
        assert done.exit_code == 2, done.output
        assert "beyond the 8192 the model was trained for" in done.output and "Traceback" not in done.output


@pytest.mark.model
def test_bench_reports_progress_for_every_load_and_sample(smollm2_gguf: Path) -> None:
    from runner.bench.execute import BenchSpec, run_bench

    config = BenchConfig(model=str(smollm2_gguf), backend="llama-cpp", n_threads=1)
    spec = BenchSpec(configs=(config,), tests=(BenchTest(n_prompt=8),), repetitions=2, warmup=False)
    events: list[tuple[str, int]] = []
    (record,) = run_bench(spec, lambda what, done: events.append((what, done)))
    assert record.error is None and sum(done for _, done in events) == spec.units
    assert [what for what, done in events if what and not done] == [
        f"loading {config.label}",
        f"{config.label} pp8 rep 1/2",
        f"{config.label} pp8 rep 2/2",
    ]


@pytest.mark.model
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_bench_ends_its_worker_at_once(smollm2_gguf: Path, signum: int) -> None:
    import psutil

    from tests.support.processes import start

    process = start("bench", str(smollm2_gguf), "-p", "0", "-n", "4000", "-r", "3", "--no-warmup", "-t", "1")
    parent = psutil.Process(process.pid)
    workers: list[psutil.Process] = []
    try:
        while True:  # until the worker is generating (its CPU time is past what loading the model takes)
            assert process.poll() is None, process.communicate()
            workers = parent.children()
            if workers and workers[0].cpu_times().user > 2.0:
                break
            time.sleep(0.1)
        process.send_signal(signum)
        # A worker asked to quit would finish its 4000-token sample first (minutes), and the parent would
        # give it 30 s before killing it: ending well inside that is what "at once" means here.
        process.communicate(timeout=25)
        assert process.returncode == 130
        _, alive = psutil.wait_procs(workers, timeout=5)
        assert alive == []
    finally:
        for leftover in [process, *workers]:
            with contextlib.suppress(Exception):
                leftover.kill()
