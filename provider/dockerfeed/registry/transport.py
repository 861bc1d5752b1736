"""One pooled HTTP client per transport configuration per process, with bounded retries and a
deadline on every request.

Clients are created lazily and shared by every thread (httpx.Client is thread-safe for sending);
nothing here is ever pickled. Retries sit below auth, so each request is retried on its own; the
deadline sits below the retries, so each attempt has its own.
"""

from __future__ import annotations

import contextvars
import email.utils
import hashlib
import os
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from dockerfeed.registry.errors import InvalidReference
from dockerfeed.registry.settings import FeedSettings

USER_AGENT = "pulumi-dockerfeed/0.1 (+https://github.com/pulumi-dockerfeed)"
# 500 too: registries answer transient storage-backend hiccups with a bare 500 (DESIGN: 429/5xx);
# 501 and 505 are permanent.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Seconds one request may take as a whole (connect, TLS, headers and body); at most CONNECT_LIMIT
# of them to connect. DOCKERFEED_HTTP_TIMEOUT overrides the default for slow registries (or for
# tests of slow ones). Read when a Registry is created.
DEFAULT_TIMEOUT = 30.0
CONNECT_LIMIT = 10.0
TIMEOUT = httpx.Timeout(DEFAULT_TIMEOUT, connect=CONNECT_LIMIT)
TIMEOUT_ENV = "DOCKERFEED_HTTP_TIMEOUT"
# Request extension naming the proxy a request went through, for error messages.
PROXY_EXTENSION = "dockerfeed.proxy"


def http_timeout_seconds() -> float:
    """The deadline of one request in seconds: DOCKERFEED_HTTP_TIMEOUT, else 30."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise InvalidReference(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds between 0 and 3600")
    return seconds


def http_timeout(seconds: float | None = None) -> httpx.Timeout:
    """httpx's per-operation timeouts under the deadline: none longer than the deadline itself."""
    if seconds is None:
        seconds = http_timeout_seconds()
    if seconds == DEFAULT_TIMEOUT:
        return TIMEOUT
    return httpx.Timeout(seconds, connect=min(seconds, CONNECT_LIMIT))


@dataclass(frozen=True)
class TransportKey:
    """Everything a pooled HTTP client depends on: two feeds share one only when all is equal.

    `verify` is how the server's certificate is checked ("system", "skip", or "ca:" and the
    SHA-256 of the feed's CA bundle); `proxies` are the proxy variables of the environment (kept
    out of repr: a proxy URL may carry a password); `timeout` is the deadline of one request.
    """

    verify: str
    proxies: tuple[tuple[str, str], ...] = field(repr=False)
    timeout: float


# The proxy variables that route a registry or token request: `<scheme>_proxy` for http and
# https, `all_proxy`, and `no_proxy`.
_PROXY_NAMES = ("all", "http", "https", "no")


def proxy_environment() -> tuple[tuple[str, str], ...]:
    """Those variables as urllib's getproxies_environment reads them, in a few microseconds.

    (urllib walks and decodes the whole environment twice, ~150 µs for every Registry.) The
    lowercase name wins over the uppercase one, an empty lowercase one switches it off, and under
    CGI (REQUEST_METHOD set) HTTP_PROXY is not trusted (httpoxy).
    """
    env = os.environ
    found: list[tuple[str, str]] = []
    for name in _PROXY_NAMES:
        value = env.get(f"{name}_proxy")
        if value is None and not (name == "http" and "REQUEST_METHOD" in env):
            value = env.get(f"{name.upper()}_PROXY")
        if value:
            found.append((name, value))
    return tuple(found)


def transport_key(settings: FeedSettings) -> TransportKey:
    """The transport configuration `settings` get in this environment, now."""
    if settings.insecure_skip_tls_verify:
        verify = "skip"
    elif settings.ca_certificate:
        verify = "ca:" + hashlib.sha256(settings.ca_certificate.encode()).hexdigest()
    else:
        verify = "system"
    return TransportKey(verify, proxy_environment(), http_timeout_seconds())


