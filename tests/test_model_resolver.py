"""The one model resolver (runner.models.resolve): every spec form, every store people keep models in (built
under a temporary HOME), `pull` then `run`/`bench`/`fit`/`models` against a fake hub, and models that LM Studio
and Ollama hold actually run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.errors import ConfigError, ModelFileError
from runner.models.resolve import NotLocal, locate, parse_spec
from tests.support.fake_hub import serve_hub, use_hub
from tests.support.gguf_builder import build_gguf

runner = CliRunner()
TINY = "tiny-Q4_K_M.gguf"
SMOL = "SmolLM2-135M-Instruct.Q4_1.gguf"
COMMIT = "c" * 40
CATALOG = """[[model]]
id = "tiny"
name = "Tiny"
family = "t"
license = "MIT"
[[model.quant]]
name = "Q4_K_M"
file = "tiny-Q4_K_M.gguf"
repo = "org/tiny"
[[model.quant]]
name = "Q8_0"
repo = "org/tiny"

[[model]]
id = "tiny-mlx"
name = "Tiny MLX"
family = "t"
license = "MIT"
[[model.quant]]
name = "mlx-4bit"
format = "mlx"
file = "tiny-mlx-4bit"
repo = "mlx-community/tiny-4bit"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME; lapbench's own models folder empty too, so that only the stores built by a test count."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CACHE_HOME", "LLAMA_CACHE", "OLLAMA_MODELS", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAPBENCH_MODELS_DIR", str(tmp_path / "lapbench-models"))
    return home


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(CATALOG)
    monkeypatch.setenv("LAPBENCH_CATALOG", str(path))
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.bin"
    path.write_bytes(build_gguf())
    return path


def place(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(source)
    return target


def hf_layout(root: Path, repo: str, name: str, source: Path) -> Path:
    folder = root / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(COMMIT)
    return place(source, folder / "snapshots" / COMMIT / name)


def ollama_layout(root: Path, name: str, source: Path, digest: str = "a" * 64) -> Path:
    """Ollama's store: a manifest naming a model layer, its blob, and a template layer lapbench ignores."""
    host, namespace, model, tag = name.split("/")
    blob = place(source, root / "blobs" / f"sha256-{digest}")
    manifest = root / "manifests" / host / namespace / model / tag
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "b" * 64, "size": 10},
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": 1},
    ]}))  # fmt: skip
    return blob


def one_line_error(args: list[str], code: int, *needles: str) -> None:
    result = runner.invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and "(fix: " in lines[0], result.output
    assert all(n in lines[0] for n in needles), lines[0]


# ---- spec forms ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "repo", "filename", "quant"),
    [
        (None, "default", None, None, None),
        ("http://127.0.0.1:8080/v1", "url", None, None, None),
        ("hf://org/repo/sub/m-Q4_K_M.gguf", "hf-file", "org/repo", "sub/m-Q4_K_M.gguf", None),
        ("ollama:qwen3:4b", "ollama", None, "qwen3:4b", None),
        ("smollm2-135m", "catalog", None, None, None),
        ("smollm2-135m:q4_1", "catalog", None, None, "q4_1"),
        ("org/repo:Q4_K_M", "hf-repo", "org/repo", None, "Q4_K_M"),
        ("models/missing.gguf", "path", None, None, None),
    ],
)
def test_every_spec_form_is_recognised(
    text: str | None, kind: str, repo: str | None, filename: str | None, quant: str | None
) -> None:
    spec = parse_spec(text)
    assert (spec.kind, spec.repo, spec.filename, spec.quant) == (kind, repo, filename, quant)


def test_a_file_an_mlx_folder_a_gguf_folder_and_a_url(home: Path, tiny: Path, tmp_path: Path) -> None:
    plain = locate(str(tiny))  # no .gguf suffix: the header says GGUF
    assert (plain.found_in, plain.backend, plain.label) == ("path", "llama-cpp", "tiny")
    folder = tmp_path / "ggufs"
    for name in ("m-Q8_0.gguf", "m-Q4_K_M.gguf"):
        place(tiny, folder / name)
    assert locate(str(folder), "Q8_0").path.name == "m-Q8_0.gguf"
    mlx = tmp_path / "mlx-model"
    mlx.mkdir()
    (mlx / "config.json").write_text("{}")
    (mlx / "model.safetensors").write_bytes(b"")
    assert (locate(str(mlx)).backend, locate(str(mlx)).label) == ("mlx", "mlx-model")
    url = locate("http://127.0.0.1:9/v1")
    assert (url.backend, url.found_in, url.target) == ("openai", "url", "http://127.0.0.1:9/v1")


