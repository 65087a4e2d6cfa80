"""A catalog model's files on the hub: the quant's file(s) resolved from the file lists of the repositories
models.toml names (split files included), and their GGUF header read remotely. `fit` and `pull` use it; the
catalog need not list file names."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass, replace

from runner.errors import ConfigError, LapbenchError
from runner.fit.hub import auth_headers, endpoint, file_url, list_gguf_files
from runner.fit.resolve import Resolved, remote_gguf
from runner.models.catalog import ModelEntry, Quant
from runner.models.resolve import pick_quant, quant_files, split_names

PROBE_SECONDS = 5.0


@dataclass(frozen=True)
class HubFiles:
    repo: str
    files: tuple[str, ...]


def catalog_quant(entry: ModelEntry, quant: str | None) -> Quant | None:
    """The catalog's quant, or, for a quant models.toml does not list, a bare one that the model's
    repositories may hold (its size then comes from the file itself)."""
    if quant and entry.find_quant(quant) is None and entry.hub_gguf_repos:
        return Quant(name=quant)
    return pick_quant(entry, quant)


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_files(entry: ModelEntry, quant: Quant) -> HubFiles:
    """The first repository (in the catalog's order) whose file list holds the quant; a ConfigError when
    none does, a LapbenchError when the hub cannot be asked."""
    if quant.file and quant.repo and not quant.repo.startswith("pypi:"):
        return HubFiles(quant.repo, tuple(split_names(quant.file)))
    repos = entry.hub_gguf_repos
    if not repos:
        raise ConfigError(
            f"models.toml names no GGUF repository for {entry.id} (none could be confirmed)",
            hint="pull a file by name: `lapbench pull org/repo:QUANT` or hf://org/repo/file.gguf",
        )
    if offline():
        raise LapbenchError("the hub is not asked: HF_HUB_OFFLINE is set", hint="unset HF_HUB_OFFLINE")
    probe_hub(repos[0])
    failures: list[str] = []
    listed = 0
    for repo in repos:
        try:
            names = list_gguf_files(repo)
        except LapbenchError as err:
            failures.append(err.message)
            continue
        listed += 1
        chosen = quant_files(names, quant.name)
        if chosen:
            return HubFiles(repo, tuple(chosen))
    if not listed:
        raise LapbenchError(failures[0], hint="check the network, or HF_ENDPOINT and HF_TOKEN")
    raise ConfigError(
        f"no {quant.name} file in {', '.join(repos)}",
        hint="see the repositories' file lists for other quants",
    )


def probe_hub(repo: str, timeout: float = PROBE_SECONDS) -> None:
    """Fail fast when the hub cannot be reached at all: huggingface_hub retries a failing connection for
    about a minute, which an offline `fit` should not wait for. Any HTTP answer counts as reachable."""
    url = f"{(endpoint() or 'https://huggingface.co').rstrip('/')}/api/models/{repo}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise LapbenchError(
            f"the hub is not reachable ({reason})", hint="check the network or HF_ENDPOINT"
        ) from None


def remote_catalog(entry: ModelEntry, quant: Quant, label: str) -> Resolved:
    """The quant's GGUF header read from the hub with Range requests (every part of a split file)."""
    found = hub_files(entry, quant)
    url = file_url(found.repo, found.files[0])
    resolved = remote_gguf(url, auth_headers(), quant.name)
    note = f"read the GGUF header of {found.repo}/{found.files[0]} on the hub"
    return replace(resolved, label=label, notes=(note,))
