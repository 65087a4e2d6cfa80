"""Read parts of a remote file with HTTP Range requests, counting every byte received.

A server that ignores Range answers 200 with the whole body; we then close the connection without reading
it (a model is gigabytes) and raise RangeNotSupportedError. Redirects (the Hugging Face CDN) are followed
by hand so that an Authorization header is sent only to the host it was meant for.

Every request has an overall deadline (`timeout`, redirects included), not only a timeout per read: a
watchdog shuts the socket down when it passes, so a server that sends one byte just before each read would
time out is stopped too. `get_json` is the same exchange for the hub's small JSON answers.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import urllib.parse
from contextlib import suppress
from typing import Any

from runner.errors import LapbenchError

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
MAX_REDIRECTS = 8


class RemoteReadError(LapbenchError):
    """The remote file could not be read."""


class RangeNotSupportedError(RemoteReadError):
    """The server answered a Range request with the full body."""


class _Deadline:
    """Shuts down the sockets of a request's connections when `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._connections: list[http.client.HTTPConnection] = []
        self.passed = threading.Event()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(0.001, self._end - time.monotonic())

    def watch(self, conn: http.client.HTTPConnection) -> None:
        self._connections.append(conn)

    def _fire(self) -> None:
        self.passed.set()
        for conn in self._connections:
            if conn.sock is not None:
                with suppress(OSError):
                    conn.sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()

    def error(self, name: str) -> RemoteReadError:
        return RemoteReadError(
            f"{name}: no complete answer within {self.seconds:g} s",
            hint="check the network and the server, or try again later",
        )


def _open(
    url: str, headers: dict[str, str], deadline: _Deadline, name: str, on_request: Any = None
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """GET `url`, following redirects by hand (Authorization only to the first host); the caller closes."""
    origin = urllib.parse.urlsplit(url).netloc
    for _ in range(MAX_REDIRECTS):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise RemoteReadError(f"{name}: unsupported URL scheme {parts.scheme!r}")
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(parts.netloc, timeout=deadline.left())
        deadline.watch(conn)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        send = (
            headers if parts.netloc == origin else {k: v for k, v in headers.items() if k != "Authorization"}
        )
        try:
            conn.request("GET", target or "/", headers=send)
            if on_request is not None:
                on_request()
            resp = conn.getresponse()
        except BaseException:
            conn.close()
            raise
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            url = urllib.parse.urljoin(url, resp.getheader("Location", ""))
            conn.close()
            continue
        return conn, resp
    raise RemoteReadError(f"{name}: more than {MAX_REDIRECTS} redirects")


def get_json(url: str, headers: dict[str, str], max_bytes: int, timeout: float = 30.0) -> tuple[Any, Any]:
    """(JSON value, response headers) of one GET within `timeout` seconds in all; one try: a wrong answer
    or an unreachable server is a RemoteReadError at once."""
    deadline = _Deadline(timeout)
    try:
        conn, resp = _open(url, headers, deadline, url)
        try:
            if resp.status != 200:
                raise RemoteReadError(
                    f"{url}: HTTP {resp.status} {resp.reason}", hint="check the name and token"
                )
            body = resp.read(max_bytes + 1)
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as err:
        raise deadline.error(url) if deadline.passed.is_set() else _network_error(url, err) from None
    finally:
        deadline.cancel()
    if deadline.passed.is_set():
        raise deadline.error(url)
    if len(body) > max_bytes:
        raise RemoteReadError(f"{url}: answer larger than {max_bytes} bytes")
    try:
        return json.loads(body), resp.headers
    except ValueError:
        raise RemoteReadError(f"{url}: answer is not JSON: {body[:120]!r}") from None


def _network_error(name: str, err: BaseException) -> RemoteReadError:
    return RemoteReadError(f"{name}: {err}", hint="check the URL and the network")


class HTTPRangeSource:
    """A ByteSource over HTTP(S). `bytes_read` counts body bytes received, `requests` the round trips."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        self.name = url
        self.remote = True  # the header parser avoids downloading vocabularies from remote sources
        self.bytes_read = 0
        self.requests = 0
        self._url = url
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._size: int | None = None
        self._probed = False
        self._first: bytes | None = None
        self._lock = threading.Lock()  # the vocabulary skip reads samples from several threads

    def size(self) -> int | None:
        if not self._probed:
            self.read(0, 1 << 16)  # the first chunk; the parser asks for it next anyway, so it is cached
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0 or (self._size is not None and offset >= self._size):
            return b""
        if self._probed and offset == 0 and self._first is not None and length <= len(self._first):
            return self._first[:length]
        data = self._get_range(offset, offset + length - 1)
        if not self._probed:
            self._probed, self._first = True, data
        return data

    def _get_range(self, first: int, last: int) -> bytes:
        headers = {**self._headers, "Range": f"bytes={first}-{last}", "Accept-Encoding": "identity"}
        deadline = _Deadline(self._timeout)
        try:
            conn, resp = _open(self._url, headers, deadline, self.name, self._count_request)
            try:
                data = self._body(resp, first, last)
            finally:
                conn.close()  # on a 200 this aborts the transfer: the body is never read
        except (OSError, http.client.HTTPException) as err:
            raise (
                deadline.error(self.name) if deadline.passed.is_set() else _network_error(self.name, err)
            ) from None
        finally:
            deadline.cancel()
        if deadline.passed.is_set():  # the watchdog cut the body short
            raise deadline.error(self.name)
        return data

    def _count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def _body(self, resp: http.client.HTTPResponse, first: int, last: int) -> bytes:
        length = resp.getheader("Content-Length", "?")
        if resp.status == 200 and first == 0 and length.isdigit() and int(length) <= last + 1:
            data = resp.read(int(length))  # the whole file is no larger than what was asked for: fine
            self._size = int(length)
            with self._lock:
                self.bytes_read += len(data)
            return data
        if resp.status == 200:
            raise RangeNotSupportedError(
                f"{self.name}: the server ignored the Range request and started sending the whole file "
                f"({length} bytes); aborted after 0 body bytes",
                hint="use a server that supports HTTP Range requests, or download the file and pass its path",
            )
        if resp.status == 416:
            return b""
        if resp.status != 206:
            raise RemoteReadError(
                f"{self.name}: HTTP {resp.status} {resp.reason}", hint="check the URL and token"
            )
        match = _CONTENT_RANGE.match(resp.getheader("Content-Range", ""))
        if not match or int(match.group(1)) != first:
            raise RemoteReadError(f"{self.name}: bad Content-Range {resp.getheader('Content-Range')!r}")
        if match.group(3) != "*":
            self._size = int(match.group(3))
        data = resp.read(last - first + 1)
        with self._lock:
            self.bytes_read += len(data)
        return data
