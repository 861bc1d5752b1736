"""The Session: all process state of the registry client, owned by one object.

What a process learns and keeps while it talks to registries lives here and nowhere else: the
pooled HTTP clients, tokens, what pings and challenges taught about hosts, learned page sizes,
the retry policy, the credentials each feed resolved to (Docker credential helpers run once per
registry and session), the run cache of listings and digests, and the read-ahead of a run
(readahead.py). Every answer is kept under the connection identity (identity.py), so none
crosses between feeds whose settings differ; the clients are keyed by their transport alone,
and read-ahead hints, which are names and no answers, by project, registry and user.

One default session serves the CLI and the providers (`default_session()`), and `reset()`
forgets all of it in one call. Tests build a Session over a transport of their own
(`Session(transport=httpx.MockTransport(...))`) and hand it to `Registry(settings, session)`,
or make it the default for code that creates its Registries itself. See docs/design.md,
"Where state lives".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from dockerfeed.registry.credentials import (
    Credentials,
    docker_config_credentials,
    docker_config_key,
    explicit_credentials,
    sourced_credentials,
)
from dockerfeed.registry.errors import RegistryError
from dockerfeed.registry.hosts import HostStates, PageSizes
from dockerfeed.registry.readahead import ReadAhead
from dockerfeed.registry.retry import RetryPolicy
from dockerfeed.registry.runcache import Memo, RunCache
from dockerfeed.registry.settings import ConnectionSettings
from dockerfeed.registry.tokens import TokenCache
from dockerfeed.registry.transport import TransportKey, build_client, transport_key
from dockerfeed.sources import SourceCache


@dataclass(frozen=True)
class Limits:
    """How much the client accepts from a registry before it refuses to go on."""

    page_bytes: int = 32 * 1024 * 1024  # one page of a listing
    manifest_bytes: int = 4 * 1024 * 1024  # a manifest, an index or a config blob
    pages: int = 10_000  # pages of one listing


class Session:
    """The state of one process's (or one test's) conversations with registries.

    `transport`, when given, replaces the network under every client of this session (the
    retries and the deadline stay above it); `retry` is the retry policy of every client.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.tokens = TokenCache(clock) if clock is not None else TokenCache()
        self.hosts = HostStates()
        self.page_sizes = PageSizes()
        self.runs = RunCache()
        self.readahead = ReadAhead()
        self._credentials = Memo(ttl=None)
        # What credential sources answered, each kept by its own expiry (dockerfeed.sources).
        self.sources = SourceCache(clock) if clock is not None else SourceCache()
        self._lock = threading.Lock()
        self._clients: dict[TransportKey, httpx.Client] = {}

    def __repr__(self) -> str:
        return f"Session({len(self._clients)} clients)"

    def client(self, settings: ConnectionSettings, key: TransportKey) -> httpx.Client:
        """The pooled client for `key` (`transport_key(settings)`), created on first use."""
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = build_client(settings, key, self.retry, self.transport)
                self._clients[key] = client
            return client

    def credentials(self, settings: ConnectionSettings) -> Credentials | None:
        """The credentials `settings` log in with; None for anonymous access.

        The one place credentials are resolved. A `credentials` source (dockerfeed.sources) is
        asked, its answer cached by its expiry; explicit username and password are checked,
        never cached (nothing to save); with useDockerConfig (or source docker), Docker's config
        is read and its helper run once per registry and config file for the life of the
        session, failures included (a helper may take 30 s to fail, and a run creates many
        ImageVersions of one feed).
        """
        spec = settings.credentials
        if spec is not None and spec.source != "docker":
            # A credential source (issue 14): asked now, its answer kept by its real expiry, so a
            # token that expires in the middle of a run is renewed. Only the azure source talks to
            # the registry itself (ACR's exchange), over the feed's own client.
            client = self.client(settings, transport_key(settings)) if spec.source == "azure" else None
            return sourced_credentials(settings, spec, client, self.sources)
        explicit = explicit_credentials(settings)
        if spec is None and (explicit is not None or not settings.use_docker_config):
            return explicit
        address = settings.address
        found = self._credentials.get(
            ("docker-config", docker_config_key(address)),
            lambda: _attempt(docker_config_credentials, address),
        )
        if isinstance(found, RegistryError):
            raise _copy(found)
        if found is None and spec is not None:
            # `credentials: {source: docker}` asks for them: finding none is not anonymous access.
            return sourced_credentials(settings, spec)
        return found

    def reset(self) -> None:
        """Close every pooled client and forget everything learned (tests, forks, a new run)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        self.tokens.clear()
        self.hosts.clear()
        self.page_sizes.clear()
        self.runs.clear()
        self.readahead.clear()
        self._credentials.clear()
        self.sources.clear()

    close = reset


def _attempt(lookup: Callable[..., Credentials | None], *args: object) -> Credentials | RegistryError | None:
    try:
        return lookup(*args)
    except RegistryError as e:
        return e


def _copy(error: RegistryError) -> RegistryError:
    """A fresh exception of the same kind and words (a cached one must not collect tracebacks)."""
    rebuilt, args = error.__reduce__()[:2]
    assert callable(rebuilt) and isinstance(args, tuple)
    copy = rebuilt(*args)
    assert isinstance(copy, RegistryError)
    return copy


_default = Session()
_default_lock = threading.Lock()


def default_session() -> Session:
    """The session of the CLI and the providers (and of any Registry created without one)."""
    return _default


def set_default_session(session: Session) -> Session:
    """Make `session` the default (tests: for code that creates its Registries itself); returns
    the one it replaces, which is left as it is."""
    global _default
    with _default_lock:
        previous, _default = _default, session
    return previous


def reset() -> None:
    """Forget everything the default session learned: clients, tokens, hosts, caches."""
    _default.reset()


__all__ = ["Limits", "Session", "default_session", "reset", "set_default_session"]
