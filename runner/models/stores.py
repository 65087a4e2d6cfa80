"""Where people already keep model files. Every location is read at call time (HOME and the variables below),
so a test can build each store under a temporary directory.

Layouts, as checked against each tool's own source or documentation:
- lapbench: `paths.models_dir()` (files by name) and its `mlx/` (MLX folders by name); `--models-dir` alike.
- Hugging Face cache (huggingface_hub; llama.cpp's common/hf-cache.cpp reads the same variables): HF_HUB_CACHE,
  else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. Repo `org/name` is
  `models--org--name/snapshots/<commit>/<path in repo>`; `refs/main` names the current commit.
- LM Studio (lmstudio.ai/docs/advanced/sideload): `~/.lmstudio/models/<publisher>/<repo>/<file>.gguf`, which
  mirrors the Hugging Face repo; older versions used `~/.cache/lm-studio/models`.
- Ollama (server/modelpath.go GetBlobsPath, types/model/name.go): $OLLAMA_MODELS, else ~/.ollama/models. The
  manifest `manifests/<host>/<namespace>/<model>/<tag>` is JSON whose layer of mediaType
  `application/vnd.ollama.image.model` has digest `sha256:<hex>`, the file `blobs/sha256-<hex>` (a GGUF).
  Name defaults: host registry.ollama.ai, namespace library, tag latest.
- llama.cpp (common/common.cpp fs_get_cache_directory): $LLAMA_CACHE, else $XDG_CACHE_HOME/llama.cpp or
  ~/.cache/llama.cpp on Linux, ~/Library/Caches/llama.cpp on macOS. `-hf org/repo` downloads were stored flat as
  `<org>_<repo>_<file>` (common/arg.cpp: every `/` replaced by `_`); newer builds (common/hf-cache.cpp) use the
  Hugging Face layout, inside $LLAMA_CACHE when it is set and in the Hugging Face cache otherwise.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner import paths

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_HOST, OLLAMA_NAMESPACE, OLLAMA_TAG = "registry.ollama.ai", "library", "latest"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class LocalFile:
    path: Path
    found_in: str
    """lapbench, models-dir, hf-cache, lm-studio, ollama or llama.cpp-cache."""
    name: str
    """How its store names it: the path inside the repo, a flat llama.cpp cache name, or Ollama's model:tag."""
    repo: str | None = None
    """org/name when the layout records it."""

    @property
    def flat(self) -> bool:
        """A llama.cpp cache file named `<org>_<repo>_<file>`, whose repo cannot be split back out."""
        return self.found_in == "llama.cpp-cache" and self.repo is None

    def is_named(self, filename: str) -> bool:
        base = Path(filename).name
        if self.flat:
            return self.name == base or self.name.endswith("_" + filename.replace("/", "_"))
        return Path(self.name).name == base

    def name_in(self, repo: str) -> str | None:
        """Its path inside `repo` if it belongs to that repo (for a flat name: the part after the repo)."""
        if self.flat:
            prefix = repo.replace("/", "_") + "_"
            return self.name[len(prefix) :] if self.name.lower().startswith(prefix.lower()) else None
        return self.name if self.repo and self.repo.lower() == repo.lower() else None


def _env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def _xdg_cache() -> Path:
    return _env("XDG_CACHE_HOME") or Path.home() / ".cache"


def lapbench_folders(models_dirs: Sequence[Path] = ()) -> list[tuple[str, Path]]:
    """Folders named with --models-dir first (asked for by this command), then lapbench's own."""
    base = paths.models_dir()
    named = [("models-dir", Path(d).expanduser()) for d in models_dirs]
    return [*named, ("lapbench", base), ("lapbench", base / "mlx")]


def hf_cache_dir() -> Path:
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if found := _env(name):
            return found
    home = _env("HF_HOME")
    return home / "hub" if home else _xdg_cache() / "huggingface" / "hub"


def lmstudio_dirs() -> list[Path]:
    return [Path.home() / ".lmstudio" / "models", Path.home() / ".cache" / "lm-studio" / "models"]


def ollama_dir() -> Path:
    return _env("OLLAMA_MODELS") or Path.home() / ".ollama" / "models"


def llama_cache_dir() -> Path:
    if found := _env("LLAMA_CACHE"):
        return found
    if platform.system() == "Darwin":
        return Path.home() / "Library" / "Caches" / "llama.cpp"
    return _xdg_cache() / "llama.cpp"


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == GGUF_MAGIC
    except OSError:
        return False


# ---- listing ------------------------------------------------------------------------------------------------


def hf_snapshots(root: Path, repo: str) -> list[Path]:
    """The snapshot folders of `repo`, the one `refs/main` names first."""
    folder = root / ("models--" + repo.replace("/", "--"))
    ref = folder / "refs" / "main"
    main = ref.read_text().strip() if ref.is_file() else ""
    found = [p for p in (folder / "snapshots").glob("*") if p.is_dir()]
    return sorted(found, key=lambda p: (p.name != main, p.name))


