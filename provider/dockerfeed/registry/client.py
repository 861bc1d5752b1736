"""The registry client: discovery, validation, listings and manifests over one feed."""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx

from dockerfeed.registry.auth import (
    HOSTS,
    SCOPES_EXTENSION,
    HostAuthState,
    RegistryAuth,
    bearer_challenge,
    parse_challenges,
    raise_for_denied,
)
from dockerfeed.registry.credentials import Credentials, resolve_credentials
from dockerfeed.registry.errors import (
    AccessDenied,
    ListingIncomplete,
    NotARegistry,
    NotFound,
    ProtocolError,
    RateLimited,
    RegistryError,
    TLSFailure,
    Unreachable,
    Unsupported,
)
from dockerfeed.registry.identity import ConnectionIdentity
from dockerfeed.registry.reference import FeedAddress, check_reference, check_repository, normalize_image
from dockerfeed.registry.settings import FeedSettings
from dockerfeed.registry.transport import CONNECT_LIMIT, PROXY_EXTENSION, TIMEOUT_ENV, get_client, release

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_MEDIA_TYPES = frozenset(MANIFEST_MEDIA_TYPES[0::2])
MANIFEST_ACCEPT = ", ".join(MANIFEST_MEDIA_TYPES)
# fullmatch only: `$` would let a trailing newline through.
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}")

MAX_PAGE_BYTES = 32 * 1024 * 1024
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_PAGES = 10_000
# Ask for big pages: servers that cap `n` either clamp it or answer 400, and we step down.
PAGE_SIZES = (10_000, 1_000, 100)

Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class FeedInfo:
    """What discovery and validation found out about a feed."""

    api_version: str
    registry_url: str
    pull_address: str
    auth_scheme: str
    token_service: str | None = None
    catalog_supported: bool | None = None
    service: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "registryUrl": self.registry_url,
            "pullAddress": self.pull_address,
            "authScheme": self.auth_scheme,
            "tokenService": self.token_service,
            "service": self.service,
            "catalogSupported": self.catalog_supported,
        }


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(re.fullmatch(r"[a-z0-9._-]+", p) for p in parts):
            raise ValueError(
                f"platform {text!r} is not os/arch[/variant] (e.g. linux/amd64 or linux/arm64/v8)"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: dict[str, Any]) -> bool:
        """Whether an index entry's platform is this one, both normalised as containerd does
        (`linux/arm` is `linux/arm/v7`, `linux/arm64` is `linux/arm64/v8`), so the answer does
        not depend on the order of the index."""
        if str(other.get("os", "")).lower() != self.os:
            return False
        arch, variant = _normal_arch(self.architecture, self.variant)
        have = _normal_arch(str(other.get("architecture", "")), other.get("variant"))
        if self.variant is None and arch not in ("arm", "arm64"):
            return have[0] == arch  # no variant asked for: any (amd64/v2 and v3 alike)
        return have == (arch, variant)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def _normal_arch(arch: str, variant: object) -> tuple[str, str]:
    """containerd's normalizeArch: the canonical architecture and variant ("" for none)."""
    arch, var = arch.lower(), str(variant or "").lower()
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if var == "v1" else var
    if arch in ("aarch64", "arm64"):
        return "arm64", {"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9", "v9.0": "v9"}.get(var, var)
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        return "arm", {"": "v7", "7": "v7", "5": "v5", "6": "v6", "8": "v8"}.get(var, var)
    if arch == "i386":
        return "386", ""
    return arch, var


class _PageSizes:
    """The `n` each connection accepted for each kind of listing (None: the server's default page)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sizes: dict[tuple[ConnectionIdentity, str], int | None] = {}

    def get(self, kind: tuple[ConnectionIdentity, str]) -> tuple[int | None] | None:
        with self._lock:
            return (self._sizes[kind],) if kind in self._sizes else None

    def put(self, kind: tuple[ConnectionIdentity, str], size: int | None) -> None:
        with self._lock:
            self._sizes[kind] = size

    def clear(self) -> None:
        with self._lock:
            self._sizes.clear()


PAGE_SIZES_LEARNED = _PageSizes()


def _set_n(url: str, size: int | None) -> str:
    """`url` with its `n` query parameter set to `size` (removed for None), the rest kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != "n"]
    if size is not None:
        # In place when the server's URL has an `n`, so the rest of its URL reads as it sent it.
        at = next((i for i, (k, _) in enumerate(query) if k == "n"), len(kept))
        kept.insert(at, ("n", str(size)))
    return parts._replace(query=urlencode(kept)).geturl()


