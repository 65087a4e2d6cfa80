"""The benchmark: reference projects through the phase pipeline (analyze → database → interface → test)
with forced, validated tool calls and a feedback loop, scored by the rubric, stored in SQLite.

Entry points:
- `runner.run.run.benchmark(config, projects, results_path, resume=..., hooks=...) -> RunRecord`
  (what `lapbench run` calls; `start_run` + `execute_run` for finer control, e.g. tests);
- `runner.run.store.ResultsStore(path)`: `list_runs()`, `load_run(run_id) -> RunRecord`, `call_rows(run_id)`;

Modules: `config` (RunConfig), `pipeline` (one project's phases), `harness` (one tool call with retries),
`tools` (each tool's schemas, prompt text, budget), `grammar` (grammar caps and engine schema of a tool),
`normalize` (schema normalisation for the grammar engines), `prompts` (prompt text), `plan` + `parts`
(how phases are split), `scoring` + `aggregate` + `stats` (scores, phase totals, confidence intervals),
`record` (result types), `progress` (terminal output).
"""
