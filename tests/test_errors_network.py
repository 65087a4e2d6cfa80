"""Every network read ends: an overall deadline, not only a timeout per read (a server that drips its
answer a byte at a time is stopped), and a hub that is offline, unreachable or answers something else is
one line at the first try, not half a minute of retries (issue 18, hangs)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.base import RemoteError
from backends.openai.transport import Transport
from runner.cli import app
from runner.errors import LapbenchError
from runner.fit.hub import remote_folder
from runner.fit.remote import HTTPRangeSource, RemoteReadError
from tests.support.fake_hub import use_hub

cli = CliRunner()


@contextmanager
def drip_server(
    status: str, headers: dict[str, str], body: bytes, delay: float
) -> Iterator[tuple[str, list[str]]]:
    """Answers every request with its status and headers at once, then `body` one byte every `delay` s;
    yields (root URL, request lines seen)."""
    seen: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request = self.rfile.readline().decode().strip()
            while self.rfile.readline().strip():
                pass
            seen.append(request)
            head = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
            try:
                self.wfile.write("\r\n".join(head).encode())
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(delay)
            except OSError:
                return  # the client gave up

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


JSON_BODY = b'{"data": [{"id": "model"}], "padding": "' + b"x" * 40 + b'"}'


def test_the_http_backend_stops_an_answer_that_drips_past_its_deadline() -> None:
    headers = {"Content-Type": "application/json", "Content-Length": str(len(JSON_BODY))}
    with drip_server("200 OK", headers, JSON_BODY, 0.1) as (url, seen):
        transport = Transport(timeout_s=1.0, retries=0, api_key=None)
        with pytest.raises(RemoteError, match=r"no answer within 1 s"):
            transport.json("GET", f"{url}/v1/models")
        transport.close()
    assert len(seen) == 1


def test_a_range_read_that_drips_past_its_deadline_is_one_error() -> None:
    body = bytes(range(64))
    headers = {"Content-Range": f"bytes 0-63/{1 << 20}", "Content-Length": "64"}
    with drip_server("206 Partial Content", headers, body, 0.1) as (url, seen):
        source = HTTPRangeSource(f"{url}/model.gguf", timeout=1.0)
        with pytest.raises(RemoteReadError, match="no complete answer within 1 s"):
            source.read(0, 64)
    assert len(seen) == 1


def test_a_remote_config_that_drips_past_its_deadline_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import runner.fit.remote

    real = runner.fit.remote.get_json
    monkeypatch.setattr(
        runner.fit.remote, "get_json", lambda url, headers, size, timeout=1.0: real(url, headers, size, 1.0)
    )
    headers = {"Content-Type": "application/json", "Content-Length": str(len(JSON_BODY))}
    with (
        drip_server("200 OK", headers, JSON_BODY, 0.1) as (url, _),
        pytest.raises(LapbenchError, match="no complete answer within 1 s"),
    ):
        remote_folder(f"{url}/org/model")


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [("500 Internal Server Error", b"oops", "HTTP 500"), ("200 OK", b"<html>hub</html>", "not JSON"),
     ("200 OK", b'{"error": "no"}', "did not answer a file listing")],
)  # fmt: skip
def test_a_hub_that_answers_wrongly_is_one_line_after_one_request(
    monkeypatch: pytest.MonkeyPatch, status: str, body: bytes, says: str
) -> None:
    headers = {"Content-Length": str(len(body))}
    with drip_server(status, headers, body, 0.0) as (url, seen):
        use_hub(monkeypatch, url)
        done = cli.invoke(app, ["fit", "org/Some-GGUF:Q4_K_M"])
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert done.exit_code != 0 and len(lines) == 1 and lines[0].startswith("error:"), done.output
    assert says in lines[0] and "org/Some-GGUF" in lines[0]
    assert [r.split()[1].split("?")[0] for r in seen] == ["/api/models/org/Some-GGUF/tree/main"]


def test_an_unreachable_or_offline_hub_is_one_line_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    use_hub(monkeypatch, f"http://127.0.0.1:{port}")
    done = cli.invoke(app, ["fit", "org/Some-GGUF:Q4_K_M"])
    assert done.exit_code != 0 and "Retrying" not in done.output, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot list files of org/Some-GGUF" in lines[0], done.output
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    done = cli.invoke(app, ["fit", "org/Some-GGUF:Q4_K_M"])
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert done.exit_code != 0 and len(lines) == 1 and "HF_HUB_OFFLINE" in lines[0], done.output


def test_a_listing_over_several_pages_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from runner.fit.hub import list_gguf_files

    class Hub(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            second = "cursor=2" in self.path
            body = (b'[{"type": "file", "path": "b-Q8_0.gguf"}]' if second else
                    b'[{"type": "file", "path": "a-Q4_K_M.gguf"}, {"type": "directory", "path": "x"}]')  # fmt: skip
            self.send_response(200)
            if not second:
                self.send_header(
                    "Link", f'<{root}/api/models/org/r/tree/main?recursive=true&cursor=2>; rel="next"'
                )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    root = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        use_hub(monkeypatch, root)
        assert list_gguf_files("org/r") == ["a-Q4_K_M.gguf", "b-Q8_0.gguf"]
    finally:
        server.shutdown()
        server.server_close()
