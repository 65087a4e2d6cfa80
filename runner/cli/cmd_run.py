"""`lapbench run` (the benchmark), `lapbench runs` (stored runs) and `lapbench score FILE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import typer

from runner.errors import ConfigError


def _backend_options(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    raw = text
    if text.startswith("@"):
        try:
            raw = Path(text[1:]).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise ConfigError(
                f"--backend-options {text}: cannot read {text[1:]}: {reason}",
                hint="give the path of a JSON file after @, or the JSON itself",
            ) from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"--backend-options is not JSON: {err}", hint='e.g. \'{"base_url": "http://..."}\''
        ) from None
    if not isinstance(value, dict):
        raise ConfigError("--backend-options must be a JSON object")
    return value


def _results(path: Path | None) -> Path:
    from runner import paths

    return path.expanduser() if path else paths.results_db()


RESUME_KEEPS = frozenset({"resume", "results", "as_json"})
"""The options a resumed run takes; every other one was fixed when the run started."""


def _refuse_options_with_resume(ctx: typer.Context) -> None:
    def given_by_user(name: str) -> bool:
        source = ctx.get_parameter_source(name)  # typer vendors click: compare the enum by name
        return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")

    given = [p for p in ctx.command.params if p.name not in RESUME_KEEPS and given_by_user(p.name or "")]
    if given:
        names = ", ".join(
            p.opts[0] if p.param_type_name == "option" else p.name.upper() for p in given if p.name
        )
        raise ConfigError(
            f"--resume continues a run with the settings it started with; {names} cannot change them",
            hint="drop them, or start a new run without --resume",
        )


def _track(name: str) -> Literal["full", "realize", "test"]:
    from runner.run.tracks import TRACKS

    for track in TRACKS:
        if name == track:
            return track
    raise ConfigError(f"--track must be one of {', '.join(TRACKS)}, not {name!r}")


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        context: typer.Context,
        model: str = typer.Argument(
            None,
            help="GGUF file, MLX folder, catalog id[:QUANT], org/repo:QUANT, hf://org/repo/file.gguf, "
            "ollama:MODEL[:TAG] (found where Hugging Face, LM Studio, Ollama or llama.cpp keep them), or a "
            "server model name. Default: the bundled model.",
        ),
        backend: str = typer.Option(
            None,
            "--backend",
            help="llama-cpp, mlx, openai, fake, or oracle (the gold answers; with MODEL, forced through "
            "it) (default: from MODEL).",
        ),
        suite: str = typer.Option("smoke", "--suite", help="smoke, standard, full, or one project id."),
        track: str = typer.Option(
            "full",
            "--track",
            help="full: every phase, own tests against own logic; realize: only the logic, for the gold "
            "database and interface, judged by the gold tests; test: only the tests, run against the gold "
            "logic and its mutants (mutation score). realize and test need reference projects.",
        ),
        project_file: list[Path] = typer.Option(
            None, "--project-file", help="Run this project file instead of a suite (repeatable)."
        ),
        mode: str = typer.Option(
            "grammar", "--mode", help="grammar (constrained decoding) or free (parse leniently)."
        ),
        engine: str = typer.Option("llguidance", "--engine", help="Grammar engine: llguidance or gbnf."),
        grammar: str = typer.Option(
            "narrowed",
            "--grammar",
            help="Grammar mode: narrowed (each call's schema narrowed by what the run already knows: table, "
            "operation and actor names as enums, so dangling references cannot be decoded) or schema (the "
            "plain tool schema, to measure what narrowing buys).",
        ),
        repeats: int = typer.Option(
            1, "--repeats", min=1, help="Runs with different seeds; scores get a 95% CI."
        ),
        retries: int = typer.Option(3, "--retries", min=0, max=10, help="Feedback retries per tool call."),
        seed: int = typer.Option(0, "--seed", help="Base seed (repeat i uses seed + 1000 i)."),
        temperature: float = typer.Option(0.3, "--temperature", min=0.0, help="Sampling temperature."),
        ctx: int = typer.Option(
            None,
            "--ctx",
            min=512,
            help="Context size in tokens (default: the model's trained context, at most 16384: the longest "
            "gold test functions need about 9000 with their prompt; 8192 for an HTTP server).",
        ),
        threads: int = typer.Option(
            None, "--threads", min=1, help="CPU threads (default: the backend's choice)."
        ),
        max_tokens: int = typer.Option(
            None,
            "--max-tokens",
            min=16,
            help="Cap on every call's output tokens (default: per tool, 448-1024).",
        ),
        resume: str = typer.Option(
            None,
            "--resume",
            help="Continue an interrupted run by its id, with the settings it started with (only --results "
            "and --json go with it); refused when its model file changed.",
        ),
        results: Path = typer.Option(
            None, "--results", help="Results database (default: the user data dir)."
        ),
        backend_options: str = typer.Option(
            None, "--backend-options", help="JSON object (or @file) for the backend."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the run record as JSON."),
        force: bool = typer.Option(False, "--force", help="Run even when the model may not fit in memory."),
        parallel: int = typer.Option(
            1, "--parallel", min=1, max=64, help="Calls in flight at once (HTTP backends: server slots)."
        ),
        price_in: float = typer.Option(
            None, "--price-in", min=0.0, help="Dollars per million prompt tokens: show the run's cost."
        ),
        price_out: float = typer.Option(
            None, "--price-out", min=0.0, help="Dollars per million generated tokens."
        ),
        repeat_penalty: float = typer.Option(
            0.0,
            "--repeat-penalty",
            min=0.0,
            help="Presence penalty: subtracted from the logit of every token generated in the last "
            "--repeat-window tokens (0 = off). HTTP: sent as presence_penalty.",
        ),
        repeat_window: int = typer.Option(
            256, "--repeat-window", min=1, help="Generated tokens the repetition penalties look back on."
        ),
        dry: float = typer.Option(
            None,
            "--dry",
            min=0.0,
            help="DRY multiplier: a token that would extend a repeated span of n >= --dry-allowed-length "
            "tokens loses dry * dry_base^(n - allowed) (0 = off; default 0.8 on llama-cpp and mlx, 0 on "
            "HTTP servers, where only llama-server has DRY).",
        ),
        dry_base: float = typer.Option(1.75, "--dry-base", min=1.0, help="DRY growth per repeated token."),
        dry_allowed_length: int = typer.Option(
            2, "--dry-allowed-length", min=1, help="Repeated spans this long go unpenalised."
        ),
        think: int = typer.Option(
            0,
            "--think",
            min=0,
            help="Grammar mode: let a reasoning model think for up to N tokens in its own format (think "
            "tags or analysis channel) before each constrained call; refused for models without one.",
        ),
    ) -> None:
        """Run the function-calling benchmark: analyze → database → interface → test → realize, then the
        built backend is executed; scored out of 100. With no MODEL: the bundled default model on the smoke
        suite, fully offline. Ctrl-C stops cleanly; continue with --resume RUN_ID."""
        from rich.console import Console

        from runner.projects import Project, resolve_projects
        from runner.run.config import RunConfig, model_for_run, oracle_options, run_context
        from runner.run.progress import RunProgress, score_tables
        from runner.run.run import benchmark

        path = _results(results)
        config: RunConfig | None = None
        projects: list[Project] = []
        if resume is not None:
            _refuse_options_with_resume(context)
        else:
            if mode not in ("grammar", "free"):
                raise ConfigError(f"--mode must be grammar or free, not {mode!r}")
            if grammar not in ("narrowed", "schema"):
                raise ConfigError(f"--grammar must be narrowed or schema, not {grammar!r}")
            projects = resolve_projects(suite, project_file or [])
            options = oracle_options(model, backend, _backend_options(backend_options))
            model_path, label, backend = model_for_run(model, backend)
            config = RunConfig(
                model=model_path, model_label=label, backend=backend,
                suite="custom" if project_file else suite, track=_track(track), mode=mode, grammar=grammar,
                engine=engine, repeats=repeats, retries=retries, seed=seed, temperature=temperature,
                n_ctx=ctx or run_context(model_path, backend), n_threads=threads, max_tokens=max_tokens,
                force=force, backend_options=options,
                parallel=parallel, price_in=price_in, price_out=price_out,
                repeat_penalty=repeat_penalty, repeat_window=repeat_window, dry_base=dry_base,
                dry_allowed_length=dry_allowed_length, think=think, **({} if dry is None else {"dry": dry}),
            )  # fmt: skip
        with RunProgress() as progress:
            record = benchmark(config, projects, path, resume=resume, hooks=progress.hooks())
            progress.finish()
        if as_json:
            typer.echo(record.model_dump_json(indent=2))
            return
        console = Console()
        for table in score_tables(record):
            console.print(table)
        if record.cost_usd is not None:
            from runner.run.cost import cost_note

            console.print(cost_note(record.config, record.profile))

    @app.command()
    def runs(
        results: Path = typer.Option(
            None, "--results", help="Results database (default: the user data dir)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
    ) -> None:
        """List the stored benchmark runs, newest first (all fields with --json)."""
        from rich import box
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        from runner.report.data import version_mark
        from runner.run.store import ResultsStore

        with ResultsStore(_results(results), read_only=True) as store:
            rows = store.list_runs()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        # Five columns fit an 80-column terminal. The id is what --resume, report and compare take, and it
        # starts with the start time (UTC); backend, times and the full model label are in --json.
        cells = [
            (r["run_id"], r["model"], r["suite"], str(r["calls"]),
             r["status"] if r["score"] is None else escape(f"{r['score']:.1f}{version_mark(r['rubric_version'])}"))
            for r in rows
        ]  # fmt: skip
        headers = ("run", "model", "suite", "calls", "result")
        widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]
        console = Console()
        room = max(8, console.width - sum(widths) + widths[1] - 2 * (len(headers) - 1))
        table = Table(title=f"{len(rows)} runs", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.collapse_padding = True
        table.add_column("run", overflow="fold")  # too narrow a terminal folds the id, never cuts it
        for header in headers[1:]:
            table.add_column(header, no_wrap=True, justify="right" if header == "calls" else "left")
        for run_id, model, *rest in cells:
            table.add_row(run_id, _short_model(model, room), *rest)
        console.print(table)

    @app.command()
    def score(
        file: Path = typer.Argument(
            ..., help="An AST document (JSON) of one phase, or AutoBe output (file or folder)."
        ),
        phase: str = typer.Option(
            None, "--phase", help="analyze, database, interface or test (default: detect)."
        ),
        project: str = typer.Option(None, "--project", help="Project id or file, for coverage dimensions."),
        database: Path = typer.Option(
            None, "--database", help="Database document, to score an interface against."
        ),
        interface: Path = typer.Option(
            None, "--interface", help="Interface document, to score tests against."
        ),
        autobe: bool = typer.Option(
            False,
            "--autobe",
            help="FILE is AutoBe's prisma.json/document.json, or a vendor/model/project tree.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Score one AST document with the rubric (its axis only), or AutoBe's own outputs (detected, or
        --autobe). Exit 1 when a document does not validate (AutoBe: fails its gate)."""
        from rich.console import Console
        from rich.table import Table

        from runner.score.document import is_autobe, score_file

        if autobe or is_autobe(file):
            raise typer.Exit(_score_autobe(file, as_json))
        result = score_file(file, phase=phase, project=project, database=database, interface=interface)
        if as_json:
            typer.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        else:
            table = Table(
                title=f"{file.name}: {result.phase} · {result.points:.1f} / {result.max_points:.0f}"
            )
            for column in ("dimension", "points", "max", "detail"):
                table.add_column(column)
            for d in result.dimensions:
                table.add_row(d.name, f"{d.points:.2f}", f"{d.max_points:.1f}", d.detail)
            Console().print(table)
            if not result.valid:
                typer.echo(result.feedback)
        raise typer.Exit(0 if result.valid else 1)


