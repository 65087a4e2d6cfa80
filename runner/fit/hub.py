"""Hugging Face: repo ids to URLs (HF_ENDPOINT and tokens honoured by huggingface_hub), the local HF cache,
and remote MLX/safetensors folders (config.json + safetensors index)."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import ConfigError, LapbenchError
from runner.fit.hf_config import arch_from_config

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch
    from runner.fit.resolve import Resolved

MAX_JSON_BYTES = 32 << 20


def _is_hf_repo(repo: str | None) -> bool:
    return bool(repo) and re.fullmatch(r"[\w.\-]+/[\w.\-]+", repo or "") is not None


def cache_dir() -> str | None:
    """HF_HUB_CACHE / HF_HOME read at call time (huggingface_hub reads them once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    return str(Path(os.environ["HF_HOME"]) / "hub") if os.environ.get("HF_HOME") else None


def cached_file(repo: str | None, filename: str) -> Path | None:
    """The file if it is already in the Hugging Face cache (no network)."""
    if not _is_hf_repo(repo):
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id=str(repo), filename=filename, cache_dir=cache_dir())
    return Path(found) if isinstance(found, str) else None


def endpoint() -> str | None:
    """HF_ENDPOINT read at call time (huggingface_hub reads it once, at import)."""
    return os.environ.get("HF_ENDPOINT") or None


def auth_headers() -> dict[str, str]:
    from huggingface_hub import get_token

    token = get_token()
    return {"Authorization": f"Bearer {token}"} if token else {}


def file_url(repo: str, filename: str, revision: str | None = None) -> str:
    from huggingface_hub import hf_hub_url

    return str(hf_hub_url(repo_id=repo, filename=filename, revision=revision, endpoint=endpoint()))


def list_gguf_files(repo: str) -> list[str]:
    from huggingface_hub import HfApi

    try:
        files = HfApi(endpoint=endpoint()).list_repo_files(repo)
    except Exception as err:  # huggingface_hub raises many error types (offline, 404, auth)
        raise LapbenchError(
            f"cannot list files of {repo}: {err}", hint="check the repo id, network and token"
        ) from err
    return [f for f in files if f.endswith(".gguf")]


def pick_gguf(files: list[str], quant: str) -> list[str]:
    """The file(s) of one quant: the name contains QUANT as a whole token; a split set is returned whole."""
    token = re.compile(rf"(^|[-_./]){re.escape(quant)}([-_.]|$)", re.IGNORECASE)
    hits = sorted(f for f in files if token.search(f.rsplit("/", 1)[-1]))
    if not hits:
        raise ConfigError(
            f"no .gguf file for quant {quant!r}", hint=f"files: {', '.join(files[:12]) or 'none'}"
        )
    first = next((f for f in hits if "-00001-of-" in f), hits[0])
    from runner.fit.resolve import split_names

    return split_names(first) if "-00001-of-" in first else [first]


def resolve_hf(spec: str, quant: str | None) -> Resolved:
    from runner.fit.resolve import remote_gguf

    if spec.startswith("hf://"):
        org, repo, filename = [*spec[len("hf://") :].split("/", 2), "", ""][:3]
        if not filename:
            raise ConfigError(f"{spec}: expected hf://org/repo/file.gguf")
        return remote_gguf(file_url(f"{org}/{repo}", filename), auth_headers(), quant)
    repo_id, _, tag = spec.partition(":")
    quant = quant or tag
    if not quant:
        raise ConfigError(f"{spec}: which quant?", hint=f"write {repo_id}:Q4_K_M or add --quant")
    chosen = pick_gguf(list_gguf_files(repo_id), quant)
    return remote_gguf(file_url(repo_id, chosen[0]), auth_headers(), quant)


def _get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers=auth_headers() if "huggingface" in url else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read(MAX_JSON_BYTES))
    except (OSError, ValueError) as err:
        raise LapbenchError(f"cannot read {url}: {err}", hint="check the URL") from err


def remote_folder(url: str) -> ModelArch:
    """An MLX/safetensors folder URL: config.json plus the safetensors index's total_size."""
    config = _get_json(f"{url}/config.json")
    weights: int | None = None
    try:
        index = _get_json(f"{url}/model.safetensors.index.json")
        weights = int(index.get("metadata", {}).get("total_size") or 0) or None
    except LapbenchError:
        weights = _remote_safetensors_bytes(f"{url}/model.safetensors")
    return arch_from_config(config, weights, url)


def _remote_safetensors_bytes(url: str) -> int | None:
    """Tensor bytes of a single remote .safetensors file, from its JSON header read with Range requests."""
    from runner.fit.remote import HTTPRangeSource

    source = HTTPRangeSource(url, auth_headers() if "huggingface" in url else None)
    try:
        head = source.read(0, 8)
        if len(head) < 8:
            return None
        n = int.from_bytes(head, "little")
        if n > MAX_JSON_BYTES:
            return None
        header = json.loads(source.read(8, n))
    except (LapbenchError, ValueError):
        return None
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    return int(max(ends, default=0)) or None