def test_bad_specs_are_one_line_errors_with_a_fix(home: Path) -> None:
    one_line_error(["run", "no-such-model"], 2, "not a catalog id")
    one_line_error(["fit", "hf://org"], 2, "expected hf://org/repo/file.gguf")
    one_line_error(["run", "org/repo"], 2, "which quant?", "org/repo:Q4_K_M")
    one_line_error(["run", "smollm2-135m:Q8_0"], 2, "no quant 'Q8_0'", "known: Q4_1")
    one_line_error(
        ["run", "org/repo:Q4_K_M"], 3, "no file of org/repo:Q4_K_M", "lapbench pull org/repo:Q4_K_M"
    )
    one_line_error(["bench", "ollama:nothing"], 3, "no Ollama model 'nothing'", "ollama pull nothing")
    one_line_error(["run", str(home / "gone.gguf")], 3, "no such file")
    with pytest.raises(NotLocal, match="no file of smollm2-135m") as err:
        locate("smollm2-135m")
    assert err.value.hint and "lapbench pull smollm2-135m" in err.value.hint
    with pytest.raises(ConfigError):
        parse_spec("ollama:")
    assert issubclass(NotLocal, ModelFileError)


# ---- stores -------------------------------------------------------------------------------------------------

Builder = Callable[[Path, Path, pytest.MonkeyPatch], Path]


