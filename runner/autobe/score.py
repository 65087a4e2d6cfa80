"""Score AutoBe's own outputs with lapbench's database and interface axes.

For H5's `lapbench score --autobe DIR` (and `lapbench score FILE` on one AutoBe file):

    from runner.autobe import score_autobe_file, score_autobe_tree
    records = score_autobe_tree(Path("autobe-examples"))      # list[AutoBeScore], sorted
    print(json.dumps([r.as_json() for r in records]))          # one record per file
    print(format_table(records))                               # per-model table (plain text)
    autobe_kind(json_data)  # "database" / "interface" / None: is this AutoBe's format at all?

A tree is laid out `vendor/model/project/{prisma.json,document.json}`; the model is `vendor/model`.
`prisma.json` is scored on the database axis, `document.json` on the interface axis, paired with the
same folder's `prisma.json` when present (DTO/column consistency; left out without it). The projects
`todo` and `bbs` get lapbench's reading of AutoBe's two prompts as required entities and capabilities
(below); other projects are scored without coverage dimensions. Scores are points on the axis (0–25
under rubric v2), and `gate_passed` is False when the file did not import or its rendered DDL / OpenAPI
is unusable: rules of lapbench's validators that AutoBe's compilers accept (a path parameter left
undeclared) cost points in a dimension instead (see `runner.rubric.interface`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runner.autobe.document import import_document
from runner.autobe.prisma import import_prisma
from runner.errors import LapbenchError
from runner.rubric.database import WEIGHTS as DB_WEIGHTS
from runner.rubric.database import score_database
from runner.rubric.interface import score_interface, weights_for
from runner.rubric.types import AXIS_POINTS, RUBRIC_VERSION, Dimension, gate_dimensions
from runner.schemas.database import DatabaseDocument

Kind = Literal["database", "interface"]
FILE_KINDS: dict[str, Kind] = {"prisma.json": "database", "document.json": "interface"}

# AutoBe's todo prompt: users join, manage their own todo list, minimum functionality. Its bbs prompt:
# "a political/economic discussion board". Only what any reading of those prompts must contain.
PROJECT_REQUIREMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "todo": (
        ("users", "todos"),
        ("join users", "create todos", "list todos", "get todos", "update todos", "delete todos"),
    ),
    "bbs": (
        ("members", "posts", "comments"),
        (
            "join members",
            "create posts",
            "list posts",
            "get posts",
            "update posts",
            "delete posts",
            "create comments",
            "list comments",
        ),
    ),
}


@dataclass(frozen=True)
class AutoBeScore:
    path: str
    model: str
    project: str
    kind: Kind
    gate_passed: bool
    score: float
    dimensions: list[Dimension]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def axes(self) -> dict[str, float]:
        return {self.kind: round(self.score, 2)}

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "project": self.project,
            "kind": self.kind,
            "gate_passed": self.gate_passed,
            "score": round(self.score, 2),
            "axes": self.axes,
            "dimensions": {d.name: round(d.points, 3) for d in self.dimensions},
            "details": {d.name: d.detail for d in self.dimensions},
            "import_notes": self.notes,
            "import_errors": self.errors,
            "rubric_version": RUBRIC_VERSION,
            "path": self.path,
        }


def autobe_kind(data: Any) -> Kind | None:
    """ "database" for an AutoBePrisma.IApplication, "interface" for an AutoBeOpenApi.IDocument, None for
    anything else (e.g. a lapbench AST, whose tables sit under `tables`, not `models`) — for callers that
    must tell the two apart before scoring."""
    if not isinstance(data, dict):
        return None
    files = data.get("files")
    if isinstance(files, list) and files and isinstance(files[0], dict) and "models" in files[0]:
        return "database"
    components = data.get("components")
    if isinstance(data.get("operations"), list) and isinstance(components, dict) and "schemas" in components:
        return "interface"
    return None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LapbenchError(
            f"cannot read AutoBe file {path}: {exc}", hint="pass a prisma.json or document.json"
        ) from None


def _identity(path: Path) -> tuple[str, str]:
    """(model, project) from `.../vendor/model/project/file.json`."""
    parts = path.resolve().parts
    project = parts[-2] if len(parts) >= 2 else "unknown"
    model = "/".join(parts[-4:-2]) if len(parts) >= 4 else "unknown"
    return model, project


def score_autobe_file(path: Path | str) -> AutoBeScore:
    """Import and score one AutoBe `prisma.json` or `document.json` (another file name works when its
    content is recognisably one of the two)."""
    path = Path(path)
    kind = FILE_KINDS.get(path.name)
    if kind is None:
        raise LapbenchError(
            f"{path} is not an AutoBe prisma.json or document.json", hint="rename or pick another file"
        )
    model, project = _identity(path)
    entities, capabilities = PROJECT_REQUIREMENTS.get(project, ((), ()))
    data = _load_json(path)
    if kind == "database":
        db = import_prisma(data)
        notes, errors = db.notes, db.errors
        weights = {k: v for k, v in DB_WEIGHTS.items() if entities or k != "entity_coverage"}
        dims = score_database(db.document, entities) if not errors else _failed("database", weights, errors)
    else:
        api = import_document(data)
        notes, errors = api.notes, api.errors
        database = _sibling_database(path)
        if errors:
            dims = _failed("interface", weights_for(capabilities, database is not None), errors)
        else:
            dims = score_interface(api.document, database, capabilities, dto_reference=database is not None)
    gate_passed = not errors and not any(d.detail.startswith("gate failed") for d in dims)
    return AutoBeScore(
        str(path), model, project, kind, gate_passed, sum(d.points for d in dims), dims, notes, errors
    )


def _failed(axis: str, weights: dict[str, float], errors: list[str]) -> list[Dimension]:
    return gate_dimensions(axis, weights, f"import error: {errors[0]}")


def _sibling_database(document_path: Path) -> DatabaseDocument | None:
    prisma = document_path.with_name("prisma.json")
    if not prisma.is_file():
        return None
    try:
        result = import_prisma(_load_json(prisma))
    except LapbenchError:
        return None
    return result.document if not result.errors else None


def score_autobe_tree(root: Path | str) -> list[AutoBeScore]:
    """Score every prisma.json and document.json under `root`, sorted by model, project, kind."""
    root = Path(root)
    if not root.is_dir():
        raise LapbenchError(f"{root} is not a directory", hint="pass a folder laid out vendor/model/project/")
    files = sorted(p for name in FILE_KINDS for p in root.rglob(name))
    if not files:
        raise LapbenchError(f"no prisma.json or document.json under {root}", hint="check the folder")
    return sorted((_score_or_record(p) for p in files), key=lambda s: (s.model, s.project, s.kind))


def _score_or_record(path: Path) -> AutoBeScore:
    """In a tree, an unreadable file is a failed record, not the end of the walk."""
    try:
        return score_autobe_file(path)
    except LapbenchError as err:
        kind = FILE_KINDS[path.name]
        entities, capabilities = PROJECT_REQUIREMENTS.get(_identity(path)[1], ((), ()))
        weights = (
            {k: v for k, v in DB_WEIGHTS.items() if entities or k != "entity_coverage"}
            if kind == "database"
            else weights_for(capabilities, path.with_name("prisma.json").is_file())
        )
        dims = _failed(kind, weights, [err.message])
        return AutoBeScore(str(path), *_identity(path), kind, False, 0.0, dims, [], [err.message])


def format_table(scores: list[AutoBeScore]) -> str:
    """Plain-text table: one row per model, database and interface points per project (— if absent)."""
    projects = sorted({s.project for s in scores})
    cells: dict[str, dict[str, str]] = {}
    for s in scores:
        mark = "" if s.gate_passed else "!"
        cells.setdefault(s.model, {})[f"{s.project}.{s.kind[:3]}"] = f"{s.score:.1f}{mark}"
    columns = [f"{p}.{k}" for p in projects for k in ("dat", "int")]
    header = ["model", *columns]
    rows = [[m, *(cells[m].get(c, "—") for c in columns)] for m in sorted(cells)]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    points = f"database /{AXIS_POINTS['database']:g}, int = interface /{AXIS_POINTS['interface']:g}"
    return "\n".join(lines) + f"\n(dat = {points}, ! = gate failed; rubric v{RUBRIC_VERSION})"
