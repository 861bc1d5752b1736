"""Every error a request can end in, built in one place: from the status of a final response
(with the registry's own `errors[]` words), from a transport failure (DNS, TLS, proxy, refused
connection, deadline), and from a token service's refusal.

Messages say what was tried, what came back and what to do, and are built from URLs, status
codes and user names only: never a password, token or Authorization header.
"""

from __future__ import annotations

import ssl

import httpx

from dockerfeed.registry._http import error_body, has_request, release, timed_out
from dockerfeed.registry.challenge import challenges_of, refusal
from dockerfeed.registry.credentials import Credentials
from dockerfeed.registry.errors import (
    AccessDenied,
    BadCredentials,
    CredentialsRequired,
    NotFound,
    RateLimited,
    RegistryError,
    TLSFailure,
    Unreachable,
)
from dockerfeed.registry.reference import FeedAddress
from dockerfeed.registry.transport import PROXY_EXTENSION


def who(credentials: Credentials | None) -> str:
    """Who asked, in words: "user 'ci' from settings", or "anonymous access"."""
    return credentials.describe() if credentials else "anonymous access"


def said(registry_words: str) -> str:
    """The registry's errors[] as the last words of a message ("" when it said nothing)."""
    return f" (the registry said: {registry_words})" if registry_words else ""


def from_status(response: httpx.Response, what: str, credentials: Credentials | None) -> RegistryError:
    """The error of a final non-success answer to `what` ("GET https://…"); releases it."""
    status = response.status_code
    challenges = challenges_of(response) if status == 401 else []
    words = said(error_body(response))
    if status == 401:
        refused = refusal(challenges)
        if refused is not None and credentials:
            scopes = refused.scopes
            if scopes and all(s.startswith("repository:") for s in scopes):
                repos = ", ".join(s.split(":")[1] for s in scopes if s.count(":") >= 2)
                ask = f"ask for pull rights on {repos}"
            else:
                ask = f"ask for the permission {' '.join(scopes) or 'it needs'}"
            return AccessDenied(
                f"{what} answered 401 insufficient_scope: {credentials.describe()} was accepted "
                f"but has no permission for this; {ask}{words}"
            )
        if credentials is None:
            return CredentialsRequired(
                f"{what} answered 401: this registry needs credentials; give username and "
                f"password (or useDockerConfig; --docker-config on the command line){words}"
            )
        return BadCredentials(
            f"{what} answered 401 for {credentials.describe()} — check the password or token{words}"
        )
    if status == 403:
        return AccessDenied(
            f"{what} answered 403: {who(credentials)} is authenticated but not allowed to do this{words}"
        )
    if status == 404:
        return NotFound(f"{what} answered 404{words}")
    if status == 429:
        return rate_limited(response, what)
    return RegistryError(f"{what} answered HTTP {status}{words}")


def rate_limited(response: httpx.Response, what: str) -> RateLimited:
    """429 after the retries gave up; Docker Hub says how many pulls are left."""
    release(response)
    limit, remaining = response.headers.get("ratelimit-limit"), response.headers.get("ratelimit-remaining")
    hint = ""
    if limit:
        hint = f" (ratelimit-limit {limit}, remaining {remaining}); authenticated pulls get a higher limit"
    return RateLimited(f"{what} was rate limited (HTTP 429) after retries; wait and try again{hint}")


def token_refused(
    where: str, status: int, scopes: tuple[str, ...], credentials: Credentials | None
) -> RegistryError:
    """A token service's non-200 answer (`where` names it and its service)."""
    if status == 403 and scopes:
        # The identity is fine (or anonymous is allowed) but these scopes are not granted:
        # GHCR answers so for `registry:catalog:*`. Not a credentials problem.
        hint = "" if credentials else "; give credentials that have this permission"
        return AccessDenied(
            f"{where} refused {who(credentials)} the scope {' '.join(scopes)} (HTTP 403){hint}"
        )
    if status in (401, 403):
        if credentials is None:
            return CredentialsRequired(
                f"{where} refused an anonymous token (HTTP {status}) for "
                f"{' '.join(scopes) or 'login'}; give username and password for this feed"
            )
        return BadCredentials(
            f"{where} rejected {who(credentials)} (HTTP {status}) — check the password or token"
        )
    return RegistryError(
        f"{where} answered HTTP {status} for {who(credentials)} and scopes "
        f"{' '.join(scopes) or '(none)'}; check feedUri and that the token service is healthy"
    )


