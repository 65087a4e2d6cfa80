"""AutoBe `prisma.json` (AutoBePrisma.IApplication) -> lapbench `DatabaseDocument`.

AutoBe: files[{filename, namespace, models[{name, description, material, stance, primaryField,
foreignFields[{name, type, description, relation{name, targetModel, targetField?, mappingName?},
unique, nullable}], plainFields[{name, type, description, nullable}], uniqueIndexes[{fieldNames, unique}],
plainIndexes[{fieldNames}], ginIndexes[{fieldName}]}]}]. The shapes map one to one except what lapbench
does not model — relation names, `material`, GIN (full-text) indexes, non-id relation targets — which
are dropped or approximated and recorded as notes. Each table is validated on its own, so that a
document larger than lapbench's generation caps still imports; a table that does not validate is an
import error (the gate fails).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from runner.autobe.notes import ImportNotes, ImportResult
from runner.schemas.database import DatabaseDocument, DatabaseFile, Table

_NAMESPACE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_FILENAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def import_prisma(data: Any) -> ImportResult[DatabaseDocument]:
    notes = ImportNotes()
    files_in = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files_in, list):
        return ImportResult(None, [], ["not an AutoBePrisma.IApplication: no `files` list"])
    files = []
    for f, file in enumerate(files_in):
        tables = []
        for m, model in enumerate(file.get("models", [])):
            try:
                tables.append(Table.model_validate(_table(model, notes)))
            except ValidationError as exc:
                notes.error(f"files[{f}].models[{m}] ({model.get('name')})", exc)
        files.append(
            DatabaseFile.model_construct(
                filename=_filename(file.get("filename", f"schema-{f:02d}.prisma"), notes),
                namespace=_namespace(file.get("namespace", f"Namespace{f}"), notes),
                tables=tables,
            )
        )
    files = [f for f in files if f.tables]
    if not files:
        return ImportResult(None, notes.lines(), notes.errors or ["no tables"])
    return ImportResult(DatabaseDocument.model_construct(files=files), notes.lines(), notes.errors)


def _filename(name: str, notes: ImportNotes) -> str:
    if _FILENAME.match(name):
        return name
    notes.note("file names normalised")
    return re.sub(r"[^a-z0-9_.-]", "-", name.lower()).lstrip("-_.") or "schema.prisma"


def _namespace(name: str, notes: ImportNotes) -> str:
    if _NAMESPACE.match(name):
        return name
    notes.note("namespaces normalised to PascalCase")
    pascal = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w)
    return pascal if _NAMESPACE.match(pascal) else "N" + pascal


def _table(model: dict[str, Any], notes: ImportNotes) -> dict[str, Any]:
    if model.get("material"):
        notes.note("material (view) flag dropped")
    primary = model.get("primaryField") or {}
    fks = []
    for field in model.get("foreignFields", []):
        relation = field.get("relation") or {}
        target_field = relation.get("targetField") or relation.get("targetFieldName")
        if target_field and target_field != "id":
            notes.note("relations to a non-id column mapped to the target's id")
        if relation.get("name") or relation.get("mappingName"):
            notes.note("relation (navigation) names dropped")
        fks.append(
            {
                "name": field.get("name"),
                "targetTable": relation.get("targetModel"),
                "unique": bool(field.get("unique", False)),
                "nullable": bool(field.get("nullable", False)),
                "description": notes.text(field.get("description"), "column"),
            }
        )
    columns = [
        {
            "name": field.get("name"),
            "type": field.get("type"),
            "nullable": bool(field.get("nullable", False)),
            "description": notes.text(field.get("description"), "column"),
        }
        for field in model.get("plainFields", [])
    ]
    plain = [{"columns": list(ix.get("fieldNames", []))} for ix in model.get("plainIndexes", [])]
    gin = model.get("ginIndexes", [])
    if gin:
        notes.note("GIN (full-text) indexes mapped to plain indexes", len(gin))
        plain += [{"columns": [ix["fieldName"]]} for ix in gin if ix.get("fieldName")]
    return {
        "name": model.get("name"),
        "description": notes.text(model.get("description"), "table"),
        "stance": model.get("stance"),
        "primaryKey": primary.get("name", "id"),
        "foreignKeys": fks,
        "columns": columns,
        "uniqueIndexes": [
            {"columns": list(ix.get("fieldNames", []))} for ix in model.get("uniqueIndexes", [])
        ],
        "plainIndexes": plain,
    }
