"""How a request reaches a registry: the TLS trust and the proxies of a connection, routing
each request to a pooled transport per (scheme, proxy), and the HTTP client that composes them
with the retries (retry.py) and the deadline (deadline.py).

The clients themselves are kept by the Session (session.py), one per TransportKey, shared by
every thread (httpx.Client is thread-safe for sending); nothing here is ever pickled.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from dockerfeed.registry._http import CONNECT_LIMIT, TIMEOUT_ENV
from dockerfeed.registry.deadline import DeadlineTransport, with_deadlines
from dockerfeed.registry.errors import InvalidConfiguration
from dockerfeed.registry.retry import RetryPolicy, RetryTransport
from dockerfeed.registry.settings import ConnectionSettings, check_ca_certificate

USER_AGENT = "pulumi-dockerfeed/0.1 (+https://github.com/pulumi-dockerfeed)"
# Seconds one request may take as a whole (connect, TLS, headers and body); at most CONNECT_LIMIT
# of them to connect. DOCKERFEED_HTTP_TIMEOUT overrides the default for slow registries (or for
# tests of slow ones). Read when a Registry is created.
DEFAULT_TIMEOUT = 30.0
TIMEOUT = httpx.Timeout(DEFAULT_TIMEOUT, connect=CONNECT_LIMIT)
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
        raise InvalidConfiguration(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds between 0 and 3600")
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


def transport_key(settings: ConnectionSettings) -> TransportKey:
    """The transport configuration `settings` get in this environment, now."""
    if settings.insecure_skip_tls_verify:
        verify = "skip"
    elif settings.ca_certificate:
        verify = "ca:" + hashlib.sha256(settings.ca_certificate.encode()).hexdigest()
    else:
        verify = "system"
    return TransportKey(verify, proxy_environment(), http_timeout_seconds())


def _ssl_context(settings: ConnectionSettings) -> ssl.SSLContext | bool:
    if settings.insecure_skip_tls_verify:
        return False
    if settings.ca_certificate:
        check_ca_certificate(settings.ca_certificate)
        # The feed's CA is trusted in addition to the system's: a token service on a public
        # host must still verify.
        ctx = ssl.create_default_context()
        try:
            ctx.load_verify_locations(cadata=settings.ca_certificate)
        except (ssl.SSLError, ValueError) as e:
            raise InvalidConfiguration(
                f"caCertificate is not a usable PEM certificate ({e}); give the CA certificate that "
                "signed the registry's certificate, including the BEGIN/END CERTIFICATE lines"
            ) from None
        return ctx
    return True


def _http_transport(verify: ssl.SSLContext | bool, proxy: str | None) -> httpx.HTTPTransport:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return with_deadlines(httpx.HTTPTransport(verify=verify, trust_env=True, limits=limits, proxy=proxy))


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
                    raise InvalidConfiguration(
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


def build_client(
    settings: ConnectionSettings,
    key: TransportKey,
    retry: RetryPolicy,
    inner: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A new client for `key` (`transport_key(settings)`): retries over deadlines over `inner`,
    by default the routing transport with the settings' TLS trust and the key's proxies."""
    if inner is None:
        inner = _RoutingTransport(_ssl_context(settings), dict(key.proxies))
    return httpx.Client(
        transport=RetryTransport(DeadlineTransport(inner, key.timeout), retry),
        timeout=http_timeout(key.timeout),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        trust_env=True,
    )


__all__ = [
    "CONNECT_LIMIT",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_ENV",
    "USER_AGENT",
    "TransportKey",
    "build_client",
    "http_timeout",
    "http_timeout_seconds",
    "proxy_environment",
    "transport_key",
]
