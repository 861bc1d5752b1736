"""`WWW-Authenticate` challenges: parsing them, and choosing the one to follow.

Registries send several challenges per header and several headers; quoted values may contain
commas; `error="insufficient_scope"` may be appended (docs/design.md, "Registry quirks").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from dockerfeed.registry.errors import ProtocolError


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: a scheme and its parameters (names lowercased)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.params.get("scope", "").split(" ") if s)


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Parse every challenge from one or more `WWW-Authenticate` header values (RFC 7235).

    Quoted values may contain commas and escaped quotes; several challenges may share a header.
    """
    out: list[Challenge] = []
    for header in headers:
        out.extend(_parse_one_header(header))
    return out


def _parse_one_header(text: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    i, n = 0, len(text)
    current: Challenge | None = None
    while i < n:
        while i < n and text[i] in " ,\t":
            i += 1
        start = i
        while i < n and text[i] not in " =,\t":
            i += 1
        token = text[start:i]
        if not token:
            break
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] == "=" and current is not None and not text[j:].startswith("=="):
            # auth-param: name=value or name="quoted, value"
            i = j + 1
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == '"':
                i += 1
                chars: list[str] = []
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(text[i])
                    i += 1
                i += 1
                value = "".join(chars)
            else:
                vstart = i
                while i < n and text[i] not in ",":
                    i += 1
                value = text[vstart:i].strip()
            current.params[token.lower()] = value
        else:
            # A new challenge starts with its scheme (token68 credentials are not used by registries).
            current = Challenge(scheme=token.lower(), params={})
            challenges.append(current)
            i = j
    return challenges


def challenges_of(response: httpx.Response) -> list[Challenge]:
    return parse_challenges(response.headers.get_list("www-authenticate"))


def choose(challenges: list[Challenge], what: str) -> Challenge | None:
    """The challenge to follow: Bearer with a realm, else Basic, else None (anonymous).

    A Bearer challenge without a realm names no token service to ask: an error, unless Basic
    was offered too. `what` is the request that was answered ("GET https://r.example.com/v2/").
    """
    basic = next((c for c in challenges if c.scheme == "basic"), None)
    bearer = next((c for c in challenges if c.scheme == "bearer" and c.params.get("realm")), None)
    if bearer is None and basic is None and any(c.scheme == "bearer" for c in challenges):
        raise ProtocolError(
            f"{what} answered 401 with a Bearer challenge that has no realm, so there is no token "
            "service to ask; the registry's token auth is misconfigured (auth.token.realm in "
            "distribution)"
        )
    return bearer or basic


def refusal(challenges: list[Challenge]) -> Challenge | None:
    """The challenge that says the credentials lack a permission (`error="insufficient_scope"`)."""
    return next((c for c in challenges if c.params.get("error") == "insufficient_scope"), None)


__all__ = ["Challenge", "challenges_of", "choose", "parse_challenges", "refusal"]
