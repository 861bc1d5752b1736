"""One pooled HTTP client per TLS configuration per process, with bounded retries.

Clients are created lazily and shared by every thread (httpx.Client is thread-safe for sending);
nothing here is ever pickled. Retries sit below auth, so each request is retried on its own.
"""

from __future__ import annotations

import email.utils
import os
import ssl
import threading
import time
from collections.abc import Callable

import httpx

from dockerfeed.registry.errors import InvalidReference
from dockerfeed.registry.settings import FeedSettings

USER_AGENT = "pulumi-dockerfeed/0.1 (+https://github.com/pulumi-dockerfeed)"
# 500 too: registries answer transient storage-backend hiccups with a bare 500 (DESIGN: 429/5xx);
# 501 and 505 are permanent.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Seconds to wait for a connection and for each read; DOCKERFEED_HTTP_TIMEOUT overrides the
# default for slow registries (or for tests of slow ones). Read when a client is created.
TIMEOUT_ENV = "DOCKERFEED_HTTP_TIMEOUT"


def http_timeout() -> httpx.Timeout:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise InvalidReference(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds between 0 and 3600")
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


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


class RetryTransport(httpx.BaseTransport):
    """Retries 429/500/502/503/504 and connection failures for idempotent requests."""

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
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectTimeout):
                if attempt + 1 >= self.policy.attempts:
                    raise
                delay = self.policy.delay(attempt, None)
            else:
                if response.status_code not in RETRY_STATUSES or attempt + 1 >= self.policy.attempts:
                    return response
                delay = self.policy.delay(attempt, response)
                if time.monotonic() - started + delay > self.policy.budget:
                    return response
                response.close()
            if time.monotonic() - started + delay > self.policy.budget:
                raise httpx.ConnectError(f"gave up after {attempt + 1} attempts", request=request)
            self.policy.sleep(delay)
            attempt += 1

    def close(self) -> None:
        self.inner.close()


_lock = threading.Lock()
_clients: dict[tuple[str, bool], httpx.Client] = {}
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


def _http_transport(verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return httpx.HTTPTransport(verify=verify, trust_env=True, limits=limits)


class _SchemeTransport(httpx.BaseTransport):
    """Plain-http requests to one transport, https to another that is built on first use.

    A verifying TLS context loads the CA bundle (~45 ms, most of a short CLI run's own time); a
    plain-http feed (loopback, a lab registry) never needs it. The plain transport never sees an
    https URL, so its unverifying context is never used.
    """

    def __init__(self, verify: ssl.SSLContext | bool) -> None:
        self._verify = verify
        self._lock = threading.Lock()
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None

    def _for(self, scheme: str) -> httpx.HTTPTransport:
        transport = self._tls if scheme == "https" else self._plain
        if transport is not None:  # every request but the first of each scheme: no lock
            return transport
        with self._lock:
            if scheme == "https":
                self._tls = self._tls or _http_transport(self._verify)
                return self._tls
            self._plain = self._plain or _http_transport(False)
            return self._plain

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.scheme).handle_request(request)

    def close(self) -> None:
        with self._lock:
            for transport in (self._plain, self._tls):
                if transport is not None:
                    transport.close()
            self._plain = self._tls = None


def get_client(settings: FeedSettings) -> httpx.Client:
    """The shared client for this TLS configuration (created on first use)."""
    key = settings.tls_key
    with _lock:
        client = _clients.get(key)
        if client is None:
            if transport_factory is not None:
                inner: httpx.BaseTransport = transport_factory(settings)
            else:
                inner = _SchemeTransport(_ssl_context(settings))
            client = httpx.Client(
                transport=RetryTransport(inner),
                timeout=http_timeout(),
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