def _smaller(size: int) -> int | None:
    """The next rung down the page-size ladder (None: let the server choose)."""
    below = [s for s in PAGE_SIZES if s < size]
    return below[0] if below else None


def _looks_cut(count: int, asked: int | None) -> bool:
    """Could a page without `Link` have been cut short by a limit?"""
    if asked is not None:
        return count >= asked
    # Without `n`, a server that pages by default uses a round, modest page size (Nexus 50;
    # Hub, ECR, ACR 100; Quay 50; 1000 at most) — and all of them but Nexus send `Link` anyway.
    return 0 < count <= 1000 and count % 10 == 0


def _n_of(url: str) -> int | None:
    for part in urlsplit(url).query.split("&"):
        name, _, value = part.partition("=")
        if name == "n" and value.isdigit():
            return int(value)
    return None


def _link_next(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        m = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if m and re.search(r'rel\s*=\s*"?next"?', m.group(2)):
            return m.group(1)
    return None


class Registry:
    """One feed with one identity; cheap to create, all state that matters is shared per process."""

    def __init__(self, settings: FeedSettings) -> None:
        self.settings = settings
        self.address: FeedAddress = settings.address
        self.credentials: Credentials | None = resolve_credentials(settings)
        # The key of everything this process remembers about the registry (identity.py).
        self.identity = ConnectionIdentity.of(settings, self.credentials)
        self.client = get_client(settings, self.identity.transport)
        self.auth = RegistryAuth(
            self.identity,
            self.credentials,
            allow_http_realm=self.address.scheme == "http",
            client=self.client,
        )
        self.api_version: str | None = None
        self._registry_requests = 0

    @property
    def requests(self) -> int:
        """HTTP requests this object sent: to the registry (retries not counted) and its token service."""
        return self._registry_requests + self.auth.token_requests

    # -- transport ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        scopes: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send one request (auth negotiated); the body is left unread for the caller to cap."""
        request = self.client.build_request(
            method, url, headers=headers, extensions={SCOPES_EXTENSION: scopes}
        )
        try:
            response = self.client.send(request, auth=self.auth if authenticate else None, stream=True)
        except httpx.HTTPError as e:
            raise self._transport_error(method, url, e) from None
        self._registry_requests += 1 + len(response.history)
        if response.status_code == 429:
            release(response)
            raise RateLimited(
                f"{method} {url} was rate limited (HTTP 429) after retries; wait and try again"
                + _ratelimit_hint(response)
            )
        return response

    def _transport_error(self, method: str, url: str, e: httpx.HTTPError) -> RegistryError:
        """Name what failed: the registry itself or its token service, and why (DNS, TLS, ...)."""
        failed = e.request.url if _has_request(e) else None
        target = f"{e.request.method} {failed}" if failed is not None else f"{method} {url}"
        if failed is not None and str(failed.copy_with(query=None)) != url.split("?", 1)[0]:
            target += f" (while sending {method} {url})"
        proxy = e.request.extensions.get(PROXY_EXTENSION) if _has_request(e) else None
        host = failed.host if failed is not None else self.address.hostname
        text = str(e)
        upper = text.upper()
        if (
            proxy
            and isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout))
            and not _is_tls_error(e, upper)
        ):
            # Nothing reached the registry: the proxy itself did not answer.
            return Unreachable(
                f"{target} could not connect to the proxy {proxy} (from the environment): {text}; "
                f"is the proxy running at this address? To reach {host} without it, add {host} to no_proxy"
            )
        if proxy:
            target += f" through the proxy {proxy} (from the environment; no_proxy skips it)"
        if isinstance(e, httpx.TimeoutException):
            return self._timed_out(target, e)
        if any(m in upper for m in _NOT_TLS):
            return TLSFailure(
                f"{target} failed the TLS handshake: the server does not speak TLS on this port "
                f"({text}); if it is a plain-http registry, write the feed as http://{self.address.netloc}"
            )
        if _is_tls_error(e, upper):
            return TLSFailure(f"{target} failed the TLS handshake: {text}; {self._tls_advice(upper, host)}")
        if any(m in text for m in _DNS_FAILURES):
            return Unreachable(f"{target}: the host name {host!r} does not resolve (DNS): {text}")
        if isinstance(e, httpx.ConnectError):
            return Unreachable(
                f"{target} could not connect: {text}; is the registry running at this address?"
            )
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

    def _tls_advice(self, upper: str, host: str) -> str:
        """What to do about a certificate that did not verify: the advice depends on why."""
        if "HOSTNAME MISMATCH" in upper or "IP ADDRESS MISMATCH" in upper:
            return (
                f"the registry's certificate does not name {host!r}; write feedUri with a host "
                "name the certificate was issued for (or give the registry a certificate for this name)"
            )
        if self.settings.ca_certificate:
            return (
                "the certificate chain does not lead to the CA in caCertificate (--ca-certificate) "
                "or a system CA; give the CA that signed this registry's certificate"
            )
        return (
            "give the registry's CA in caCertificate (--ca-certificate), or set insecureSkipTlsVerify "
            "(--insecure) for a test registry"
        )

    def _timed_out(self, target: str, e: httpx.TimeoutException, got: str = "") -> Unreachable:
        """A request that ran out of time: which one, how far it got, and what bounds it."""
        seconds = self.identity.transport.timeout
        if isinstance(e, httpx.ConnectTimeout) and "deadline" not in str(e):
            what = f"no connection within {min(seconds, CONNECT_LIMIT):g} s"
        else:
            what = f"{got or 'no complete answer'} within {seconds:g} s"
        return Unreachable(
            f"{target} timed out: {what} ({TIMEOUT_ENV} bounds each request as a whole: connect, "
            f"headers and body); is the registry up and reachable from here? For a slow registry, "
            f"raise {TIMEOUT_ENV}"
        )

    def _read(self, response: httpx.Response, limit: int, what: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            response.close()
            raise ProtocolError(
                f"{what} announced {declared} bytes, above the {limit}-byte limit; refusing it"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ProtocolError(f"{what} sent more than {limit} bytes; refusing it")
                chunks.append(chunk)
        except httpx.TimeoutException as e:
            raise self._timed_out(
                what, e, f"the answer ({response.status_code}) sent only {size} bytes of its body"
            ) from None
        except httpx.HTTPError as e:
            # The connection broke (or the body was cut short) after the headers arrived.
            raise Unreachable(
                f"{what} answered {response.status_code}, but the body broke off after {size} bytes "
                f"({type(e).__name__}: {e}); the registry or a proxy dropped the connection, try again"
            ) from None
        finally:
            response.close()
        return b"".join(chunks)

    def _json(self, response: httpx.Response, limit: int, what: str) -> dict[str, Any]:
        body = self._read(response, limit, what)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise ProtocolError(
                f"{what} answered {response.status_code} with a body that is not valid JSON"
            ) from None
        if not isinstance(data, dict):
            raise ProtocolError(f"{what} answered JSON that is not an object")
        return data

    def _fail(self, response: httpx.Response, what: str) -> None:
        """Raise the right error for a non-success response."""
        status = response.status_code
        release(response)
        if status == 401:
            challenges = parse_challenges(response.headers.get_list("www-authenticate"))
            refusal = next((c for c in challenges if c.params.get("error") == "insufficient_scope"), None)
            if refusal is not None and self.credentials:
                scopes = refusal.scopes
                if scopes and all(s.startswith("repository:") for s in scopes):
                    repos = ", ".join(s.split(":")[1] for s in scopes if s.count(":") >= 2)
                    ask = f"ask for pull rights on {repos}"
                else:
                    ask = f"ask for the permission {' '.join(scopes) or 'it needs'}"
                raise AccessDenied(
                    f"{what} answered 401 insufficient_scope: {self.credentials.describe()} was accepted "
                    f"but has no permission for this; {ask}"
                )
        raise_for_denied(response, what, self.credentials)
        if status == 404:
            raise NotFound(f"{what} answered 404")
        raise RegistryError(f"{what} answered HTTP {status}")

    # -- discovery and validation ------------------------------------------------------------

    def ping(self) -> FeedInfo:
        """Find the API version (v2 `/v2/`, v1 `/v1/_ping`) and the auth scheme, anonymously."""
        wanted = self.settings.api_version
        reasons: list[str] = []
        if wanted in ("auto", "v2"):
            url = self.address.url("/v2/")
            r = self._send("GET", url, authenticate=False)
            body_start = self._read(r, 64 * 1024, f"GET {url}")[:200]
            if r.status_code == 400 and any(m in body_start.lower() for m in _HTTP_TO_TLS):
                raise TLSFailure(
                    f"GET {url} answered 400 {body_start.strip().decode('utf-8', 'replace')!r}: the "
                    f"registry speaks TLS on this port; write the feed as https://{self.address.netloc}"
                    f"{self.address.path}"
                )
            api = r.headers.get("docker-distribution-api-version", "")
            challenges = parse_challenges(r.headers.get_list("www-authenticate"))
            if r.status_code in (200, 401) and (
                "registry/2.0" in api or (r.status_code == 401 and challenges)
            ):
                self.api_version = "v2"
                return self._learn(challenges, f"GET {url}")
            reasons.append(_why_not(url, r, body_start, "Docker-Distribution-API-Version: registry/2.0"))
            if wanted == "v2":
                raise NotARegistry(f"apiVersion v2 was requested, but {reasons[0]}", request=f"GET {url}")
        url = self.address.url("/v1/_ping")
        r = self._send("GET", url, authenticate=False)
        body_start = self._read(r, 64 * 1024, f"GET {url}")[:200]
        if r.status_code == 200 and r.headers.get("x-docker-registry-version"):
            self.api_version = "v1"
            return self._learn(parse_challenges(r.headers.get_list("www-authenticate")), f"GET {url}")
        reasons.append(_why_not(url, r, body_start, "X-Docker-Registry-Version"))
        if wanted == "v1":
            raise NotARegistry(f"apiVersion v1 was requested, but {reasons[-1]}", request=f"GET {url}")
        raise NotARegistry(
            f"{self.address.base_url} does not look like a Docker registry: "
            + "; ".join(reasons)
            + ". Check feedUri: it should be the registry's address, without a repository path",
            request=f"GET {self.address.url('/v2/')}",
        )

    def _learn(self, challenges: list[Any], what: str) -> FeedInfo:
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        bearer = bearer_challenge(challenges, what, fallback=basic is not None)
        api = self.api_version or "v2"
        if bearer is not None:
            state = HostAuthState("bearer", bearer.params["realm"], bearer.params.get("service"), api)
        elif basic is not None:
            state = HostAuthState("basic", api_version=api)
        else:
            state = HostAuthState("anonymous", api_version=api)
        HOSTS.put(self.identity, state)
        return FeedInfo(
            api_version=self.api_version or "v2",
            registry_url=self.address.base_url,
            pull_address=self.settings.pull_address,
            auth_scheme=state.scheme,
            token_service=state.realm,
            service=state.service,
        )

    def validate(self, info: FeedInfo) -> str:
        """Send the credentials somewhere that rejects bad ones; say where they were accepted."""
        if info.auth_scheme == "bearer":
            # A bearer registry answers 200 on /v2/ to an anonymous token: the realm must see them.
            state = HOSTS.get(self.identity) or HostAuthState(
                "bearer", info.token_service, info.service, info.api_version
            )
            try:
                self.auth.fetch_token(state, ())
            except httpx.HTTPError as e:
                raise self._transport_error("GET", state.realm or "", e) from None
            if self.credentials is None:
                return "none given; the token service hands out anonymous tokens"
            return f"accepted by the token service: {self.credentials.describe()}"
        if self.credentials is None and info.auth_scheme == "anonymous":
            return "none given; the registry answers anonymously"
        api = "/v2/" if info.api_version == "v2" else "/v1/_ping"
        url = self.address.url(api)
        r = self._send("GET", url)
        release(r)
        if r.status_code >= 400:
            self._fail(r, f"GET {url}")
        if self.credentials is None:
            return "none given (anonymous)"
        if info.auth_scheme == "anonymous" and "Authorization" not in r.request.headers:
            # Nothing asked for them, so nothing checked them: say so rather than "accepted".
            return f"not needed: the registry answers anonymously ({self.credentials.describe()} unused)"
        return f"accepted by the registry: {self.credentials.describe()}"

    def catalog_supported(self) -> bool:
        """Whether this identity may list the catalog (one small page; failures mean "no")."""
        return self.catalog_check()[0]

    def catalog_check(self) -> tuple[bool, str]:
        """Whether the catalog is usable by this identity, and in words why (for `test`).

        One small page is asked for; a refusal, an error or an answer that is not a catalog (not
        JSON, no `repositories` list) all mean "no".
        """
        if self.api_version == "v1":
            return True, "supported"
        if self.address.is_docker_hub:
            return False, "not offered (Docker Hub has no catalog)"
        url = self.address.url("/v2/_catalog?n=1")
        try:
            r = self._send("GET", url, scopes=("registry:catalog:*",))
        except (RateLimited, Unreachable, TLSFailure):
            raise
        except RegistryError:
            return False, "not offered to this identity"
        if r.status_code != 200:
            release(r)
            return False, "not offered to this identity"
        try:
            data = self._json(r, MAX_PAGE_BYTES, f"GET {url}")
        except ProtocolError as e:
            return False, f"not usable: {e}"
        if not isinstance(data.get("repositories"), list):
            return False, f"not usable: GET {url} answered 200 without a 'repositories' list"
        return True, "supported"

    # -- listings ---------------------------------------------------------------------------

    def _ensure_pinged(self) -> None:
        """Learn the API version once per host and process: a warm Registry skips the ping."""
        if self.api_version is not None:
            return
        known = HOSTS.get(self.identity)
        wanted = self.settings.api_version
        if known is not None and known.api_version and wanted in ("auto", known.api_version):
            self.api_version = known.api_version
            return
        self.ping()

    def list_tags(self, image: str) -> list[str]:
        """Every tag of a repository, complete or not at all."""
        repo = normalize_image(image, self.address)
        self._ensure_pinged()
        if self.api_version == "v1":
            return self._v1_tags(repo)
        return self._paged(f"/v2/{repo}/tags/list", "tags", (f"repository:{repo}:pull",), f"tags of {repo}")

    def catalog(self) -> list[str]:
        """Every repository name of the v2 catalog (the whole of it, or an error)."""
        if self.address.is_docker_hub:
            # Known without asking: Hub has no /v2/_catalog at all.
            raise Unsupported(
                "Docker Hub does not offer a catalog (/v2/_catalog); give the repository name "
                "(e.g. library/nginx) to `dockerfeed tags` instead"
            )
        self._ensure_pinged()
        try:
            return self._paged("/v2/_catalog", "repositories", ("registry:catalog:*",), "the catalog")
        except (AccessDenied, NotFound) as e:
            raise Unsupported(
                f"this registry does not offer a catalog to {self._who()}: {e}. Hosted registries "
                "(GHCR, Docker Hub, ProGet) and admin-only catalogs (Harbor, GitLab) behave so; "
                "give the repository name to `dockerfeed tags` instead"
            ) from None

    def _who(self) -> str:
        return self.credentials.describe() if self.credentials else "anonymous access"

    def _paged(self, path: str, key: str, scopes: tuple[str, ...], what: str) -> list[str]:
        """Every entry of a paginated listing, complete or an error; never a silent prefix.

        Page size. Tags are first asked for without `n`: distribution (2.8 and 3.x) then answers
        every tag at once, where any `n` is clamped to its page limit (tags.maxtags, 1000 by
        default) and costs ⌈N/1000⌉ + 1 round trips, each slower than the last. Servers that page
        anyway say so with `Link`; when its cursor is a `last`, later pages ask for a big `n`
        (Docker Hub, ECR, ACR default to 100). Catalogs always page on distribution, so they ask
        for a big `n` from the start. A 400 (PAGINATION_NUMBER_INVALID above
        catalog.maxentries, ECR above 1000) steps down 10000 → 1000 → 100 → no `n` and retries
        the same cursor; the size that worked is remembered per host.

        Completeness. `Link` is followed exactly (relative or absolute, same origin only). A page
        without `Link` ends the listing unless it looks like a page cut by a limit — full for the
        `n` we asked, or, without `n`, a round count up to 1000 (Nexus pages by default and sends
        no `Link`): then one more request with `last` asks for the rest, until a page adds nothing.
        """
        base = self.address.url(path)
        origin = urlsplit(base)
        kind = (self.identity, key)
        learned = PAGE_SIZES_LEARNED.get(kind)
        size: int | None = learned[0] if learned is not None else (None if key == "tags" else PAGE_SIZES[0])
        items: dict[str, None] = {}  # an ordered set: first-seen order, duplicates dropped
        seen_urls: set[str] = set()
        # Bigger pages are tried only until the server has refused one, or on a host we know.
        may_grow = learned is None
        probing = False  # the current request only checks that a page without Link was whole
        url = _set_n(base, size)
        for _page in range(MAX_PAGES):
            r = self._send("GET", url, scopes=scopes)
            if r.status_code == 400 and size is not None:
                release(r)
                size, may_grow = _smaller(size), False
                url = _set_n(url, size)
                continue
            if r.status_code == 404:
                release(r)
                missing = "the repository does not exist" if key == "tags" else "there is no catalog"
                raise NotFound(
                    f"GET {url} answered 404: {missing} on {self.address.base_url} "
                    f"(or it is not visible to {self._who()})"
                )
            if r.status_code != 200:
                self._fail(r, f"GET {url}")
            # A probe's size says nothing about how this server pages: don't learn it.
            if not probing and (learned is None or learned[0] != size):
                PAGE_SIZES_LEARNED.put(kind, size)
                learned = (size,)
            probing = False
            seen_urls.add(url)
            link = r.headers.get("link")
            data = self._json(r, MAX_PAGE_BYTES, f"GET {url}")
            values = data.get(key)
            if values is None:
                values = []  # Nexus answers `"tags": null` for a repository without tags
            # Per-entry work runs in C (map, dict.fromkeys): 100,000 tags cost a few milliseconds.
            if not isinstance(values, list) or not set(map(type, values)) <= {str}:
                raise ProtocolError(f"GET {url} answered a '{key}' field that is not a list of strings")
            before = len(items)
            items.update(dict.fromkeys(values))
            fresh = len(items) > before
            nxt = _link_next(link)
            rewritten: str | None = None  # the other path a Link pointed to, when it did
            if nxt is None:
                if not fresh or not _looks_cut(len(values), _n_of(url)):
                    return list(items)
                # No Link, but the page may have been cut by a limit (Nexus): ask for the rest.
                if size is None and may_grow:
                    size = PAGE_SIZES[0]
                nxt_url = _set_n(f"{base}?{urlencode({'last': values[-1]})}", size or len(values))
                probing = True
            else:
                nxt_url = urljoin(url, nxt)
                target = urlsplit(nxt_url)
                if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
                    raise ListingIncomplete(
                        f"listing {what}: GET {url} sent a Link to {target.scheme}://{target.netloc}, "
                        "another origin; refusing to follow it (the listing would be incomplete)"
                    )
                if target.path != origin.path:
                    if not target.query:
                        raise ListingIncomplete(
                            f"listing {what}: GET {url} sent a Link to another path, {target.path}, "
                            f"without a cursor (no query) to continue {origin.path} with; refusing to "
                            "follow it (the listing would be incomplete)"
                        )
                    # Some proxies (Artifactory) send a Link with a broken path: keep the query,
                    # which carries the cursor (`last`, or an opaque one like Quay's).
                    nxt_url = f"{base}?{target.query}"
                    rewritten = target.path
                if "last=" in target.query and (size is not None or may_grow):
                    # The server pages by itself; with a `last` cursor we may choose the page size.
                    size = size or PAGE_SIZES[0]
                    nxt_url = _set_n(nxt_url, size)
            if nxt_url in seen_urls or (values and not fresh):
                if rewritten is not None:
                    raise ListingIncomplete(
                        f"listing {what}: GET {url} sent a Link to another path, {rewritten}; its cursor "
                        f"applied to {origin.path} (GET {nxt_url}) repeats what was listed after "
                        f"{len(items)} entries; refusing to return a partial listing"
                    )
                raise ListingIncomplete(
                    f"listing {what}: the registry's Link pagination loops (GET {nxt_url} again after "
                    f"{len(items)} entries); refusing to return a partial listing"
                )
            url = nxt_url
        raise ListingIncomplete(f"listing {what} needed more than {MAX_PAGES} pages; refusing to truncate it")

    def _v1_tags(self, repo: str) -> list[str]:
        url = self.address.url(f"/v1/repositories/{repo}/tags")
        r = self._send("GET", url)
        if r.status_code != 200:
            self._fail(r, f"GET {url}")
        body = self._read(r, MAX_PAGE_BYTES, f"GET {url}")
        try:
            data = json.loads(body)
        except ValueError:
            raise ProtocolError(f"GET {url} answered a body that is not JSON") from None
        # v1 answers either {"tag": "image-id"} or [{"name": tag, "layer": id}].
        if isinstance(data, dict):
            return [str(t) for t in data]
        if isinstance(data, list):
            return [str(item["name"]) for item in data if isinstance(item, dict) and "name" in item]
        raise ProtocolError(f"GET {url} answered JSON of an unexpected shape")

    # -- manifests --------------------------------------------------------------------------

    def manifest_digest(self, image: str, reference: str) -> str:
        """The digest a `docker pull image:reference` would resolve, by HEAD (GET as fallback)."""
        repo = normalize_image(image, self.address)
        check_reference(reference)
        self._ensure_pinged()
        if self.api_version == "v1":
            raise Unsupported("this feed speaks the v1 API, which has no content digests; use a v2 registry")
        url = self.address.url(f"/v2/{repo}/manifests/{reference}")
        scopes = (f"repository:{repo}:pull",)
        r = self._send("HEAD", url, scopes=scopes, headers={"Accept": MANIFEST_ACCEPT})
        release(r)
        if r.status_code == 404:
            raise NotFound(f"HEAD {url} answered 404: {repo}:{reference} does not exist")
        if r.status_code == 200:
            digest = str(r.headers.get("docker-content-digest", ""))
            if DIGEST_RE.fullmatch(digest):
                return digest
        elif r.status_code not in (405, 400):
            self._fail(r, f"HEAD {url}")
        # No usable digest header (or no HEAD support): GET the manifest and hash it.
        return self.get_manifest(repo, reference)[2]

    def get_manifest(self, repo: str, reference: str) -> tuple[str, dict[str, Any], str]:
        """Media type, parsed body and verified digest of a manifest."""
        url = self.address.url(f"/v2/{check_repository(repo)}/manifests/{check_reference(reference)}")
        r = self._send("GET", url, scopes=(f"repository:{repo}:pull",), headers={"Accept": MANIFEST_ACCEPT})
        if r.status_code == 404:
            release(r)
            raise NotFound(f"GET {url} answered 404: {repo}:{reference} does not exist")
        if r.status_code != 200:
            self._fail(r, f"GET {url}")
        header = r.headers.get("docker-content-digest", "")
        media_type = r.headers.get("content-type", "").split(";")[0].strip()
        body = self._read(r, MAX_MANIFEST_BYTES, f"GET {url}")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if header and header != digest:
            raise ProtocolError(
                f"GET {url}: the body hashes to {digest} but Docker-Content-Digest says {header}; "
                "refusing a manifest that does not match its digest"
            )
        if reference.startswith("sha256:") and reference != digest:
            raise ProtocolError(f"GET {url}: the body hashes to {digest}, not the requested {reference}")
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            raise ProtocolError(f"GET {url} answered a manifest that is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ProtocolError(f"GET {url} answered a manifest that is not a JSON object")
        media_type = str(parsed.get("mediaType") or media_type)
        return media_type, parsed, digest

    def platform_digest(self, image: str, digest: str, platform: Platform) -> str:
        """The digest of the manifest for `platform` inside an index (or the manifest itself)."""
        repo = normalize_image(image, self.address)
        media_type, manifest, _ = self.get_manifest(repo, digest)
        if media_type in INDEX_MEDIA_TYPES or "manifests" in manifest:
            entries = manifest.get("manifests") or []
            found = [
                m
                for m in entries
                if isinstance(m, dict) and m.get("platform") and platform.matches(m["platform"])
            ]
            if not found:
                offered = sorted(
                    {
                        str(
                            Platform(
                                m["platform"].get("os", "?"),
                                m["platform"].get("architecture", "?"),
                                m["platform"].get("variant"),
                            )
                        )
                        for m in entries
                        if isinstance(m, dict) and isinstance(m.get("platform"), dict)
                    }
                )
                raise NotFound(
                    f"{repo}@{digest} has no image for {platform}; it offers {', '.join(offered) or 'none'}"
                )
            chosen = found[0].get("digest")
            if not isinstance(chosen, str) or not DIGEST_RE.fullmatch(chosen):
                raise ProtocolError(
                    f"{repo}@{digest}: the index names the {platform} image by {chosen!r}, which is "
                    "not a sha256 digest; refusing it"
                )
            return chosen
        config = manifest.get("config") or {}
        cfg = self._blob_json(repo, str(config.get("digest", "")))
        if not platform.matches(cfg):
            raise NotFound(
                f"{repo}@{digest} is a single-platform image for "
                f"{cfg.get('os')}/{cfg.get('architecture')}, not {platform}"
            )
        return digest

    def _blob_json(self, repo: str, digest: str) -> dict[str, Any]:
        if not DIGEST_RE.fullmatch(digest):
            raise ProtocolError(f"manifest of {repo} names a config blob with an invalid digest {digest!r}")
        url = self.address.url(f"/v2/{check_repository(repo)}/blobs/{digest}")
        r = self._send("GET", url, scopes=(f"repository:{repo}:pull",))
        if r.status_code != 200:
            self._fail(r, f"GET {url}")
        return self._json(r, MAX_MANIFEST_BYTES, f"GET {url}")


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


# What a TLS server answers to a plain http request (Go's net/http, nginx).
_HTTP_TO_TLS = (
    b"client sent an http request to an https server",
    b"the plain http request was sent to https port",
)


def _has_request(e: httpx.HTTPError) -> bool:
    try:
        e.request  # noqa: B018 - httpx raises RuntimeError when the error has no request
    except RuntimeError:
        return False
    return True


def _why_not(url: str, r: httpx.Response, body_start: bytes, header: str) -> str:
    ctype = r.headers.get("content-type", "")
    if "html" in ctype or body_start.lstrip().lower().startswith((b"<!doctype", b"<html")):
        return (
            f"GET {url} answered {r.status_code} with an HTML page (a login page or web UI?), "
            "not the registry API"
        )
    if r.status_code == 404:
        return f"GET {url} answered 404"
    return f"GET {url} answered {r.status_code} without the {header} header"


def _ratelimit_hint(r: httpx.Response) -> str:
    limit, remaining = r.headers.get("ratelimit-limit"), r.headers.get("ratelimit-remaining")
    if limit:
        return f" (ratelimit-limit {limit}, remaining {remaining}); authenticated pulls get a higher limit"
    return ""


@contextmanager
def open_registry(settings: FeedSettings) -> Iterator[Registry]:
    yield Registry(settings)


def test_feed(settings: FeedSettings, progress: Progress | None = None, image: str | None = None) -> FeedInfo:
    """Octopus's "Save and Test": discovery, credential validation, catalog support and, when
    `image` is given, pull rights on that repository (valid credentials may still lack them)."""
    say: Progress = progress or (lambda step, detail: None)
    address = settings.address
    say("address", f"{address.base_url} ({'TLS' if address.scheme == 'https' else 'plain http'})")
    reg = Registry(settings)
    info = reg.ping()
    say("api", f"{info.api_version} at {info.registry_url}")
    auth = info.auth_scheme
    if info.token_service:
        auth += f", token service {info.token_service}"
        if info.service:
            auth += f" (service {info.service!r})"
    say("auth", auth)
    say("credentials", reg.validate(info))
    catalog, detail = reg.catalog_check()
    say("catalog", detail)
    if image:
        tags = reg.list_tags(image)
        say("pull", f"{normalize_image(image, reg.address)}: {len(tags)} tag{'s' if len(tags) != 1 else ''}")
    return FeedInfo(
        api_version=info.api_version,
        registry_url=info.registry_url,
        pull_address=info.pull_address,
        auth_scheme=info.auth_scheme,
        token_service=info.token_service,
        catalog_supported=catalog,
        service=info.service,
    )


# Not a pytest test, although its name says so (tests import it).
test_feed.__test__ = False  # type: ignore[attr-defined]


def search(settings: FeedSettings, query: str = "") -> list[str]:
    """Repositories whose name contains `query`: v1 search, or the v2 catalog filtered locally."""
    reg = Registry(settings)
    if reg.address.is_docker_hub:
        return [name for name in reg.catalog() if query.lower() in name.lower()]  # raises Unsupported
    reg._ensure_pinged()
    if reg.api_version == "v1":
        url = reg.address.url("/v1/search?" + urlencode({"q": query}))
        r = reg._send("GET", url)
        if r.status_code != 200:
            reg._fail(r, f"GET {url}")
        data = reg._json(r, MAX_PAGE_BYTES, f"GET {url}")
        return [str(x.get("name")) for x in data.get("results") or [] if isinstance(x, dict)]
    needle = query.lower()
    return [name for name in reg.catalog() if needle in name.lower()]


__all__ = [
    "FeedInfo",
    "Platform",
    "Registry",
    "open_registry",
    "search",
    "test_feed",
]
