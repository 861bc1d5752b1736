"""pep440 — Python versions through `packaging.version` (`3.13.0rc2`)."""

from __future__ import annotations

import re
from typing import cast

from packaging.version import InvalidVersion, Version

from dockerfeed.versions.octopus import MAX_TEXT
from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import Head, Scanner, ScanResult, SortKey

# An epoch, or whitespace other than the list's newlines (which packaging strips).
_IRREGULAR = re.compile(r"!|[^\S\n]")
# The whitespace `\s` finds among ASCII characters.
_ASCII_SPACES = " \t\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _irregular(joined: str) -> bool:
    """Whether a newline-joined list has an epoch or whitespace: substring searches, which are
    much faster than one regex search, when the list is ASCII (as tags are)."""
    if not joined.isascii():
        return _IRREGULAR.search(joined) is not None
    return "!" in joined or any(space in joined for space in _ASCII_SPACES)


def _pep440_label(version: Version) -> str:
    label = ""
    if version.pre is not None:
        label = f"{version.pre[0]}{version.pre[1]}"
    if version.dev is not None:
        label += f".dev{version.dev}" if label else f"dev{version.dev}"
    if version.local is not None:
        label += f"+{version.local}"
    return label


class Pep440Strategy(Strategy):
    name = "pep440"
    reads_numbers = True
    full_parts = 3
    max_parts = 4
    # A Version orders by (epoch, release, …): with epoch 0 the release's first two numbers
    # lead, and they are the text's leading digits. An epoch (`1!2.0`) or whitespace other than
    # the list's newlines (which packaging strips) breaks that: scan everything then.
    leading_major = True
    irregular = staticmethod(_irregular)
    runless_versions = False  # every version starts with a number, after an optional `v`

    def head(self, key: SortKey) -> Head:
        return (*cast(Version, key).release, 0)[:2]

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        def scan(text: str) -> ScanResult:
            if len(text) > MAX_TEXT:
                return None
            try:
                return Version(text)
            except InvalidVersion:
                return None

        return scan

    def label(self, text: str) -> str:
        try:
            return _pep440_label(Version(text))
        except InvalidVersion:
            return ""

    def bound(self, text: str) -> tuple[SortKey, bool]:
        try:
            version = Version(text)
        except InvalidVersion:
            raise ValueError(f"'{text}' is not a PEP 440 version") from None
        return version, version.is_prerelease

    def release_key(self, parts: tuple[int, ...]) -> SortKey:
        return Version(".".join(map(str, parts or (0,))))

    def floor_key(self, parts: tuple[int, ...]) -> SortKey:
        # PEP 440 puts X.devN before every pre-release of X, and dev0 is the lowest of those.
        return Version(".".join(map(str, parts or (0,))) + ".dev0")

    def display(self, text: str) -> str:
        try:
            return str(Version(text))
        except InvalidVersion:
            return text

    def describe(self, text: str) -> dict[str, object]:
        try:
            version = Version(text)
        except InvalidVersion:
            return {}
        return {
            "epoch": version.epoch,
            "release": list(version.release),
            "pre": f"{version.pre[0]}{version.pre[1]}" if version.pre else "",
            "post": version.post,
            "dev": version.dev,
            "local": version.local or "",
        }

    def _why_not(self, text: str) -> str:
        return "not a PEP 440 version"
