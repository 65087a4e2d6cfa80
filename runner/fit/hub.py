"""Hugging Face over the network: repo ids to URLs (HF_ENDPOINT and tokens honoured by huggingface_hub), repo
listings, and remote MLX/safetensors folders (config.json + safetensors index). The local cache is one of the
stores of runner.models.stores."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

from runner.errors import ConfigError, LapbenchError
from runner.fit.hf_config import arch_from_config

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch
    from runner.fit.resolve import Resolved
    from runner.models.resolve import Spec

MAX_JSON_BYTES = 32 << 20
MAX_PAGES = 100


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


def offline() -> bool:
    """HF_HUB_OFFLINE read at call time, as huggingface_hub understands it."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def list_repo_files(repo: str) -> list[str]:
    """Every file of a model repository, from the hub's tree listing (followed over its pages). One try per
    page with an overall deadline: offline, unreachable or answering something else, it fails at once in
    one line (huggingface_hub would retry five times over half a minute, printing each retry)."""
    if offline():
        raise LapbenchError(
            f"cannot list files of {repo}: HF_HUB_OFFLINE is set",
            hint="unset HF_HUB_OFFLINE to reach the hub, or pass a local file or hf://org/repo/FILE.gguf",
        )
    from runner.fit.remote import get_json

    base = (endpoint() or "https://huggingface.co").rstrip("/")
    url: str | None = f"{base}/api/models/{repo}/tree/main?recursive=true"
    files: list[str] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        try:
            page, headers = get_json(url, auth_headers(), MAX_JSON_BYTES)
        except LapbenchError as err:
            raise LapbenchError(
                f"cannot list files of {repo}: {err.message}", hint="check the repo id, network and token"
            ) from None
        if not isinstance(page, list) or not all(isinstance(e, dict) for e in page):
            raise LapbenchError(f"cannot list files of {repo}: {url} did not answer a file listing")
        files += [str(e["path"]) for e in page if e.get("type") == "file" and "path" in e]
        url = _next_page(headers.get("Link", ""))
    return files


def _next_page(link: str) -> str | None:
    match = re.search(r'<([^>]+)>;\s*rel="next"', link)
    return match.group(1) if match else None


def list_gguf_files(repo: str) -> list[str]:
    files = list_repo_files(repo)
    # vision projectors (mmproj-*.gguf) share the quant names of the model files
    return [f for f in files if f.endswith(".gguf") and not f.rsplit("/", 1)[-1].startswith("mmproj")]


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
    from runner.fit.remote import get_json

    try:
        return get_json(url, auth_headers() if "huggingface" in url else {}, MAX_JSON_BYTES)[0]
    except LapbenchError as err:
        raise LapbenchError(f"cannot read {url}: {err.message}", hint="check the URL") from None


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
