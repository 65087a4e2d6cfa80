"""Import AutoBe's own outputs (`prisma.json`: AutoBePrisma.IApplication, `document.json`:
AutoBeOpenApi.IDocument) onto lapbench's database and interface ASTs, and score them with the same
rubric axes. Entry points for the CLI: `runner.autobe.score.score_autobe_file` and `score_autobe_tree`."""

from __future__ import annotations

from runner.autobe.score import AutoBeScore, autobe_kind, format_table, score_autobe_file, score_autobe_tree

__all__ = ["AutoBeScore", "autobe_kind", "format_table", "score_autobe_file", "score_autobe_tree"]
