"""One HTTP exchange with an OpenAI-compatible server: bounded retries, and every failure a `RemoteError`.

Connection failures, timeouts and HTTP 408/429/5xx are retried with exponential backoff (0.5 s, 1 s, 2 s ...
capped at `MAX_BACKOFF_S`); any other HTTP error is final. Each message names the URL.

`timeout_s` is the deadline of a whole exchange (one attempt: connecting, the answer's headers and its
whole body, or a whole stream), not only of each read: a server that drips its answer a byte at a time
is stopped at the deadline (give or take one read), not after hours.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Mapping
from typing import Any

import httpx

from backends.base import RemoteError

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class _DeadlinePassed(Exception):
    """An answer still arriving when its exchange's deadline passed."""


MAX_BACKOFF_S = 8.0


class Transport:
    """An httpx client with the backend's timeout, retry budget and API key."""

    def __init__(self, *, timeout_s: float, retries: int, api_key: str | None) -> None:
        if timeout_s <= 0:
            raise RemoteError(f"timeout_s must be positive, not {timeout_s:g}")
        self.timeout_s = timeout_s
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._client = httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def send(
        self, method: str, url: str, body: Any = None, *, retry: bool = True, stream: bool = False
    ) -> httpx.Response:
        """A successful (status < 400) response after bounded retries; RemoteError naming `url` otherwise.
        With `stream`, the body is not read yet (the caller closes the response)."""
        attempts = 1 + (self.retries if retry else 0)
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF_S))
            deadline = time.monotonic() + self.timeout_s
            try:
                request = self._client.build_request(method, url, json=body)
                response = self._client.send(request, stream=True)
                if not stream or response.status_code >= 400:
                    response = self._whole(request, response, deadline)
            except (httpx.TimeoutException, _DeadlinePassed):
                problem = f"no answer within {self.timeout_s:g} s"
                continue
            except httpx.TransportError as err:
                problem = f"cannot connect ({type(err).__name__}: {err})"
                continue
            if response.status_code in _RETRY_STATUS:
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                raise RemoteError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
            return response
        raise RemoteError(f"{url}: {problem} (after {attempts} attempt{'s' if attempts > 1 else ''})")

    @staticmethod
    def _whole(request: httpx.Request, response: httpx.Response, deadline: float) -> httpx.Response:
        """The response with its whole body read by `deadline`."""
        chunks = []
        try:
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _DeadlinePassed
        finally:
            response.close()
        return httpx.Response(
            response.status_code, headers=response.headers, content=b"".join(chunks), request=request
        )

    def json(self, method: str, url: str, body: Any = None, *, retry: bool = True) -> Any:
        """One JSON request/answer (see `send`)."""
        response = self.send(method, url, body, retry=retry)
        try:
            return response.json()
        except ValueError as err:
            raise RemoteError(f"{url}: answer is not JSON: {response.text[:200]!r}") from err

    def events(self, url: str, body: Mapping[str, Any]) -> Generator[Mapping[str, Any], None, None]:
        """The JSON chunks of a server-sent-events answer, until `[DONE]` or the end of the stream."""
        deadline = time.monotonic() + self.timeout_s
        response = self.send("POST", url, {**body, "stream": True}, stream=True)
        try:
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise RemoteError(f"{url}: stream not finished within {self.timeout_s:g} s")
                data = line.removeprefix("data:").strip()
                if not line.startswith("data:") or not data:
                    continue
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError as err:
                    raise RemoteError(f"{url}: stream chunk is not JSON: {data[:200]!r}") from err
                yield chunk
        except httpx.TimeoutException as err:
            raise RemoteError(f"{url}: stream stalled for more than {self.timeout_s:g} s") from err
        except httpx.TransportError as err:
            raise RemoteError(f"{url}: stream broken ({type(err).__name__}: {err})") from err
        finally:
            response.close()
