"""Read parts of a remote file with HTTP Range requests, counting every byte received.

A server that ignores Range answers 200 with the whole body; we then close the connection without reading
it (a model is gigabytes) and raise RangeNotSupportedError. Redirects (the Hugging Face CDN) are followed
by hand so that an Authorization header is sent only to the host it was meant for.
"""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse

from runner.errors import LapbenchError

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
MAX_REDIRECTS = 8


class RemoteReadError(LapbenchError):
    """The remote file could not be read."""


class RangeNotSupportedError(RemoteReadError):
    """The server answered a Range request with the full body."""


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
        url, headers = (
            self._url,
            {**self._headers, "Range": f"bytes={first}-{last}", "Accept-Encoding": "identity"},
        )
        origin = urllib.parse.urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS):
            parts = urllib.parse.urlsplit(url)
            conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            if parts.scheme not in ("http", "https"):
                raise RemoteReadError(f"{self.name}: unsupported URL scheme {parts.scheme!r}")
            conn = conn_cls(parts.netloc, timeout=self._timeout)
            try:
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                send = (
                    headers
                    if parts.netloc == origin
                    else {k: v for k, v in headers.items() if k != "Authorization"}
                )
                conn.request("GET", target or "/", headers=send)
                with self._lock:
                    self.requests += 1
                resp = conn.getresponse()
                if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
                    url = urllib.parse.urljoin(url, resp.getheader("Location", ""))
                    continue
                return self._body(resp, first, last)
            except OSError as err:
                raise RemoteReadError(f"{self.name}: {err}", hint="check the URL and the network") from err
            finally:
                conn.close()  # on a 200 this aborts the transfer: the body is never read
        raise RemoteReadError(f"{self.name}: more than {MAX_REDIRECTS} redirects")

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