def _hf_home(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    return hf_layout(home.parent / "hf-home" / "hub", "org/tiny", TINY, src)  # conftest's HF_HOME


def _hf_hub_cache(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    mp.setenv("HF_HUB_CACHE", str(home / "hub"))
    return hf_layout(home / "hub", "org/tiny", TINY, src)


def _lm_studio(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    return place(src, home / ".lmstudio" / "models" / "org" / "tiny" / TINY)


def _lm_studio_old(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    return place(src, home / ".cache" / "lm-studio" / "models" / "org" / "tiny" / TINY)


def _llama_flat(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    return place(src, home / ".cache" / "llama.cpp" / f"org_tiny_{TINY}")


def _llama_hf_layout(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    mp.setenv("LLAMA_CACHE", str(home / "lc"))
    return hf_layout(home / "lc", "org/tiny", TINY, src)


def _ollama(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    return ollama_layout(home / ".ollama" / "models", "registry.ollama.ai/library/tiny/latest", src)


def _ollama_env(home: Path, src: Path, mp: pytest.MonkeyPatch) -> Path:
    mp.setenv("OLLAMA_MODELS", str(home / "om"))
    return ollama_layout(home / "om", "registry.ollama.ai/someone/tiny/q4", src)


STORES: dict[str, tuple[Builder, str, list[str]]] = {
    "hf-cache": (_hf_home, "hf-cache", ["org/tiny:Q4_K_M", f"hf://org/tiny/{TINY}", "tiny"]),
    "hf-cache via HF_HUB_CACHE": (_hf_hub_cache, "hf-cache", ["org/tiny:q4_k_m", "tiny:Q4_K_M"]),
    "lm-studio": (_lm_studio, "lm-studio", ["org/tiny:Q4_K_M", f"hf://org/tiny/{TINY}", "tiny"]),
    "lm-studio, older folder": (_lm_studio_old, "lm-studio", ["org/tiny:Q4_K_M", "tiny"]),
    "llama.cpp cache, flat names": (_llama_flat, "llama.cpp-cache", ["org/tiny:Q4_K_M", "tiny"]),
    "llama.cpp cache via LLAMA_CACHE, Hugging Face layout": (
        _llama_hf_layout,
        "llama.cpp-cache",
        ["org/tiny:Q4_K_M", f"hf://org/tiny/{TINY}", "tiny"],
    ),
    "ollama": (_ollama, "ollama", ["ollama:tiny", "ollama:tiny:latest"]),
    "ollama via OLLAMA_MODELS, a namespaced model": (
        _ollama_env,
        "ollama",
        ["ollama:someone/tiny:q4", "ollama:registry.ollama.ai/someone/tiny:q4"],
    ),
}


@pytest.mark.parametrize("store", list(STORES))
def test_each_store_is_found_by_each_spec_that_names_it(
    store: str, home: Path, tiny: Path, catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build, found_in, specs = STORES[store]
    placed = build(home, tiny, monkeypatch)
    for spec in specs:
        found = locate(spec)
        assert (found.found_in, found.path, found.backend) == (found_in, placed, "llama-cpp"), spec


def test_catalog_quants_by_file_name_or_by_repo_and_quant_and_the_store_order(
    home: Path, tiny: Path, tmp_path: Path, catalog: Path
) -> None:
    studio = home / ".lmstudio" / "models" / "org" / "tiny"
    by_token = place(tiny, studio / "Tiny-Q8_0-00001-of-00002.gguf")
    place(tiny, studio / "Tiny-Q8_0-00002-of-00002.gguf")
    found = locate("tiny:Q8_0")  # no file name in the catalog: repo + quant, the first part of a split set
    assert (found.path, found.label, found.quant) == (by_token, "tiny:Q8_0", "Q8_0")
    hf = hf_layout(home.parent / "hf-home" / "hub", "org/tiny", TINY, tiny)
    assert locate("tiny").path == hf  # the first quant with a local file
    own = place(tiny, tmp_path / "lapbench-models" / TINY)
    assert locate("tiny").found_in == "lapbench" and locate("tiny").path == own
    named = place(tiny, tmp_path / "elsewhere" / TINY)
    found = locate("tiny", models_dirs=[tmp_path / "elsewhere"])
    assert (found.found_in, found.path) == ("models-dir", named)


def test_a_catalog_mlx_quant_is_a_folder_in_lapbench_mlx_or_the_hf_cache(
    home: Path, tmp_path: Path, catalog: Path
) -> None:
    snapshot = home.parent / "hf-home" / "hub" / "models--mlx-community--tiny-4bit" / "snapshots" / COMMIT
    own = tmp_path / "lapbench-models" / "mlx" / "tiny-mlx-4bit"
    for folder in (snapshot, own):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"")
    assert locate("tiny-mlx").found_in == "lapbench" and locate("tiny-mlx").path == own
    shutil.rmtree(own)
    found = locate("tiny-mlx:mlx-4bit")
    assert (found.found_in, found.path, found.backend) == ("hf-cache", snapshot, "mlx")


def test_home_is_read_at_call_time(
    home: Path, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(NotLocal):
        locate("org/tiny:Q4_K_M")
    other = tmp_path / "other-home"
    place(tiny, other / ".lmstudio" / "models" / "org" / "tiny" / TINY)
    monkeypatch.setenv("HOME", str(other))
    assert locate("org/tiny:Q4_K_M").found_in == "lm-studio"


def test_models_shows_where_each_file_was_found_and_the_other_local_models(
    home: Path, tiny: Path, tmp_path: Path, catalog: Path
) -> None:
    hf = hf_layout(home.parent / "hf-home" / "hub", "org/tiny", TINY, tiny)
    studio = place(tiny, home / ".lmstudio" / "models" / "pub" / "thing" / "thing-Q5_K_M.gguf")
    blob = ollama_layout(home / ".ollama" / "models", "registry.ollama.ai/library/tiny/latest", tiny)
    not_gguf = tmp_path / "weights.safetensors"
    not_gguf.write_bytes(b"\0" * 16)
    ollama_layout(home / ".ollama" / "models", "registry.ollama.ai/library/st/latest", not_gguf, "d" * 64)
    flat = place(tiny, home / ".cache" / "llama.cpp" / "someone_x_x-Q2_K.gguf")
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    quants = listing["models"][0]["quant"]
    assert [(q["found_in"], q["local_path"]) for q in quants] == [("hf-cache", str(hf)), (None, None)]
    others = {(o["spec"], o["found_in"], o["path"]) for o in listing["other_local"]}
    assert others == {
        ("hf://pub/thing/thing-Q5_K_M.gguf", "lm-studio", str(studio)),
        ("ollama:tiny:latest", "ollama", str(blob)),
        (str(flat), "llama.cpp-cache", str(flat)),
    }
    assert all(o["size_bytes"] == tiny.stat().st_size for o in listing["other_local"])
    table = runner.invoke(app, ["models"], env={"COLUMNS": "120"})
    assert "found in" in table.output and "hf-cache" in table.output
    assert "other local models" in table.output and "ollama:tiny:latest" in table.output


# ---- real runs ----------------------------------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.server
def test_pull_then_run_bench_fit_and_models_find_the_file_in_the_hf_cache(
    smollm2_gguf: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runner.run.config import model_for_run

    spec = "org/smol:Q4_1"
    with serve_hub({f"org/smol/{SMOL}": smollm2_gguf}) as (url, log):
        use_hub(monkeypatch, url)
        first = runner.invoke(app, ["pull", spec, "--json"])
        assert first.exit_code == 0, first.output
        pulled = Path(json.loads(first.output)["paths"][0])
        assert json.loads(first.output)["already_present"] is False
        assert (tmp_path / "hf-home" / "hub") in pulled.parents
        assert pulled.stat().st_size == smollm2_gguf.stat().st_size
        fetched = len(log)
        again = runner.invoke(app, ["pull", spec, "--json"])
        assert json.loads(again.output) == {"paths": [str(pulled)], "already_present": True, "fit": None}
        by_file = runner.invoke(app, ["pull", f"hf://org/smol/{SMOL}", "--json"])
        assert json.loads(by_file.output)["paths"] == [str(pulled)]
        assert len(log) == fetched  # found by the resolver, nothing asked of the hub
    # from here on the hub is gone: everything below is local
    assert model_for_run(spec) == (str(pulled), spec, "llama-cpp")
    refused = runner.invoke(app, ["run", spec, "--ctx", str(2**24), "--results", str(tmp_path / "r.db")])
    assert refused.exit_code == 2 and f"{spec} does not fit" in refused.output and "--force" in refused.output
    fit = runner.invoke(app, ["fit", spec, "--json"])
    assert fit.exit_code == 0 and json.loads(fit.output)["source"] == "gguf-file"
    bench = runner.invoke(app, ["bench", spec, "-p", "16", "-n", "4", "-r", "1", "-t", "1", "--json"])
    assert bench.exit_code == 0, bench.output
    records = json.loads(bench.stdout)
    assert {r["model_filename"] for r in records} == {str(pulled)}
    assert all(r["avg_ts"] > 0 and r["error"] is None for r in records)
    models = json.loads(runner.invoke(app, ["models", "--json"]).output)
    smol = next(m for m in models["models"] if m["id"] == "smollm2-135m")["quant"][0]
    assert (smol["found_in"], smol["local_path"]) == ("hf-cache", str(pulled))


@pytest.mark.model
def test_models_that_lm_studio_and_ollama_keep_are_listed_and_run(
    smollm2_gguf: Path, home: Path, tmp_path: Path
) -> None:
    studio = place(smollm2_gguf, home / ".lmstudio" / "models" / "pub" / "smol-GGUF" / "smol-Q4_1.gguf")
    blob = ollama_layout(home / ".ollama" / "models", "registry.ollama.ai/library/smollm2/135m", smollm2_gguf)
    listed = json.loads(runner.invoke(app, ["models", "--json"]).output)["other_local"]
    specs = {o["spec"]: o["path"] for o in listed}
    assert specs == {"hf://pub/smol-GGUF/smol-Q4_1.gguf": str(studio), "ollama:smollm2:135m": str(blob)}
    args = ["bench", "pub/smol-GGUF:Q4_1", "ollama:smollm2:135m", "-p", "8", "-n", "2", "-r", "1", "-t", "1"]
    result = runner.invoke(app, [*args, "--no-warmup", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert {r["model_filename"] for r in records} == {str(studio), str(blob)}
    assert all(r["backend"] == "llama-cpp" and r["avg_ts"] > 0 and r["error"] is None for r in records)
