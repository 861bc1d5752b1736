"""The bottom of the registry client: what every layer does with an httpx response.

Releasing a response so its connection is reused, reading a body under a size cap, parsing a
JSON object, and reading the registry's own `errors[]` body. Nothing here knows about auth,
retries or operations; everything above imports it. See docs/design.md, "registry/ in layers".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from dockerfeed.registry.errors import ProtocolError, Unreachable

# A body up to this size is read before a response is dropped, so its connection can be reused.
DRAIN_LIMIT = 64 * 1024
# What the deadline of one request is called in messages, and where it comes from.
TIMEOUT_ENV = "DOCKERFEED_HTTP_TIMEOUT"
CONNECT_LIMIT = 10.0


def release(response: httpx.Response) -> None:
    """Close a response whose body is not wanted, keeping its connection for the next request.

    A connection goes back to the pool only once the whole response went through it. Closing an
    unread one (a HEAD included: its end of message is never read otherwise) drops the
    connection, and the next request pays a new TCP (and TLS) handshake. Small bodies of a
    declared length are read first; a large or open-ended one is not worth it.
    """
    try:
        head = response.request.method == "HEAD"
    except RuntimeError:  # straight from a transport (a retry): no request attached yet
        head = False
    try:
        length = response.headers.get("content-length", "")
        small = head or (length.isdigit() and int(length) <= DRAIN_LIMIT)
        if small and not response.is_closed and not response.is_stream_consumed:
            response.read()
    except (httpx.HTTPError, httpx.StreamError):
        pass  # the connection is gone anyway; the caller reports the status it already has
    finally:
        response.close()


def has_request(e: httpx.HTTPError) -> bool:
    """Whether an httpx error carries its request (httpx raises RuntimeError when it has none)."""
    try:
        e.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def timed_out(target: str, e: httpx.TimeoutException, seconds: float, got: str = "") -> Unreachable:
    """A request that ran out of time: which one, how far it got, and what bounds it."""
    if isinstance(e, httpx.ConnectTimeout) and "deadline" not in str(e):
        what = f"no connection within {min(seconds, CONNECT_LIMIT):g} s"
    else:
        what = f"{got or 'no complete answer'} within {seconds:g} s"
    return Unreachable(
        f"{target} timed out: {what} ({TIMEOUT_ENV} bounds each request as a whole: connect, "
        f"headers and body); is the registry up and reachable from here? For a slow registry, "
        f"raise {TIMEOUT_ENV}"
    )


class TooLarge(Exception):
    """A body above its cap (internal: each caller says what that means for it)."""

    def __init__(self, declared: str | None) -> None:
        super().__init__(declared)
        self.declared = declared


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The whole body; TooLarge as soon as it announces or streams more than `limit` bytes.

    httpx's errors while reading propagate as they are; the response is closed in every case.
    """
    return _join_capped(response, response.iter_bytes(), limit)


def read_body(response: httpx.Response, limit: int, what: str, seconds: float) -> bytes:
    """The capped body of the answer to `what`, every failure a RegistryError: over the cap is a
    protocol error, a body that breaks off or runs out of time (`seconds`) after the headers
    arrived is unreachable."""
    received = 0

    def counted() -> Iterator[bytes]:
        nonlocal received
        for chunk in response.iter_bytes():
            received += len(chunk)
            yield chunk

    try:
        return _join_capped(response, counted(), limit)
    except TooLarge as e:
        if e.declared is not None:
            raise ProtocolError(
                f"{what} announced {e.declared} bytes, above the {limit}-byte limit; refusing it"
            ) from None
        raise ProtocolError(f"{what} sent more than {limit} bytes; refusing it") from None
    except httpx.TimeoutException as e:
        raise timed_out(
            what, e, seconds, f"the answer ({response.status_code}) sent only {received} bytes of its body"
        ) from None
    except httpx.HTTPError as e:
        # The connection broke (or the body was cut short) after the headers arrived.
        raise Unreachable(
            f"{what} answered {response.status_code}, but the body broke off after {received} bytes "
            f"({type(e).__name__}: {e}); the registry or a proxy dropped the connection, try again"
        ) from None


def _join_capped(response: httpx.Response, chunks: Iterator[bytes], limit: int) -> bytes:
    try:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge(declared)
        out: list[bytes] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(None)
            out.append(chunk)
        return b"".join(out)
    finally:
        response.close()


class NotAnObject(Exception):
    """A body that is not a JSON object; `reason` completes "answered …" (internal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object. Deeply nested JSON raises RecursionError in json: refused too."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise NotAnObject("a body that is not valid JSON") from None
    if not isinstance(data, dict):
        raise NotAnObject("JSON that is not an object")
    return data


def read_json(response: httpx.Response, limit: int, what: str, seconds: float) -> dict[str, Any]:
    """A capped body that must be a JSON object, or a ProtocolError naming the request."""
    body = read_body(response, limit, what, seconds)
    try:
        return json_object(body)
    except NotAnObject as e:
        raise ProtocolError(f"{what} answered {response.status_code} with {e.reason}") from None


def registry_errors(body: bytes) -> str:
    """The registry's own words from an error body (distribution's `{"errors": [{code, message}]}`).

    "DENIED: requested access to the resource is denied; …" or "" when the body holds none.
    Registries put the most useful line there (DENIED, NAME_UNKNOWN, TOOMANYREQUESTS), and it
    never holds our credentials. Text is shortened and stripped of control characters: the body
    comes from the network.
    """
    try:
        data = json_object(body)
    except NotAnObject:
        return ""
    errors = data.get("errors")
    if not isinstance(errors, list):
        return ""
    said: list[str] = []
    for entry in errors[:3]:
        if not isinstance(entry, dict):
            continue
        code, message = entry.get("code"), entry.get("message")
        parts = [_printable(p) for p in (code, message) if isinstance(p, str) and p.strip()]
        if parts:
            said.append(": ".join(parts))
    return "; ".join(said)


def _printable(text: str, limit: int = 200) -> str:
    clean = "".join(c if c.isprintable() else " " for c in text.strip())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def error_body(response: httpx.Response) -> str:
    """Release a failed response and return its registry's errors[] ("" when none was read).

    Only a body `release` reads anyway (of a small declared length) is looked at: waiting for an
    open-ended error body would make a failure slower than the answer that reported it.
    """
    release(response)
    try:
        return registry_errors(response.content)
    except httpx.ResponseNotRead:
        return ""


__all__ = [
    "CONNECT_LIMIT",
    "DRAIN_LIMIT",
    "TIMEOUT_ENV",
    "NotAnObject",
    "TooLarge",
    "error_body",
    "has_request",
    "json_object",
    "read_body",
    "read_capped",
    "read_json",
    "registry_errors",
    "release",
    "timed_out",
]
