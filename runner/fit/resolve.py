"""Turn what the user typed (catalog id, file, folder, URL, hf://..., org/repo:QUANT) into a ModelArch,
from the best source available: local GGUF header, remote GGUF header (Range requests), config.json, catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from runner import paths
from runner.catalog import ModelEntry, Quant, load_catalog
from runner.errors import ConfigError, ModelFileError
from runner.fit.arch import ModelArch, arch_from_gguf
from runner.fit.gguf_header import GGUFHeader, parse_gguf_header
from runner.fit.hf_config import arch_from_folder
from runner.fit.sources import ByteSource, FileSource

SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$")


@dataclass(frozen=True)
class Resolved:
    arch: ModelArch
    label: str
    source_kind: str  # "gguf-file", "gguf-remote", "config", "catalog"
    quant: str | None = None
    bytes_read: int = 0
    file_size: int = 0


def split_names(name: str) -> list[str]:
    """All parts of a split GGUF (`x-00001-of-00003.gguf`), or just the name."""
    match = SPLIT.search(name)
    if not match:
        return [name]
    total = int(match.group(2))
    return [SPLIT.sub(f"-{i:05d}-of-{total:05d}.gguf", name) for i in range(1, total + 1)]


def headers_to_arch(headers: list[GGUFHeader], label: str) -> ModelArch:
    """The first split carries the metadata; tensors (and so bytes) are summed over all parts."""
    arch = arch_from_gguf(headers[0])
    if len(headers) == 1:
        return arch
    weights = sum(h.tensor_bytes for h in headers)
    expert = sum(t.n_bytes for h in headers for t in h.tensors if "_exps." in t.name)
    active = weights - expert + (expert * arch.n_expert_used // arch.n_expert if arch.n_expert else 0)
    return replace(
        arch, weights_bytes=weights, active_weights_bytes=active, n_params=sum(h.n_params for h in headers),
        n_tensors=sum(len(h.tensors) for h in headers), source=label,
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


def find_local_quant(entry: ModelEntry, quant: Quant, models_dir: Path | None = None) -> Path | None:
    if not quant.file:
        return None
    for folder in (models_dir, paths.models_dir()):
        if folder is not None and (folder / quant.file).exists():
            return folder / quant.file
    from runner.fit.hub import cached_file

    return cached_file(quant.repo, quant.file)


def pick_quant(entry: ModelEntry, quant: str | None) -> Quant | None:
    if quant:
        found = entry.find_quant(quant)
        if found is None:
            names = ", ".join(q.name for q in entry.quant) or "none"
            raise ConfigError(f"{entry.id} has no quant {quant!r} in models.toml", hint=f"known: {names}")
        return found
    return entry.quant[0] if entry.quant else None


def resolve_catalog(entry: ModelEntry, quant: str | None, models_dir: Path | None = None) -> Resolved:
    from runner.fit.catalog_arch import arch_from_catalog

    q = pick_quant(entry, quant)
    local = find_local_quant(entry, q, models_dir) if q else None
    if local is not None and local.suffix == ".gguf":
        found = local_gguf(local, q.name if q else None)
        return replace(found, label=f"{entry.id}:{q.name}" if q else entry.id)
    arch = arch_from_catalog(entry, q)
    return Resolved(arch, f"{entry.id}" + (f":{q.name}" if q else ""), "catalog", q.name if q else None)


def resolve_model(spec: str, quant: str | None = None, models_dir: Path | None = None) -> Resolved:
    """MODEL as typed by the user → Resolved."""
    path = Path(spec).expanduser()
    if path.is_file():
        return local_gguf(path, quant)
    if path.is_dir():
        if (path / "config.json").exists():
            return Resolved(arch_from_folder(path), str(path), "config", quant)
        ggufs = sorted(p for p in path.glob("*.gguf") if not quant or quant.lower() in p.name.lower())
        if ggufs:
            return local_gguf(ggufs[0], quant)
        raise ModelFileError(
            f"{path}: no config.json and no .gguf file", hint="point at a model file or folder"
        )
    if spec.startswith(("http://", "https://")):
        if spec.rstrip("/").endswith(".gguf"):
            return remote_gguf(spec, quant=quant)
        from runner.fit.hub import remote_folder

        return Resolved(remote_folder(spec.rstrip("/")), spec, "config", quant)
    base, _, tag = spec.partition(":")
    entry = load_catalog().get(base) if "/" not in base else None
    if entry is not None:
        return resolve_catalog(entry, quant or tag or None, models_dir)
    if spec.startswith("hf://") or re.fullmatch(r"[\w.\-]+/[\w.\-]+(:[\w.\-]+)?|hf://.+", spec):
        from runner.fit.hub import resolve_hf

        return resolve_hf(spec, quant)
    raise ConfigError(
        f"{spec!r} is not a catalog id, a file, a folder or a URL",
        hint="see `lapbench models`, or pass a .gguf path, an https:// URL or org/repo:QUANT",
    )
