"""Which catalog files are present on this machine."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runner import paths
from runner.catalog import Catalog, Quant


def search_dirs(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    """The models directory, its mlx/ folder, then any folders the user named."""
    base = paths.models_dir()
    return [base, base / "mlx", *(Path(d).expanduser() for d in extra_dirs)]


def find_local(quant: Quant, dirs: Iterable[Path]) -> Path | None:
    if not quant.file:
        return None
    for directory in dirs:
        candidate = directory / quant.file
        if candidate.exists():
            return candidate
    return None


def catalog_rows(catalog: Catalog, extra_dirs: Iterable[Path] = ()) -> list[dict[str, Any]]:
    """Every entry as plain data (with sources), each quant with `local_path` or None."""
    dirs = search_dirs(extra_dirs)
    rows = []
    for entry in catalog:
        row = entry.model_dump(mode="json")
        for quant_row, quant in zip(row["quant"], entry.quant, strict=True):
            local = find_local(quant, dirs)
            quant_row["local_path"] = str(local) if local else None
        rows.append(row)
    return rows