# OpenSSL's words for "the other side answered in plain http".
_NOT_TLS = ("WRONG_VERSION_NUMBER", "RECORD LAYER FAILURE", "PACKET LENGTH TOO LONG")
_DNS_FAILURES = (
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "getaddrinfo failed",
)


def _is_tls_error(e: httpx.HTTPError, upper: str) -> bool:
    return isinstance(e.__context__ or e.__cause__, ssl.SSLError) or "CERTIFICATE" in upper or "SSL" in upper


def from_transport(
    method: str,
    url: str,
    e: httpx.HTTPError,
    *,
    address: FeedAddress,
    own_ca: bool,
    seconds: float,
) -> RegistryError:
    """Name what failed (the registry itself or its token service) and why: DNS, TLS, proxy...

    `own_ca` is whether the feed trusts a CA of its own; `seconds` is the request deadline.
    """
    failed = e.request.url if has_request(e) else None
    target = f"{e.request.method} {failed}" if failed is not None else f"{method} {url}"
    if failed is not None and str(failed.copy_with(query=None)) != url.split("?", 1)[0]:
        target += f" (while sending {method} {url})"
    proxy = e.request.extensions.get(PROXY_EXTENSION) if has_request(e) else None
    host = failed.host if failed is not None else address.hostname
    text = str(e)
    upper = text.upper()
    if proxy and isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout)) and not _is_tls_error(e, upper):
        # Nothing reached the registry: the proxy itself did not answer.
        return Unreachable(
            f"{target} could not connect to the proxy {proxy} (from the environment): {text}; "
            f"is the proxy running at this address? To reach {host} without it, add {host} to no_proxy"
        )
    if proxy:
        target += f" through the proxy {proxy} (from the environment; no_proxy skips it)"
    if isinstance(e, httpx.TimeoutException):
        return timed_out(target, e, seconds)
    if any(m in upper for m in _NOT_TLS):
        return TLSFailure(
            f"{target} failed the TLS handshake: the server does not speak TLS on this port "
            f"({text}); if it is a plain-http registry, write the feed as http://{address.netloc}"
        )
    if _is_tls_error(e, upper):
        return TLSFailure(f"{target} failed the TLS handshake: {text}; {_tls_advice(upper, host, own_ca)}")
    if any(m in text for m in _DNS_FAILURES):
        return Unreachable(f"{target}: the host name {host!r} does not resolve (DNS): {text}")
    if isinstance(e, httpx.ConnectError):
        return Unreachable(f"{target} could not connect: {text}; is the registry running at this address?")
    if (
        failed is not None
        and failed.scheme == "http"
        and isinstance(e, httpx.RemoteProtocolError | httpx.ReadError)
    ):
        return Unreachable(
            f"{target} failed: {type(e).__name__}: {text}; if the registry speaks TLS on this "
            f"port, write the feed as https://{failed.netloc.decode('ascii')}"
        )
    return Unreachable(f"{target} failed: {type(e).__name__}: {text}")


def _tls_advice(upper: str, host: str, own_ca: bool) -> str:
    """What to do about a certificate that did not verify: the advice depends on why."""
    if "HOSTNAME MISMATCH" in upper or "IP ADDRESS MISMATCH" in upper:
        return (
            f"the registry's certificate does not name {host!r}; write feedUri with a host "
            "name the certificate was issued for (or give the registry a certificate for this name)"
        )
    if own_ca:
        return (
            "the certificate chain does not lead to the CA in caCertificate (--ca-certificate) "
            "or a system CA; give the CA that signed this registry's certificate"
        )
    return (
        "give the registry's CA in caCertificate (--ca-certificate), or set insecureSkipTlsVerify "
        "(--insecure) for a test registry"
    )


__all__ = ["from_status", "from_transport", "rate_limited", "said", "token_refused", "who"]
