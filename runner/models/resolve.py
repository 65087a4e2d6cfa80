"""What the user typed → a located model: the one lookup behind `run`, `bench`, `fit`, `pull` and `models`.

Spec forms, tried in this order:
  (nothing)                  the bundled default model
  http(s)://...              a server (`run` talks to it with the openai backend; `fit` reads a remote file)
  hf://org/repo/file.gguf    one file of a Hugging Face repo
  ollama:[ns/]model[:tag]    a model in Ollama's store (a blob file under its models folder also works as a path)
  an existing file or folder as it is; a folder of GGUF files gives the one naming QUANT (or the first)
  id[:QUANT]                 a models.toml entry; without QUANT, the first of its quants with a local file
  org/repo[:QUANT]           a Hugging Face repo; QUANT is a whole token of the file name (Q4_K_M, IQ4_XS...)
A catalog quant is found by its file name; one without a file name by its repo and quant name. Local files
are looked for in runner.models.stores: --models-dir, lapbench's models folder, the Hugging Face cache,
LM Studio's folders and llama.cpp's cache (Ollama's store for `ollama:` names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner import paths
from runner.errors import ConfigError, ModelFileError
from runner.models import stores
from runner.models.catalog import ModelEntry, Quant, load_catalog
from runner.models.stores import LocalFile

HF_REPO = re.compile(r"[\w.\-]+/[\w.\-]+")
SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$")
SpecKind = Literal["default", "url", "hf-file", "ollama", "path", "catalog", "hf-repo"]


class NotLocal(ModelFileError):
    """A model known by name (catalog id, Hugging Face repo, Ollama name) has no file on this machine."""


@dataclass(frozen=True)
class Spec:
    kind: SpecKind
    text: str
    quant: str | None = None
    repo: str | None = None
    filename: str | None = None
    entry: ModelEntry | None = None


@dataclass(frozen=True)
class Located:
    target: str
    """The file, folder or URL a backend loads."""
    label: str
    backend: str
    found_in: str
    """path, url, models-dir, lapbench, hf-cache, lm-studio, ollama or llama.cpp-cache."""
    quant: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.target)


def is_hf_repo(repo: str | None) -> bool:
    return bool(repo) and HF_REPO.fullmatch(repo or "") is not None


def split_names(name: str) -> list[str]:
    """All parts of a split GGUF (`x-00001-of-00003.gguf`), or just the name."""
    match = SPLIT.search(name)
    if not match:
        return [name]
    total = int(match.group(2))
    return [SPLIT.sub(f"-{i:05d}-of-{total:05d}.gguf", name) for i in range(1, total + 1)]


def quant_files(names: list[str], quant: str) -> list[str]:
    """The file(s) of one quant: QUANT is a whole token of the file name; a split set is returned whole."""
    token = re.compile(rf"(^|[-_./]){re.escape(quant)}([-_.]|$)", re.IGNORECASE)
    hits = sorted(n for n in names if n.endswith(".gguf") and token.search(n.rsplit("/", 1)[-1]))
    if not hits:
        return []
    first = next((n for n in hits if "-00001-of-" in n), hits[0])
    return split_names(first) if "-00001-of-" in first else [first]


def _looks_like_path(text: str) -> bool:
    return text.endswith(".gguf") or text.startswith(("/", "./", "../", "~"))


def parse_spec(text: str | None, quant: str | None = None) -> Spec:
    """Classify what the user typed; only a catalog id needs models.toml, nothing touches the network."""
    if text is None:
        return Spec("default", "", quant)
    if text.startswith(("http://", "https://")):
        return Spec("url", text, quant)
    if text.startswith("hf://"):
        org, repo, filename = [*text[len("hf://") :].split("/", 2), "", ""][:3]
        if not (org and repo and filename):
            raise ConfigError(
                f"{text}: expected hf://org/repo/file.gguf", hint="e.g. hf://org/repo/model-Q4_K_M.gguf"
            )
        return Spec("hf-file", text, quant, f"{org}/{repo}", filename)
    if text.startswith("ollama:"):
        if not text[len("ollama:") :]:
            raise ConfigError(f"{text}: expected ollama:MODEL[:TAG]", hint="see `ollama list`")
        return Spec("ollama", text, quant, filename=text[len("ollama:") :])
    if Path(text).expanduser().exists() or _looks_like_path(text):
        return Spec("path", str(Path(text).expanduser()), quant)
    base, _, tag = text.partition(":")
    entry = load_catalog().get(base) if "/" not in base else None
    if entry is not None:
        return Spec("catalog", text, quant or tag or None, entry=entry)
    if is_hf_repo(base) and re.fullmatch(r"[\w.\-]*", tag):
        return Spec("hf-repo", text, quant or tag or None, base)
    raise ConfigError(
        f"{text!r} is not a catalog id, a file, a folder or a URL",
        hint="see `lapbench models`, or pass a .gguf path, an https:// URL, org/repo:QUANT or ollama:MODEL",
    )


def pick_quant(entry: ModelEntry, quant: str | None) -> Quant | None:
    if quant:
        found = entry.find_quant(quant)
        if found is None:
            names = ", ".join(q.name for q in entry.quant) or "none"
            raise ConfigError(f"{entry.id} has no quant {quant!r} in models.toml", hint=f"known: {names}")
        return found
    return entry.quant[0] if entry.quant else None


# ---- finding files ------------------------------------------------------------------------------------------


def find_file(filename: str, models_dirs: list[Path], repo: str | None = None) -> LocalFile | None:
    """A file (or MLX folder) by its published name; with `repo`, only a copy of that repo's file."""
    for found_in, folder in stores.lapbench_folders(models_dirs):
        for candidate in (folder / filename, folder / Path(filename).name):
            if candidate.exists():
                return LocalFile(candidate, found_in, filename, repo)
    if repo:
        return next((f for f in stores.repo_stores(repo) if f.name_in(repo) == filename), None)
    return next((f for f in stores.named_stores() if f.is_named(filename)), None)