def hf_files(root: Path, found_in: str = "hf-cache", repo: str | None = None) -> Iterator[LocalFile]:
    """GGUF files of one repo (or of every repo) in a Hugging Face-layout cache; a half-downloaded file (its
    snapshot link pointing at a missing blob) does not exist and is skipped."""
    folders = [root / ("models--" + repo.replace("/", "--"))] if repo else sorted(root.glob("models--*"))
    for folder in folders:
        name = "/".join(folder.name.split("--")[1:])
        seen: set[str] = set()
        for snapshot in hf_snapshots(root, name):
            for path in sorted(snapshot.rglob("*.gguf")):
                inner = path.relative_to(snapshot).as_posix()
                if inner not in seen and path.exists():
                    seen.add(inner)
                    yield LocalFile(path, found_in, inner, name)


def lmstudio_files(repo: str | None = None) -> Iterator[LocalFile]:
    for root in lmstudio_dirs():
        for path in sorted((root / repo if repo else root).rglob("*.gguf")):
            parts = path.relative_to(root).parts
            if len(parts) >= 3:  # LM Studio ignores files outside a <publisher>/<repo>/ folder
                yield LocalFile(path, "lm-studio", "/".join(parts[2:]), f"{parts[0]}/{parts[1]}")


def llama_cache_files() -> Iterator[LocalFile]:
    root = llama_cache_dir()
    for path in sorted(root.glob("*.gguf")):
        yield LocalFile(path, "llama.cpp-cache", path.name)
    yield from hf_files(root, "llama.cpp-cache")


def named_stores() -> Iterator[LocalFile]:
    """Every GGUF file of the stores that record names (all but lapbench's own folders and Ollama)."""
    yield from hf_files(hf_cache_dir())
    yield from lmstudio_files()
    yield from llama_cache_files()


def repo_stores(repo: str) -> Iterator[LocalFile]:
    """GGUF files of one Hugging Face repo, wherever a tool that mirrors the Hub put them."""
    yield from hf_files(hf_cache_dir(), repo=repo)
    yield from lmstudio_files(repo)
    yield from (f for f in llama_cache_files() if f.name_in(repo) is not None)


def mlx_folder(repo: str) -> LocalFile | None:
    """An MLX repo as a folder: its Hugging Face snapshot, or LM Studio's copy."""
    candidates = [
        *(("hf-cache", p) for p in hf_snapshots(hf_cache_dir(), repo)),
        *(("lm-studio", root / repo) for root in lmstudio_dirs()),
    ]
    found = next(((kind, p) for kind, p in candidates if (p / "config.json").is_file()), None)
    return LocalFile(found[1], found[0], "", repo) if found else None


# ---- Ollama -------------------------------------------------------------------------------------------------


def ollama_name(name: str) -> tuple[str, str, str, str]:
    """`[host/][namespace/]model[:tag]` → (host, namespace, model, tag) with Ollama's defaults."""
    parts = name.split("/")
    model, _, tag = parts[-1].partition(":")
    namespace = parts[-2] if len(parts) >= 2 else OLLAMA_NAMESPACE
    host = parts[-3] if len(parts) >= 3 else OLLAMA_HOST
    return host, namespace, model, tag or OLLAMA_TAG


def short_ollama_name(host: str, namespace: str, model: str, tag: str) -> str:
    """The name `ollama list` shows: defaults left out."""
    prefix = "" if host == OLLAMA_HOST else f"{host}/"
    prefix += "" if namespace == OLLAMA_NAMESPACE and not prefix else f"{namespace}/"
    return f"{prefix}{model}:{tag}"


def _ollama_blob(root: Path, manifest: Path) -> Path | None:
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers") or []
    except (OSError, ValueError, AttributeError):
        return None
    for layer in layers:
        if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_LAYER:
            blob = root / "blobs" / str(layer.get("digest", "")).replace(":", "-")
            return blob if blob.is_file() else None
    return None


def ollama_model(name: str) -> LocalFile | None:
    root = ollama_dir()
    host, namespace, model, tag = ollama_name(name)
    blob = _ollama_blob(root, root / "manifests" / host / namespace / model / tag)
    label = short_ollama_name(host, namespace, model, tag)
    return LocalFile(blob, "ollama", label) if blob else None


def ollama_models() -> Iterator[LocalFile]:
    """Every model in Ollama's store whose weights are one GGUF blob."""
    root = ollama_dir()
    for manifest in sorted((root / "manifests").glob("*/*/*/*")):
        blob = _ollama_blob(root, manifest) if manifest.is_file() else None
        if blob is not None and is_gguf(blob):
            host, namespace, model, tag = manifest.relative_to(root / "manifests").parts
            yield LocalFile(blob, "ollama", short_ollama_name(host, namespace, model, tag))
