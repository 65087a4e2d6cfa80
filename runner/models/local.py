"""What `lapbench models` shows: every catalog quant with the file the resolver finds for it (and where), and
the GGUF files of the other tools' stores that the catalog does not name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runner.models import stores
from runner.models.catalog import Catalog
from runner.models.resolve import SPLIT, find_quant


def catalog_rows(catalog: Catalog, extra_dirs: Iterable[Path] = ()) -> list[dict[str, Any]]:
    """Every entry as plain data (with sources), each quant with `local_path` and `found_in` (or None)."""
    dirs = [Path(d) for d in extra_dirs]
    rows = []
    for entry in catalog:
        row = entry.model_dump(mode="json")
        for quant_row, quant in zip(row["quant"], entry.quant, strict=True):
            local = find_quant(entry, quant, dirs)
            quant_row["local_path"] = str(local.path) if local else None
            quant_row["found_in"] = local.found_in if local else None
        rows.append(row)
    return rows


def other_local(catalog_paths: Iterable[str]) -> list[dict[str, Any]]:
    """GGUF files in the Hugging Face cache, LM Studio, Ollama and llama.cpp's cache that no catalog quant
    found, each with the spec that names it for `run`, `bench` and `fit`."""
    known = set(catalog_paths)
    rows: list[dict[str, Any]] = []
    for found in [*stores.named_stores(), *stores.ollama_models()]:
        split = SPLIT.search(found.name)
        if str(found.path) in known or (split and split.group(1) != "00001"):
            continue  # a catalog quant's file, or a later part of a split set
        known.add(str(found.path))
        rows.append({"spec": _spec(found), "found_in": found.found_in, "path": str(found.path),
                     "size_bytes": found.path.stat().st_size})  # fmt: skip
    return rows


def _spec(found: stores.LocalFile) -> str:
    if found.found_in == "ollama":
        return f"ollama:{found.name}"
    return f"hf://{found.repo}/{found.name}" if found.repo else str(found.path)