class RetryPolicy:
    """Exponential backoff honouring `Retry-After`, bounded in attempts and in total time."""

    def __init__(
        self,
        attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        budget: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.budget = budget
        self.sleep = sleep

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = float(min(self.max_delay, self.base_delay * 2.0**attempt))
        if response is not None:
            after = retry_after_seconds(response.headers.get("retry-after"))
            if after is not None:
                delay = after
        return delay


DEFAULT_POLICY = RetryPolicy()


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# A body up to this size is read before a response is dropped, so its connection can be reused.
DRAIN_LIMIT = 64 * 1024


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


# -- deadlines -----------------------------------------------------------------------------
#
# httpx's timeouts apply to each socket operation: a server that sends one byte a second never
# trips them, and holds a request for as long as it likes. A deadline bounds the whole exchange.
# It is set per attempt by _DeadlineTransport and seen by the network streams below httpcore,
# which cap every connect, TLS handshake, read and write at the time left. The body is read
# after handle_request returns, by the caller, so the response stream carries the deadline
# along and installs it again around each read. Why: docs/design.md.


@dataclass(frozen=True)
class Deadline:
    seconds: float
    at: float  # time.monotonic() when it passes

    def left(self) -> float:
        return self.at - time.monotonic()

    @property
    def message(self) -> str:
        return f"the request did not complete within its deadline of {self.seconds:g} s"


_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "dockerfeed_deadline", default=None
)


def _bounded(
    op: Callable[[float | None], Any], timeout: float | None, late: type[httpcore.TimeoutException]
) -> Any:
    """Run a socket operation with its timeout capped at what is left of the current deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return op(timeout)
    left = deadline.left()
    if left <= 0:
        raise late(deadline.message)
    capped = timeout is None or left < timeout
    try:
        return op(left if capped else timeout)
    except httpcore.TimeoutException as e:
        if capped:
            raise late(deadline.message) from e
        raise


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = _bounded(lambda t: self._inner.read(max_bytes, t), timeout, httpcore.ReadTimeout)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(lambda t: self._inner.write(buffer, t), timeout, httpcore.WriteTimeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner: httpcore.NetworkStream = _bounded(
            lambda t: self._inner.start_tls(ssl_context, server_hostname, t), timeout, httpcore.ConnectTimeout
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream: httpcore.NetworkStream = _bounded(
            lambda t: self._inner.connect_tcp(host, port, t, local_address, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream: httpcore.NetworkStream = _bounded(
            lambda t: self._inner.connect_unix_socket(path, t, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """A response body read under the deadline of the request that brought it."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            token = _DEADLINE.set(self._deadline)
            try:
                chunk = next(chunks, None)
            finally:
                _DEADLINE.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _DeadlineTransport(httpx.BaseTransport):
    """Gives each request sent through it (each attempt, below the retries) `seconds` in all."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = Deadline(self.seconds, time.monotonic() + self.seconds)
        token = _DEADLINE.set(deadline)
        try:
            response = self.inner.handle_request(request)
        finally:
            _DEADLINE.reset(token)
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _DeadlineBody(response.stream, deadline)
        return response

    def close(self) -> None:
        self.inner.close()


def _with_deadlines(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Put the deadline streams under `transport`'s connection pool.

    httpx does not take a network backend, httpcore's pools do: the pool is reached through
    httpx's `_pool`, and every connection it opens from now on goes through the backend.
    """
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        raise RuntimeError(
            f"httpx {httpx.__version__} keeps its connection pool elsewhere; request deadlines "
            "cannot be installed (registry/transport.py _with_deadlines needs updating)"
        )
    pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


# -- retries -------------------------------------------------------------------------------

_RETRIED = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectTimeout)


class RetryTransport(httpx.BaseTransport):
    """Retries 429/500/502/503/504 and connection failures for idempotent requests.

    Retries have their own bound, `policy.budget` seconds from the first attempt: a retry only
    starts while the wait before it still ends within the budget, and each attempt has its own
    deadline, so a request with all its retries ends within budget + one deadline.
    """

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy | None = None) -> None:
        self.inner = inner
        self.policy = policy or DEFAULT_POLICY

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Token POSTs are retried too: a token grant has no side effect on the registry.
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self.inner.handle_request(request)
            except _RETRIED as e:
                if attempt + 1 >= self.policy.attempts:
                    raise
                delay = self.policy.delay(attempt, None)
                if time.monotonic() - started + delay > self.policy.budget:
                    raise type(e)(
                        f"{e} (gave up after {attempt + 1} attempts: the retries of one request have "
                        f"{self.policy.budget:g} s in all)",
                        request=request,
                    ) from e
            else:
                if response.status_code not in RETRY_STATUSES or attempt + 1 >= self.policy.attempts:
                    return response
                delay = self.policy.delay(attempt, response)
                if time.monotonic() - started + delay > self.policy.budget:
                    return response
                release(response)
            self.policy.sleep(delay)
            attempt += 1

    def close(self) -> None:
        self.inner.close()


_lock = threading.Lock()
_clients: dict[TransportKey, httpx.Client] = {}
# Tests install a transport factory here to replay recorded behaviour of remote registries.
transport_factory: Callable[[FeedSettings], httpx.BaseTransport] | None = None


