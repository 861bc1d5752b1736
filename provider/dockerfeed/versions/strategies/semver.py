"""semver — strict SemVer 2.0.0 (`v` prefix allowed); pre-releases only on request."""

from __future__ import annotations

import re

from dockerfeed.versions.octopus import MAX_TEXT
from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import Scanner, ScanResult, SortKey

_SEMVER_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    r"[vV]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_SEMVER_IDENT}(?:\.{_SEMVER_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\Z",
    re.ASCII,
)
# Range bounds may be partial (`^1.2`, `[1.2,2)`); tags may not.
_SEMVER_BOUND = re.compile(
    r"[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    rf"(?:-({_SEMVER_IDENT}(?:\.{_SEMVER_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\Z",
    re.ASCII,
)


# A text's `major.minor` when a third number follows and ends the numbers, else "": `123`,
# `1.2` and `1.2.3.4` are no semver versions, so their tags are never scanned.
_SEMVER_RUNS = re.compile(
    r"\n[vV]?+((?:0|[1-9][0-9]*+)\.(?:0|[1-9][0-9]*+)(?=\.(?:0|[1-9][0-9]*+)(?:[-+\n]|\Z)))?+"
)


def _semver_ids(prerelease: str) -> tuple[tuple[int, int | str], ...]:
    # SemVer §11: numeric identifiers compare as numbers and below alphanumeric ones, which
    # compare in ASCII order (case-sensitive, unlike Octopus).
    return tuple((0, int(i)) if i.isdigit() else (1, i) for i in prerelease.split("."))


class SemverStrategy(Strategy):
    name = "semver"
    reads_numbers = True
    full_parts = 3
    max_parts = 3
    leading_major = True
    runs = _SEMVER_RUNS
    runless_versions = False

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        match = _SEMVER.match

        def scan(text: str) -> ScanResult:
            m = match(text) if len(text) <= MAX_TEXT else None
            if m is None:
                return None
            major, minor, patch, prerelease, _ = m.groups()
            if prerelease:
                return (int(major), int(minor), int(patch), 0, _semver_ids(prerelease))
            return (int(major), int(minor), int(patch), 1, ())

        return scan

    def label(self, text: str) -> str:
        m = _SEMVER.match(text)
        if m is None:
            return ""
        prerelease, metadata = m.group(4) or "", m.group(5)
        return prerelease + "+" + metadata if metadata else prerelease

    def bound(self, text: str) -> tuple[SortKey, bool]:
        m = _SEMVER_BOUND.match(text)
        if m is None:
            raise ValueError(f"'{text}' is not a semver version (x.y.z[-pre][+meta])")
        major, minor, patch, prerelease, _ = m.groups()
        numbers = (int(major), int(minor or 0), int(patch or 0))
        if prerelease:
            return (*numbers, 0, _semver_ids(prerelease)), True
        return (*numbers, 1, ()), False

    def release_key(self, parts: tuple[int, ...]) -> SortKey:
        p = (*parts, 0, 0, 0)
        return (p[0], p[1], p[2], 1, ())

    def floor_key(self, parts: tuple[int, ...]) -> SortKey:
        p = (*parts, 0, 0, 0)
        return (p[0], p[1], p[2], 0, ())

    def display(self, text: str) -> str:
        m = _SEMVER.match(text)
        if m is None:
            return text
        major, minor, patch, prerelease, _ = m.groups()
        return f"{major}.{minor}.{patch}" + (f"-{prerelease}" if prerelease else "")

    def describe(self, text: str) -> dict[str, object]:
        m = _SEMVER.match(text)
        if m is None:
            return {}
        major, minor, patch, prerelease, metadata = m.groups()
        return {
            "major": int(major),
            "minor": int(minor),
            "patch": int(patch),
            "prerelease": prerelease or "",
            "metadata": metadata or "",
        }

    def _why_not(self, text: str) -> str:
        return "not strict semver x.y.z[-pre][+meta] (no leading zeros, exactly three numbers)"