def _short_model(label: str, width: int) -> str:
    """A model label in `width` characters: a URL or a path keeps its last part, and a longer name keeps
    its start and its end (where the quant is), joined by "…"."""
    name = (label.rstrip("/").rsplit("/", 1)[-1] or label).removesuffix(".gguf")
    if len(name) <= width:
        return name
    tail = max(6, width // 3)
    return name[: width - tail - 1] + "…" + name[-tail:]


def _score_autobe(path: Path, as_json: bool) -> int:
    """AutoBe's outputs scored on the database and interface axes (runner.autobe); the exit code."""
    from runner.autobe import format_table, score_autobe_file, score_autobe_tree

    records = score_autobe_tree(path) if path.is_dir() else [score_autobe_file(path)]
    if as_json:
        data: Any = [r.as_json() for r in records] if path.is_dir() else records[0].as_json()
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif path.is_dir():
        typer.echo(format_table(records))
    else:
        record = records[0]
        typer.echo(
            f"{path}: AutoBe {record.kind} of {record.model}/{record.project}: {record.score:.1f} / "
            f"{sum(d.max_points for d in record.dimensions):g}"
        )
        for d in record.dimensions:
            typer.echo(f"  {d.name:<22} {d.points:5.2f} / {d.max_points:4.1f}  {d.detail}")
    return 0 if all(r.gate_passed for r in records) else 1
