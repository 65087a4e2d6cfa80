"""`lapbench fit` and `lapbench pull` through CliRunner; pull against a Hugging Face-like server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from tests.test_gguf_header import _kv_u32, _str, build_gguf

runner = CliRunner()
KEYS = {"weights_bytes", "kv_bytes", "compute_bytes", "overhead_bytes", "total_bytes", "budget_bytes",
        "verdict", "max_ctx", "predicted_tps"}  # fmt: skip


def _fit(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["fit", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.model
def test_fit_catalog_id_reads_the_local_header(smollm2_gguf: Path) -> None:
    out = _fit("smollm2-135m", "--ctx", "2048")
    assert out.keys() >= KEYS
    assert out["source"] == "gguf-file"
    assert out["weights_bytes"] == 96576768
    assert out["kv_bytes"] == 2 * 3 * 64 * 30 * 2 * 2048
    assert (
        out["total_bytes"]
        == out["weights_bytes"] + out["kv_bytes"] + out["compute_bytes"] + out["overhead_bytes"]
    )
    assert out["verdict"] == "fits"


@pytest.mark.model
def test_fit_file_with_chip_predicts_speed(gemma_gguf: Path) -> None:
    out = _fit(str(gemma_gguf), "--chip", "M4 Pro", "--ctx", "4096")
    assert out["chip"] == "M4 Pro" and out["bandwidth_gbs"] == 273.0
    assert out["budget_bytes"] == 64 * 2**30 * 3 // 4
    assert out["layers"] == {"full": 3, "sliding_window": 15, "recurrent": 0}
    assert out["predicted_tps"] > 0 and out["suite_seconds"] > 0


def test_fit_64gb_mac_verdicts_match_facts() -> None:
    # FACTS.md §2 on a 64 GB Mac (48 GiB Metal budget): gpt-oss-120b does not fit, Qwen3.5-122B Q3_K_M
    # needs a raised wired limit, gpt-oss-20b and Qwen3.6-27B fit.
    args = ("--memory", "64GB", "--chip", "M1 Max", "--ctx", "32768", "--swa-window")
    assert _fit("gpt-oss-120b", *args)["verdict"] == "does not fit"
    assert _fit("qwen3.5-122b-a10b", "--quant", "Q3_K_M", *args)["verdict"] == "does not fit"
    assert _fit("gpt-oss-20b", *args)["verdict"] == "fits"
    qwen = _fit("qwen3.6-27b:Q4_K_M", *args)
    assert qwen["verdict"] == "fits"
    assert qwen["kv_detail"]["recurrent_state_bytes"] == 156893184
    assert qwen["layers"] == {"full": 16, "sliding_window": 0, "recurrent": 48}


def test_fit_all_ranks_every_catalog_quant() -> None:
    result = runner.invoke(app, ["fit", "--all", "--json", "--memory", "64GB", "--chip", "M4 Max"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) > 40 and all(row.keys() >= KEYS for row in rows)
    order = {"fits": 0, "tight": 1, "does not fit": 2}
    assert [order[r["verdict"]] for r in rows] == sorted(order[r["verdict"]] for r in rows)


def test_fit_bad_input_is_one_line() -> None:
    result = runner.invoke(app, ["fit", "no-such-model"])
    assert result.exit_code == 2
    assert "not a catalog id" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["fit", "qwen3-8b", "--kv-type", "q3_z"])
    assert result.exit_code == 2 and "KV cache type" in result.output
    result = runner.invoke(app, ["fit", "qwen3-8b", "--chip", "M9 Hyper"])
    assert result.exit_code == 2 and "unknown chip" in result.output


# ---- pull ---------------------------------------------------------------------------------------------


def _hub_handler(files: dict[str, bytes], log: list[str]) -> type[BaseHTTPRequestHandler]:
    class Hub(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _file(self) -> tuple[str, bytes] | None:
            match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/[^/]+/(.+)", self.path.split("?")[0])
            key = f"{match.group(1)}/{match.group(2)}" if match else ""
            return (key, files[key]) if key in files else None

        def do_HEAD(self) -> None:
            found = self._file()
            if not found:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("X-Repo-Commit", "a" * 40)
            self.send_header("ETag", f'"{len(found[1])}-etag"')
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()

        def do_GET(self) -> None:
            if self.path.startswith("/api/models/org/tiny/tree/"):
                listing = [{"type": "file", "path": k.split("/", 2)[2], "size": len(v), "oid": "0" * 40}
                           for k, v in files.items()]  # fmt: skip
                body = json.dumps(listing).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            found = self._file()
            if not found:
                self.send_error(404)
                return
            log.append(found[0])
            body = found[1]
            match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            start = int(match.group(1)) if match else 0
            end = min(int(match.group(2)), len(body) - 1) if match and match.group(2) else len(body) - 1
            self.send_response(206 if match else 200)
            if match:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            self.send_header("Content-Length", str(end + 1 - start))
            self.end_headers()
            self.wfile.write(body[start : end + 1])

    return Hub


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Path]]:
    arch = _str("general.architecture") + __import__("struct").pack("<I", 8) + _str("llama")
    tiny = build_gguf([arch, _kv_u32("llama.block_count", 2), _kv_u32("llama.embedding_length", 32),
                       _kv_u32("llama.attention.head_count", 4), _kv_u32("llama.vocab_size", 100)])  # fmt: skip
    log: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _hub_handler({"org/tiny/tiny-Q4_K_M.gguf": tiny}, log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    catalog = tmp_path / "models.toml"
    catalog.write_text(
        '[[model]]\nid = "tiny"\nname = "Tiny"\nfamily = "t"\nlicense = "MIT"\n'
        '[model.arch]\nlayers = { value = 2, source = "test", status = "measured" }\n'
        'hidden_size = { value = 32, source = "test", status = "measured" }\n'
        'attention_heads = { value = 4, source = "test", status = "measured" }\n'
        '[[model.quant]]\nname = "Q4_K_M"\nfile = "tiny-Q4_K_M.gguf"\nrepo = "org/tiny"\n'
        '[[model.quant]]\nname = "HUGE"\nfile = "tiny-HUGE.gguf"\nrepo = "org/tiny"\n'
        'size_bytes = { value = 900000000000, source = "test", status = "measured" }\n'
    )
    import huggingface_hub.constants

    monkeypatch.setenv("LAPBENCH_CATALOG", str(catalog))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    yield log, tmp_path / "downloads"
    server.shutdown()
    server.server_close()


@pytest.mark.server
def test_pull_downloads_then_finds_it_present(fake_hub: tuple[list[str], Path]) -> None:
    log, folder = fake_hub
    args = ["pull", "tiny:Q4_K_M", "--models-dir", str(folder), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["already_present"] is False and Path(out["paths"][0]).read_bytes()[:4] == b"GGUF"
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["already_present"] is True
    assert log == ["org/tiny/tiny-Q4_K_M.gguf"]  # fetched once


@pytest.mark.server
def test_fit_hugging_face_ids_resolve_through_hf_endpoint(fake_hub: tuple[list[str], Path]) -> None:
    by_url = _fit("hf://org/tiny/tiny-Q4_K_M.gguf")
    by_quant = _fit("org/tiny:Q4_K_M")
    assert by_url["source"] == by_quant["source"] == "gguf-remote"
    assert by_url["weights_bytes"] == by_quant["weights_bytes"] == 32 * 4 * 4
    result = runner.invoke(app, ["fit", "org/tiny:Q8_0"])
    assert result.exit_code == 2 and "no .gguf file for quant" in result.output


@pytest.mark.server
def test_pull_refuses_what_does_not_fit(fake_hub: tuple[list[str], Path]) -> None:
    log, folder = fake_hub
    result = runner.invoke(
        app, ["pull", "tiny", "--quant", "HUGE", "--models-dir", str(folder), "--memory", "16GB"]
    )
    assert result.exit_code == 1
    assert "does not fit" in result.output and "--force" in result.output
    assert log == []


@pytest.mark.model
def test_pull_default_model_is_already_present(smollm2_gguf: Path) -> None:
    result = runner.invoke(app, ["pull", "smollm2-135m"])
    assert result.exit_code == 0, result.output
    assert f"already present: {smollm2_gguf}" in result.output
