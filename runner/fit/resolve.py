"""Turn what the user typed (catalog id, file, folder, URL, hf://..., org/repo:QUANT) into a ModelArch,
from the best source available: local GGUF header, remote GGUF header (Range requests), config.json, catalog."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from runner.errors import LapbenchError, ModelFileError
from runner.fit.arch import ModelArch, arch_from_gguf, prompt_params_by_type, token_terms
from runner.fit.gguf_header import GGUFHeader, parse_gguf_header
from runner.fit.hf_config import arch_from_folder
from runner.fit.sources import ByteSource, FileSource
from runner.models.catalog import ModelEntry
from runner.models.resolve import (
    Located,
    NotLocal,
    backend_for,
    find_quant,
    locate,
    parse_spec,
    split_names,
)


@dataclass(frozen=True)
class Resolved:
    arch: ModelArch
    label: str
    source_kind: str  # "gguf-file", "gguf-remote", "config", "catalog"
    quant: str | None = None
    bytes_read: int = 0
    file_size: int = 0
    notes: tuple[str, ...] = ()


def headers_to_arch(headers: list[GGUFHeader], label: str) -> ModelArch:
    """The first split carries the metadata; tensors (and so bytes) are summed over all parts."""
    arch = arch_from_gguf(headers[0])
    if len(headers) == 1:
        return arch
    weights = sum(h.tensor_bytes for h in headers)
    expert = sum(t.n_bytes for h in headers for t in h.tensors if "_exps." in t.name)
    active = weights - expert + (expert * arch.n_expert_used // arch.n_expert if arch.n_expert else 0)
    tensors = [t for h in headers for t in h.tensors]
    unread, prompt_params = token_terms(tensors, arch.n_expert, arch.n_expert_used)
    return replace(
        arch, weights_bytes=weights, active_weights_bytes=active, n_params=sum(h.n_params for h in headers),
        n_tensors=sum(len(h.tensors) for h in headers), source=label, unread_bytes=unread,
        prompt_params=prompt_params,
        prompt_params_by_type=prompt_params_by_type(tensors, arch.n_expert, arch.n_expert_used),
    )  # fmt: skip


def read_gguf(sources: list[ByteSource], label: str, kind: str, quant: str | None = None) -> Resolved:
    headers = [parse_gguf_header(s) for s in sources]
    size = sum((h.file_size or 0) for h in headers)
    return Resolved(
        headers_to_arch(headers, label), label, kind, quant, sum(s.bytes_read for s in sources), size
    )


def local_gguf(path: Path, quant: str | None = None) -> Resolved:
    parts = [path.with_name(n) for n in split_names(path.name)]
    missing = [p for p in parts if not p.exists()]
    if missing:
        raise ModelFileError(f"split GGUF part missing: {missing[0]}", hint="download every part")
    sources = [FileSource(p) for p in parts]
    try:
        return read_gguf(list(sources), str(path), "gguf-file", quant)
    finally:
        for s in sources:
            s.close()


def remote_gguf(url: str, headers: dict[str, str] | None = None, quant: str | None = None) -> Resolved:
    from runner.fit.remote import HTTPRangeSource

    base, _, name = url.rpartition("/")
    sources: list[ByteSource] = [HTTPRangeSource(f"{base}/{n}", headers) for n in split_names(name)]
    return read_gguf(sources, url, "gguf-remote", quant)


def _local(found: Located, label: str | None = None) -> Resolved:
    """A located file's header (GGUF) or config.json (MLX folder)."""
    if found.backend == "mlx":
        return Resolved(arch_from_folder(found.path), label or found.target, "config", found.quant)
    return replace(local_gguf(found.path, found.quant), label=label or found.target)


def resolve_catalog(
    entry: ModelEntry, quant: str | None, models_dir: Path | None = None, remote: bool = False
) -> Resolved:
    """The quant's local file if there is one; else (with `remote`) its header read on the hub; else the
    catalog's own numbers, saying why the hub was not used."""
    from runner.fit.catalog_arch import arch_from_catalog
    from runner.fit.repos import catalog_quant, remote_catalog

    q = catalog_quant(entry, quant)
    for candidate in [q] if quant or q is None else entry.quant:  # no quant named: the first one held here
        local = find_quant(entry, candidate, _dirs(models_dir)) if candidate else None
        if candidate and local:
            here = f"{entry.id}:{candidate.name}"
            return _local(
                Located(str(local.path), here, backend_for(local.path), local.found_in, candidate.name), here
            )
    label = f"{entry.id}:{q.name}" if q else entry.id
    notes: tuple[str, ...] = ()
    if remote and q is not None and q.format == "gguf":
        try:
            return remote_catalog(entry, q, label)
        except LapbenchError as err:
            notes = (f"catalog numbers, not the file's header: {err.one_line()}",)
    return Resolved(arch_from_catalog(entry, q), label, "catalog", q.name if q else None, notes=notes)


def _dirs(models_dir: Path | None) -> list[Path]:
    return [models_dir] if models_dir else []


def resolve_model(
    spec: str, quant: str | None = None, models_dir: Path | None = None, remote: bool = False
) -> Resolved:
    """MODEL as typed by the user → Resolved: a local file when the resolver finds one, else the remote header
    (URL, Hugging Face; a catalog id's repositories with `remote`) or the catalog's numbers."""
    parsed = parse_spec(spec, quant)
    if parsed.kind == "url":
        if spec.rstrip("/").endswith(".gguf"):
            return remote_gguf(spec, quant=quant)
        from runner.fit.hub import remote_folder

        return Resolved(remote_folder(spec.rstrip("/")), spec, "config", quant)
    if parsed.kind == "catalog" and parsed.entry is not None:
        return resolve_catalog(parsed.entry, parsed.quant, models_dir, remote)
    path = Path(parsed.text)
    if parsed.kind == "path" and path.is_file():  # the header decides, whatever the suffix
        return local_gguf(path, quant)
    if parsed.kind == "path" and (path / "config.json").is_file():  # config.json suffices, weights or not
        return Resolved(arch_from_folder(path), parsed.text, "config", quant)
    try:
        found = locate(parsed, models_dirs=_dirs(models_dir))
    except NotLocal:
        if parsed.kind not in ("hf-repo", "hf-file"):
            raise
        from runner.fit.hub import resolve_hf

        return resolve_hf(parsed)
    return _local(found, parsed.text if parsed.kind == "path" else found.label)


def trained_context(model: str) -> int | None:
    """The context the model was trained for, from its GGUF header or config.json (None if unreadable:
    whatever loads it will say why)."""
    path = Path(model).expanduser()
    try:
        if path.is_dir():
            return arch_from_folder(path).max_context
        if path.is_file():
            return local_gguf(path).arch.max_context
    except (LapbenchError, OSError, ValueError):
        return None
    return None