def _ssl_context(settings: FeedSettings) -> ssl.SSLContext | bool:
    if settings.insecure_skip_tls_verify:
        return False
    if settings.ca_certificate:
        # The feed's CA is trusted in addition to the system's: a token service on a public
        # host must still verify.
        ctx = ssl.create_default_context()
        try:
            ctx.load_verify_locations(cadata=settings.ca_certificate)
        except (ssl.SSLError, ValueError) as e:
            raise InvalidReference(
                f"caCertificate is not a usable PEM certificate ({e}); give the CA certificate that "
                "signed the registry's certificate, including the BEGIN/END CERTIFICATE lines"
            ) from None
        return ctx
    return True


def _http_transport(verify: ssl.SSLContext | bool, proxy: str | None) -> httpx.HTTPTransport:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return _with_deadlines(httpx.HTTPTransport(verify=verify, trust_env=True, limits=limits, proxy=proxy))


# no_proxy matching as urllib does it (host, host:port, .domain, *); not in the type stubs.
_bypass: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def _redacted(proxy: str) -> str:
    try:
        return str(httpx.URL(proxy).copy_with(username=None, password=None))
    except httpx.InvalidURL:
        return "(an unparsable URL)"


class _RoutingTransport(httpx.BaseTransport):
    """One pooled transport per (scheme, proxy), each built on first use.

    Proxies come from the environment as curl and Docker read them: `http_proxy`, `https_proxy`,
    `all_proxy` and `no_proxy`, in either case; they are part of the client's TransportKey, so
    a changed environment gets a new client. (httpx ignores them once a transport is given, so
    they are applied here.)

    A verifying TLS context loads the CA bundle (~45 ms, most of a short CLI run's own time); a
    plain-http feed (loopback, a lab registry) never needs it. Transports for plain http without
    an https proxy never make a TLS connection, so their unverifying context is never used.
    """

    def __init__(self, verify: ssl.SSLContext | bool, proxies: dict[str, str]) -> None:
        self._verify = verify
        self._proxies = proxies
        self._lock = threading.Lock()
        self._transports: dict[tuple[str, str | None], httpx.HTTPTransport] = {}

    def _proxy_for(self, url: httpx.URL) -> str | None:
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if not proxy or _bypass(url.netloc.decode("ascii"), self._proxies):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"  # `proxy:3128` means http, as in curl

    def _for(self, url: httpx.URL) -> tuple[httpx.HTTPTransport, str | None]:
        key = (url.scheme, self._proxy_for(url) if self._proxies else None)
        transport = self._transports.get(key)
        if transport is not None:  # every request but the first of each route: no lock
            return transport, key[1]
        with self._lock:
            transport = self._transports.get(key)
            if transport is None:
                scheme, proxy = key
                tls = scheme == "https" or (proxy or "").startswith("https:")
                try:
                    transport = _http_transport(self._verify if tls else False, proxy)
                except (ValueError, ImportError, httpx.InvalidURL) as e:
                    raise InvalidReference(
                        f"the proxy {_redacted(proxy or '')} for {scheme} URLs (from {scheme}_proxy or "
                        f"all_proxy in the environment) is not usable: {e}; give an http:// or https:// "
                        "proxy URL, or add the registry to no_proxy"
                    ) from None
                self._transports[key] = transport
            return transport, key[1]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport, proxy = self._for(request.url)
        if proxy:  # named in errors, without any credentials of the proxy URL
            request.extensions[PROXY_EXTENSION] = _redacted(proxy)
        return transport.handle_request(request)

    def close(self) -> None:
        with self._lock:
            for transport in self._transports.values():
                transport.close()
            self._transports.clear()


def get_client(settings: FeedSettings, key: TransportKey | None = None) -> httpx.Client:
    """The shared client for this transport configuration (created on first use).

    `key` is `transport_key(settings)`, passed when the caller has it already.
    """
    if key is None:
        key = transport_key(settings)
    with _lock:
        client = _clients.get(key)
        if client is None:
            if transport_factory is not None:
                inner: httpx.BaseTransport = transport_factory(settings)
            else:
                inner = _RoutingTransport(_ssl_context(settings), dict(key.proxies))
            client = httpx.Client(
                transport=RetryTransport(_DeadlineTransport(inner, key.timeout)),
                timeout=http_timeout(key.timeout),
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
                trust_env=True,
            )
            _clients[key] = client
        return client


def reset_clients() -> None:
    """Close every pooled client and forget what hosts and tokens were learned (tests, forks)."""
    from dockerfeed.registry.auth import HOSTS, TOKENS
    from dockerfeed.registry.client import PAGE_SIZES_LEARNED

    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
    HOSTS.clear()
    TOKENS.clear()
    PAGE_SIZES_LEARNED.clear()