def find_in_repo(repo: str, quant: str) -> LocalFile | None:
    """The file of QUANT among the local copies of a Hugging Face repo (the first store holding it)."""
    by_name: dict[str, LocalFile] = {}
    for found in stores.repo_stores(repo):
        by_name.setdefault(found.name_in(repo) or found.name, found)
    chosen = quant_files(list(by_name), quant)
    return by_name[chosen[0]] if chosen else None


def find_quant(entry: ModelEntry, quant: Quant, models_dirs: list[Path]) -> LocalFile | None:
    """A catalog quant's local file: by its file name, else by its repo and quant name."""
    hf_repo = quant.repo if is_hf_repo(quant.repo) else None
    if quant.format == "mlx":
        found = find_file(quant.file, models_dirs) if quant.file else None
        return found or (stores.mlx_folder(hf_repo) if hf_repo else None)
    if quant.file:
        return find_file(quant.file, models_dirs)
    for repo in [hf_repo] if hf_repo else entry.hub_gguf_repos:
        if repo and (found := find_in_repo(repo, quant.name)):
            return found
    return None


def _where(models_dirs: list[Path]) -> str:
    named = "".join(f"{d}, " for d in models_dirs)
    return f"{named}{paths.models_dir()}, the Hugging Face cache, LM Studio and llama.cpp's cache"


# ---- locating -----------------------------------------------------------------------------------------------


def backend_for(path: Path) -> str:
    """GGUF → llama-cpp (an Ollama blob has no .gguf suffix, so the header decides), else the registry's pick."""
    from backends.base import BackendError
    from backends.registry import pick_backend_for

    if path.is_file() and stores.is_gguf(path):
        return "llama-cpp"
    try:
        return pick_backend_for(path)
    except BackendError as err:
        raise ConfigError(str(err), hint="pass a .gguf file or an MLX folder, or choose --backend") from None


def _located(found: LocalFile, label: str, quant: str | None) -> Located:
    return Located(str(found.path), label, backend_for(found.path), found.found_in, quant)


def _local_path(spec: Spec) -> Located:
    path = Path(spec.text)
    if not path.exists():
        raise ModelFileError(
            f"{path}: no such file or folder", hint="check the path, or see `lapbench models`"
        )
    if path.is_dir() and not (path / "config.json").exists():
        names = sorted(p.name for p in path.glob("*.gguf"))
        chosen = quant_files(names, spec.quant) if spec.quant else names[:1]
        if not chosen:
            raise ModelFileError(
                f"{path}: no config.json and no .gguf file", hint="point at a model file or folder"
            )
        path = path / chosen[0]
    label = path.stem if path.is_file() else path.name
    return Located(str(path.absolute()), label, backend_for(path), "path", spec.quant)


def _catalog(entry: ModelEntry, quant: str | None, models_dirs: list[Path]) -> Located:
    wanted = [q for q in [pick_quant(entry, quant)] if q] if quant else list(entry.quant)
    for q in wanted:
        found = find_quant(entry, q, models_dirs)
        if found is not None:
            return _located(found, f"{entry.id}:{q.name}", q.name)
    label = f"{entry.id}:{quant}" if quant else entry.id
    raise NotLocal(
        f"no file of {label} is on this machine (looked in {_where(models_dirs)})",
        hint=f"run `lapbench pull {label}`, or give the file's path",
    )


def locate(
    spec: Spec | str | None, quant: str | None = None, models_dirs: list[Path] | None = None
) -> Located:
    """The local model (or server URL) a spec names; `NotLocal` when it is known but not on this machine."""
    spec = spec if isinstance(spec, Spec) else parse_spec(spec, quant)
    dirs = list(models_dirs or [])
    if spec.kind == "default":
        from runner.setup.pypi_models import default_model_path

        path = default_model_path()
        return Located(str(path), path.stem, backend_for(path), "lapbench")
    if spec.kind == "url":
        return Located(spec.text, spec.text, "openai", "url", spec.quant)
    if spec.kind == "path":
        return _local_path(spec)
    if spec.kind == "catalog" and spec.entry is not None:
        return _catalog(spec.entry, spec.quant, dirs)
    if spec.kind == "ollama":
        name = spec.filename or ""
        found = stores.ollama_model(name)
        if found is None:
            raise NotLocal(
                f"no Ollama model {name!r} in {stores.ollama_dir()}", hint=f"run `ollama pull {name}`"
            )
        return _located(found, f"ollama:{found.name}", spec.quant)
    repo = spec.repo or ""
    if spec.kind == "hf-file":
        label, found = spec.text, find_file(spec.filename or "", dirs, repo)
    elif not spec.quant:
        raise ConfigError(f"{spec.text}: which quant?", hint=f"write {repo}:Q4_K_M or add --quant")
    else:
        label, found = f"{repo}:{spec.quant}", find_in_repo(repo, spec.quant)
    if found is None:
        raise NotLocal(
            f"no file of {label} is on this machine (looked in {_where(dirs)})",
            hint=f"run `lapbench pull {label}`",
        )
    return _located(found, label, spec.quant)
