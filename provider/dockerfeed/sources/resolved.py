"""What a source answers, what it is asked about, and the cache of answers by real expiry."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from dockerfeed.flight import KeyLocks
from dockerfeed.sources.errors import MissingExtra
from dockerfeed.sources.spec import CredentialSpec

# Answers without a known expiry (a credential helper's) are asked again after this long.
UNTIMED_TTL = 300.0
# Renew before the real expiry, so a request never carries credentials that die in flight:
# a tenth of the lifetime, at most five minutes (an ECR token lives 12 h, a GCP one 1 h).
MAX_MARGIN = 300.0


@dataclass(frozen=True)
class RegistryHost:
    """The registry a source is asked about: its base URL and host[:port]."""

    base_url: str
    netloc: str
    is_docker_hub: bool = False

    @property
    def hostname(self) -> str:
        return self.netloc.rsplit(":", 1)[0] if not self.netloc.endswith("]") else self.netloc


@dataclass(frozen=True)
class Resolved:
    """Credentials a source gave: a user name and a secret, until `expires_at` (epoch seconds).

    `identity_token` means the secret is an OAuth2 refresh (identity) token for the registry's
    token service, not a password. `source` says which source answered, in words.
    """

    username: str | None
    secret: str = field(repr=False)
    source: str
    expires_at: float | None = None
    identity_token: bool = False
    # How long an answer without expiry may be reused (0: never cached, e.g. the environment).
    ttl: float = UNTIMED_TTL

    def describe(self) -> str:
        what = "an identity token" if self.identity_token else f"user {self.username!r}"
        until = ""
        if self.expires_at is not None:
            until = ", valid until " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.expires_at))
        return f"{what} from {self.source}{until}"


Key = tuple[CredentialSpec, str]


class SourceCache:
    """Resolved credentials per (spec, registry base URL), single flight per key.

    An answer with an expiry is kept until a margin before it; one without for its `ttl`. A
    registry that refuses cached credentials (revoked before their time) drops them: `forget`.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Key, tuple[float, Resolved]] = {}
        self._flights = KeyLocks()
        self.misses = 0

    def _fresh_until(self, answer: Resolved, now: float) -> float:
        if answer.expires_at is None:
            return now + answer.ttl
        lifetime = max(answer.expires_at - now, 0.0)
        return answer.expires_at - min(MAX_MARGIN, lifetime / 10)

    def get(self, key: Key, compute: Callable[[], Resolved]) -> Resolved:
        with self._flights.for_key(key):
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None and self.clock() < hit[0]:
                return hit[1]
            answer = compute()
            self.misses += 1
            now = self.clock()
            until = self._fresh_until(answer, now)
            with self._lock:
                if until > now:
                    self._entries[key] = (until, answer)
                else:
                    self._entries.pop(key, None)
            return answer

    def forget(self, key: Key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        self._flights.clear()
        self.misses = 0


CACHE = SourceCache()


def require(module: str, extra: str, package: str) -> ModuleType:
    """Import a cloud library only when a feed uses it; without it, name the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"credentials source {extra!r} needs {package}, which is not installed: "
            f"install it with the {extra} extra, pip install 'pulumi-dockerfeed[{extra}]'"
        ) from None
