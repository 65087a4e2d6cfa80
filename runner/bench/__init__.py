"""The benchmark: reference projects through the phase pipeline (analyze → database → interface → test)
with forced, validated tool calls and a feedback loop, scored by the rubric, stored in SQLite.

Entry points:
- `runner.bench.run.benchmark(config, projects, results_path, resume=..., hooks=...) -> RunRecord`
  (what `lapbench run` calls; `start_run` + `execute_run` for finer control, e.g. tests);
- `runner.bench.store.ResultsStore(path)`: `list_runs()`, `load_run(run_id) -> RunRecord`, `call_rows(run_id)`;
- `runner.bench.score_file.score_file(path, ...)`: what `lapbench score FILE` calls.

Modules: `config` (RunConfig), `pipeline` (one project's phases), `harness` (one tool call with retries),
`tools` (schemas, budgets, grammar caps), `prompts` + `schema_doc` (prompt text), `plan` + `parts`
(how phases are split), `scoring` + `aggregate` + `stats` (scores, phase totals, confidence intervals),
`record` (result types), `progress` (terminal output).
"""
