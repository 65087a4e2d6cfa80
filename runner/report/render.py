"""Write the report: one self-contained HTML file (inline CSS, plots as PNG data URIs, no scripts, no
network) and a Markdown summary with the same tables."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runner.outputs import write_outputs
from runner.report import plots
from runner.report.data import RunView, mixed_versions
from runner.report.tables import Table, all_tables

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}th{background:#f4f4f4}
tr:nth-child(even) td{background:#fafafa}
figure{margin:1rem 0 2rem}figcaption{color:#555;font-size:.9rem}
img.plot{max-width:100%;border:1px solid #eee}.wide{grid-column:1/-1}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1rem}
"""


@dataclass(frozen=True)
class Figure:
    anchor: str
    title: str
    uri: str
    caption: str
    wide: bool = False


def figures(views: Sequence[RunView]) -> list[Figure]:
    out = [Figure("plot-leaderboard", "Leaderboard", plots.leaderboard_plot(views),
                  "Points per axis, stacked; black: total with its 95% confidence interval.", wide=True)]  # fmt: skip
    for metric, caption in (("memory", "Peak resident memory during the run."),
                            ("time", "Wall time of the whole run.")):  # fmt: skip
        uri = plots.pareto_plot(views, metric)
        if uri is not None:
            out.append(Figure(f"plot-pareto-{metric}", f"Pareto: score vs {metric}", uri,
                              caption + " Up and to the left is better; a dashed line joins the runs on the Pareto front."))  # fmt: skip
    out.append(Figure("plot-phases", "Per-phase breakdown", plots.phase_plot(views),
                      "First-try success rate of tool calls and retries after feedback, per phase.", wide=True))  # fmt: skip
    out.append(Figure("plot-speed", "Speed and memory", plots.speed_memory_plot(views),
                      "Median decode and prefill speed over calls; peak memory of the run.", wide=True))  # fmt: skip
    return out


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return (f'<section id="{table.anchor}"><h2>{html.escape(table.title)}</h2>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>")  # fmt: skip


def render_html(
    views: Sequence[RunView], tables: Sequence[Table], figs: Sequence[Figure], generated: str
) -> str:
    leaderboard, *rest = tables
    figure_html = "".join(
        f'<figure id="{f.anchor}" class="{"wide" if f.wide else "half"}"><img class="plot" alt="{html.escape(f.title)}" src="{f.uri}">'
        f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
        for f in figs
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>lapbench report</title><style>{CSS}</style></head><body>"
        f'<h1>lapbench report</h1><p class="sub">{len(views)} run(s) · {_versions(views)} · '
        f"generated {html.escape(generated)}</p>{_warning_html(views)}"
        f'{_html_table(leaderboard)}<section id="plots"><h2>Plots</h2><div class="grid">{figure_html}</div>'
        f"</section>{''.join(_html_table(t) for t in rest)}</body></html>"
    )


def _md_table(table: Table) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"## {table.title}", "", "| " + " | ".join(cell(h) for h in table.header) + " |",
             "|" + "---|" * len(table.header)]  # fmt: skip
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def render_markdown(views: Sequence[RunView], tables: Sequence[Table], generated: str, html_name: str) -> str:
    warning = mixed_versions([v.record for v in views])
    intro = (f"# lapbench report\n\n{len(views)} run(s), {_versions(views)}, generated {generated}. "
             f"Plots: `{html_name}`.\n" + (f"\n**Warning:** {warning}.\n" if warning else ""))  # fmt: skip
    return intro + "\n" + "\n".join(_md_table(t) for t in tables)


def _versions(views: Sequence[RunView]) -> str:
    return "rubric " + ", ".join(f"v{v}" for v in sorted({v.record.rubric_version for v in views}))


def _warning_html(views: Sequence[RunView]) -> str:
    warning = mixed_versions([v.record for v in views])
    return f'<p class="sub"><strong>Warning:</strong> {html.escape(warning)}.</p>' if warning else ""


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    runs: int


def report_paths(output: Path) -> tuple[Path, Path]:
    """(HTML, Markdown) for `-o output`: the Markdown beside the HTML with the suffix `.md`; an output
    named `.md` is the Markdown, and the HTML goes beside it (`.html`), so one never overwrites the other."""
    if output.suffix.lower() == ".md":
        return output.with_suffix(".html"), output
    return output, output.with_suffix(".md")


def write_report(views: Sequence[RunView], output: Path, store: Path | None = None) -> ReportFiles:
    """Write the HTML report and its Markdown twin (`report_paths`), both or neither (runner.outputs)."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    tables = all_tables(views)
    html_path, md_path = report_paths(output)
    write_outputs(
        {
            html_path: render_html(views, tables, figures(views), generated),
            md_path: render_markdown(views, tables, generated, html_path.name),
        },
        store,
    )
    return ReportFiles(html_path, md_path, len(views))
