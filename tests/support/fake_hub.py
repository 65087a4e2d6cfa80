"""A Hugging Face-like hub on 127.0.0.1 for `pull` and `fit`, answering what huggingface_hub and lapbench ask:

- model info with its file list: `/api/models/<org>/<repo>` and `/api/models/<org>/<repo>/revision/<rev>`
  (`siblings`), and the tree listing `/api/models/<org>/<repo>/tree/<rev>` (`list_repo_files`);
- file resolution `/<org>/<repo>/resolve/<rev>/<path>` (HEAD and GET) with `X-Repo-Commit` and `ETag`; a
  large (LFS) file, `.gguf` or `.safetensors`, is redirected (302) to a second server on another port, as the
  Hub redirects to its CDN: that answer carries `X-Linked-Etag` and `X-Linked-Size`, and the CDN serves the
  bytes with `Range` (206, `Content-Range`);
- `cut_after=N`: the first GET of each file's bytes sends N bytes and drops the connection, so that a
  download must resume with `Range: bytes=N-`.

`use_hub` points huggingface_hub and lapbench at it (HF_ENDPOINT) and lifts the tests' offline switch."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHUNK = 1 << 20
COMMIT = "a" * 40
LFS_SUFFIXES = (".gguf", ".safetensors")


@dataclass
class HubLog:
    """What the hub served: `files` the keys downloaded (a GET of the whole file), `ranges` every (key,
    first byte) of a GET of file bytes (downloads, resumed downloads and header reads), `requests` every
    (method, path)."""

    files: list[str] = field(default_factory=list)
    ranges: list[tuple[str, int]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        """How many times file bytes were sent."""
        return len(self.ranges)


def _size(source: bytes | Path) -> int:
    return len(source) if isinstance(source, bytes) else source.stat().st_size


def _etag(key: str, source: bytes | Path) -> str:
    return hashlib.sha256(f"{key}:{_size(source)}".encode()).hexdigest()


def _read(source: bytes | Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes start..end (inclusive) of an in-memory body or a file, in chunks."""
    if isinstance(source, bytes):
        yield source[start : end + 1]
        return
    with source.open("rb") as handle:
        handle.seek(start)
        left = end + 1 - start
        while left > 0 and (block := handle.read(min(CHUNK, left))):
            left -= len(block)
            yield block


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files: dict[str, bytes | Path]
    log: HubLog

    def log_message(self, format: str, *args: object) -> None:
        return

    def _json(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _cdn(files: dict[str, bytes | Path], log: HubLog, cut_after: int | None) -> type[BaseHTTPRequestHandler]:
    cut_done: set[str] = set()

    class Cdn(_Base):
        def _found(self) -> tuple[str, bytes | Path] | None:
            key = self.path.split("?")[0].lstrip("/")
            return (key, files[key]) if key in files else None

        def do_HEAD(self) -> None:
            found = self._found()
            if not found:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(_size(found[1])))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{_etag(*found)}"')
            self.end_headers()

        def do_GET(self) -> None:
            self.log.requests.append(("GET", self.path))
            found = self._found()
            if not found:
                self.send_error(404)
                return
            key, source = found
            total = _size(source)
            match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            start = int(match.group(1)) if match else 0
            end = min(int(match.group(2)), total - 1) if match and match.group(2) else total - 1
            self.log.ranges.append((key, start))
            if start == 0 and not (match and match.group(2)):  # a download, not a header read
                self.log.files.append(key)
            self.send_response(206 if match else 200)
            if match:
                self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
            self.send_header("Content-Length", str(end + 1 - start))
            self.send_header("ETag", f'"{_etag(key, source)}"')
            self.end_headers()
            cut = cut_after is not None and end + 1 - start > cut_after and key not in cut_done
            sent = 0
            for block in _read(source, start, end):
                if cut and sent + len(block) > (cut_after or 0):
                    self.wfile.write(block[: (cut_after or 0) - sent])
                    self.wfile.flush()
                    cut_done.add(key)
                    self.close_connection = True
                    return
                self.wfile.write(block)
                sent += len(block)

    Cdn.files, Cdn.log = files, log
    return Cdn


def _hub(files: dict[str, bytes | Path], log: HubLog, cdn_url: str) -> type[BaseHTTPRequestHandler]:
    class Hub(_Base):
        def _file(self) -> tuple[str, bytes | Path] | None:
            match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/[^/]+/(.+)", self.path.split("?")[0])
            key = f"{match.group(1)}/{match.group(2)}" if match else ""
            return (key, files[key]) if key in files else None

        def _repo_files(self, repo: str) -> list[tuple[str, int]]:
            return [(k[len(repo) + 1 :], _size(v)) for k, v in files.items() if k.startswith(repo + "/")]

        def _resolve(self, head: bool) -> None:
            found = self._file()
            if not found:
                self.send_error(404)
                return
            key, source = found
            etag = _etag(key, source)
            if key.endswith(LFS_SUFFIXES):  # the Hub sends large files from its CDN, on another host
                self.send_response(302)
                self.send_header("Location", f"{cdn_url}/{key}")
                self.send_header("X-Linked-Etag", f'"{etag}"')
                self.send_header("X-Linked-Size", str(_size(source)))
                self.send_header("Content-Length", "0")
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(_size(source)))
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{etag}"')
            self.end_headers()
            if not head and not key.endswith(LFS_SUFFIXES):
                self.log.files.append(key)
                self.log.ranges.append((key, 0))
                for block in _read(source, 0, _size(source) - 1):
                    self.wfile.write(block)

        def do_HEAD(self) -> None:
            self.log.requests.append(("HEAD", self.path))
            if self.path.startswith("/api/models/"):
                self.send_response(200 if self._repo_files(self._api_repo()) else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._resolve(head=True)

        def _api_repo(self) -> str:
            return "/".join(self.path.split("?")[0].split("/")[3:5])

        def do_GET(self) -> None:
            self.log.requests.append(("GET", self.path))
            path = self.path.split("?")[0]
            if not path.startswith("/api/models/"):
                self._resolve(head=False)
                return
            repo = self._api_repo()
            listed = self._repo_files(repo)
            if not listed:
                self.send_error(404)
                return
            if re.fullmatch(r"/api/models/[^/]+/[^/]+/tree/[^/]+.*", path):
                self._json([{"type": "file", "path": p, "size": n, "oid": "0" * 40} for p, n in listed])
            elif re.fullmatch(r"/api/models/[^/]+/[^/]+(/revision/[^/]+)?", path):
                siblings = [{"rfilename": p, "size": n} for p, n in listed]
                self._json(
                    {"id": repo, "modelId": repo, "sha": COMMIT, "private": False, "siblings": siblings}
                )
            else:
                self.send_error(404)

    Hub.files, Hub.log = files, log
    return Hub


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def serve_hub(files: dict[str, bytes | Path], cut_after: int | None = None) -> Iterator[tuple[str, HubLog]]:
    """(endpoint URL, log) of a hub serving files keyed `org/repo/path`."""
    log = HubLog()
    cdn = _serve(_cdn(files, log, cut_after))
    hub = _serve(_hub(files, log, f"http://127.0.0.1:{cdn.server_address[1]}"))
    try:
        yield f"http://127.0.0.1:{hub.server_address[1]}", log
    finally:
        for server in (hub, cdn):
            server.shutdown()
            server.server_close()


def use_hub(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
