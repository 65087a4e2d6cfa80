"""Hugging Face over the network: repo ids to URLs (HF_ENDPOINT and tokens honoured by huggingface_hub), repo
listings, and remote MLX/safetensors folders (config.json + safetensors index). The local cache is one of the
stores of runner.models.stores."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import TYPE_CHECKING, Any

from runner.errors import ConfigError, LapbenchError
from runner.fit.hf_config import arch_from_config

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch
    from runner.fit.resolve import Resolved
    from runner.models.resolve import Spec

MAX_JSON_BYTES = 32 << 20


def cache_dir() -> str:
    """The Hugging Face cache, read at call time (huggingface_hub reads its variables once, at import)."""
    from runner.models.stores import hf_cache_dir

    return str(hf_cache_dir())


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
    """The file(s) of one quant in a repo listing (runner.models.resolve.quant_files), or a ConfigError."""
    from runner.models.resolve import quant_files

    chosen = quant_files(files, quant)
    if not chosen:
        raise ConfigError(
            f"no .gguf file for quant {quant!r}", hint=f"files: {', '.join(files[:12]) or 'none'}"
        )
    return chosen


def resolve_hf(spec: Spec) -> Resolved:
    """The header of a Hugging Face file read remotely (an hf-file spec, or an hf-repo spec with its quant)."""
    from runner.fit.resolve import remote_gguf

    repo = spec.repo or ""
    filename = spec.filename or pick_gguf(list_gguf_files(repo), spec.quant or "")[0]
    return remote_gguf(file_url(repo, filename), auth_headers(), spec.quant)


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
