"""`pull` and `fit` of catalog models whose quant files are resolved from their repositories' file lists,
against the Hugging Face-like hub of tests/support/fake_hub.py (model info, tree listings, CDN redirects,
Range requests, a dropped connection)."""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from tests.support.fake_hub import COMMIT, serve_hub, use_hub
from tests.support.gguf_builder import build_gguf, gguf_str, kv_u32

runner = CliRunner()
REPO = "org/tiny-GGUF"
CATALOG = """
[[model]]
id = "tiny"
name = "Tiny"
family = "t"
license = "MIT"
gguf_repos = [
  { repo = "org/gone-GGUF", source = "https://example.org/org/gone-GGUF" },
  { repo = "org/tiny-GGUF", source = "https://example.org/org/tiny-GGUF" },
]
[model.arch]
layers = { value = 2, source = "test", status = "measured" }
hidden_size = { value = 32, source = "test", status = "measured" }
attention_heads = { value = 4, source = "test", status = "measured" }
[[model.quant]]
name = "Q4_K_M"
size_bytes = { value = 12345, source = "test", status = "measured" }

[[model]]
id = "norepo"
name = "No repo"
family = "t"
license = "MIT"
[model.arch]
layers = { value = 2, source = "test", status = "measured" }
hidden_size = { value = 32, source = "test", status = "measured" }
attention_heads = { value = 4, source = "test", status = "measured" }
[[model.quant]]
name = "Q4_K_M"
size_bytes = { value = 12345, source = "test", status = "measured" }
"""


def tiny(extra: int = 0, tensor: str = "token_embd.weight") -> bytes:
    arch = gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("llama")
    kvs = [arch, kv_u32("llama.block_count", 2), kv_u32("llama.embedding_length", 32),
           kv_u32("llama.attention.head_count", 4), kv_u32("llama.vocab_size", 100)]  # fmt: skip
    return build_gguf(kvs, [(tensor, (32, 4), 0, 0)], data=b"\1" * (32 * 4 * 4 + extra))


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(CATALOG)
    monkeypatch.setenv("LAPBENCH_CATALOG", str(path))
    return path


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.server
def test_pull_resolves_the_quant_from_the_file_list_and_resumes_a_dropped_download(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    # huggingface_hub writes what it received in chunks of DOWNLOAD_CHUNK_SIZE: drop the connection after one
    cut = constants.DOWNLOAD_CHUNK_SIZE + 4096
    big = tiny(extra=cut + 300_000)
    files = {
        f"{REPO}/Tiny-Q4_K_M.gguf": big,
        f"{REPO}/Tiny-Q8_0.gguf": tiny(),
        f"{REPO}/mmproj-Q4_K_M.gguf": tiny(),
    }
    with serve_hub(files, cut_after=cut) as (url, log):
        use_hub(monkeypatch, url)
        from huggingface_hub import HfApi

        info = HfApi(endpoint=url).model_info(REPO)  # the model-info endpoint huggingface_hub reads
        assert info.sha == COMMIT and {s.rfilename for s in info.siblings or []} == {
            p.split("/", 2)[2] for p in files
        }
        out = _run("pull", "tiny:Q4_K_M")
        path = Path(out["paths"][0])
        assert path.name == "Tiny-Q4_K_M.gguf" and path.read_bytes() == big
        resumed = [start for key, start in log.ranges if key == f"{REPO}/Tiny-Q4_K_M.gguf" and start > 0]
        assert resumed == [constants.DOWNLOAD_CHUNK_SIZE]  # resumed after the bytes it had kept
        assert log.files == [f"{REPO}/Tiny-Q4_K_M.gguf"]  # the projector and other quants stay on the hub
        assert out["fit"]["source"] == "gguf-remote"  # the fit check read the real header first
        listed = [p for m, p in log.requests if m == "GET" and "/tree/" in p]
        assert any("/org/gone-GGUF/" in p for p in listed) and any(f"/{REPO}/" in p for p in listed)
        before = len(log.requests)
        again = _run("fit", "tiny", "--bandwidth", "100")
        assert again["source"] == "gguf-file" and len(log.requests) == before  # found locally
        assert _run("pull", "tiny:Q4_K_M")["already_present"] is True


@pytest.mark.server
def test_pull_downloads_every_part_of_a_split_quant_the_catalog_does_not_list(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = {
        f"{REPO}/Q8_0/Tiny-Q8_0-00001-of-00002.gguf": tiny(),
        f"{REPO}/Q8_0/Tiny-Q8_0-00002-of-00002.gguf": tiny(tensor="output.weight"),
    }
    with serve_hub(parts) as (url, log):
        use_hub(monkeypatch, url)
        out = _run("pull", "tiny:Q8_0", "--models-dir", str(tmp_path / "dl"))
        assert sorted(Path(p).name for p in out["paths"]) == [
            "Tiny-Q8_0-00001-of-00002.gguf",
            "Tiny-Q8_0-00002-of-00002.gguf",
        ]
        assert out["fit"]["weights_bytes"] == 2 * 32 * 4 * 4  # both parts' tensors, read remotely
        assert sorted(log.files) == sorted(parts)


@pytest.mark.server
def test_fit_reads_the_remote_header_and_says_so(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_hub({f"{REPO}/Tiny-Q4_K_M.gguf": tiny(extra=1 << 20)}) as (url, log):
        use_hub(monkeypatch, url)
        out = _run("fit", "tiny", "--bandwidth", "100")
        assert (
            out["source"] == "gguf-remote" and out["weights_bytes"] == 32 * 4 * 4
        )  # not the catalog's 12345
        assert any(f"header of {REPO}/Tiny-Q4_K_M.gguf on the hub" in n for n in out["notes"])
        assert log.files == [] and out["bytes_read"] < 1 << 20  # the header only, never the weights


def test_fit_falls_back_to_the_catalog_offline_and_says_why(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = _run("fit", "tiny", "--bandwidth", "100")  # the tests run with HF_HUB_OFFLINE=1
    assert offline["source"] == "catalog" and offline["weights_bytes"] == 12345
    assert any("HF_HUB_OFFLINE" in n for n in offline["notes"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once the socket is closed
    use_hub(monkeypatch, closed)
    unreachable = _run("fit", "tiny", "--bandwidth", "100")
    assert unreachable["source"] == "catalog"
    assert any("not reachable" in n for n in unreachable["notes"])
    result = runner.invoke(app, ["fit", "tiny", "--bandwidth", "100"])
    assert "catalog numbers" in result.output and "not reachable" in result.output


def test_pull_of_a_model_without_confirmed_repositories_says_so_in_one_line(catalog: Path) -> None:
    result = runner.invoke(app, ["pull", "norepo:Q4_K_M"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "names no GGUF repository for norepo" in lines[0]


def test_every_catalog_model_names_its_repositories_with_a_source() -> None:
    from runner.models.catalog import load_catalog

    catalog = load_catalog()
    for entry in catalog:
        for repo in [*entry.gguf_repos, *entry.mlx_repos]:
            assert repo.source.startswith("https://"), (entry.id, repo)
            if repo.on_hub:  # the model page of the repository itself
                assert repo.source == f"https://huggingface.co/{repo.repo}", (entry.id, repo)
    unconfirmed = [e.id for e in catalog if not e.hub_gguf_repos]
    assert unconfirmed == ["deepseek-v4-flash"]  # its ds4 files live outside the usual GGUF publishers
    assert catalog.get("qwen3.6-27b").hub_gguf_repos[0] == "unsloth/Qwen3.6-27B-GGUF"  # type: ignore[union-attr]
