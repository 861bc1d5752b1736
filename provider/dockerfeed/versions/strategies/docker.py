"""docker — Renovate's Docker versioning: `<numbers>[<letters>]-<variant>`; only tags with the
same variant (and, given a current tag, the same count of numbers) compete. Ranges compare
Octopus's padded numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import repeat

from dockerfeed.versions.octopus import LATEST, MAX_TEXT, label_key
from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import (
    MISSING,
    VARIANT,
    Accept,
    Best,
    Narrow,
    Scanner,
    ScanResult,
    SortKey,
    SpanFilter,
)
from dockerfeed.versions.strategies.octopus import OctopusStrategy

# Renovate's Docker versioning (lib/modules/versioning/docker): an optional `v`, any count of
# numbers of any size, optionally word characters glued on (`3.12.0rc1` is a pre-release); then
# everything after the first `-` is the compatibility variant.
_DOCKER_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)(\w*)\Z", re.ASCII)
# A git commit id shortened or not: hex only, and at least one letter (all digits is a number).
_GIT_SHA = re.compile(r"[0-9a-f]{7,40}\Z", re.ASCII)
# Ends the numbers of a docker key: above every number, so `2.1` sorts above `2.1.1` (Renovate:
# "shorter is bigger"), and the tag `2` above every `2.x`.
_END = float("inf")


def _docker_match(version: str) -> re.Match[str] | None:
    # Length first: `\d+` giving digits back to `\w*` is quadratic on a long run of digits.
    return None if len(version) > MAX_TEXT else _DOCKER_VERSION.match(version)


def _docker_key(version: str, wanted_parts: int) -> ScanResult:
    """Renovate's order for a docker version part: the numbers, _END, then 1 for a release or
    0 and the pre-release; None when not a version, VARIANT on a part count other than the
    current tag's."""
    m = _docker_match(version)
    if m is None:
        return None
    numbers, prerelease = m.groups()
    parts = numbers.split(".")
    if wanted_parts and len(parts) != wanted_parts:
        return VARIANT
    values = tuple(int(p) for p in parts)
    if prerelease:
        # Renovate compares two pre-releases with localeCompare: case-insensitive first.
        return (*values, _END, 0, prerelease.lower(), prerelease.swapcase())
    return (*values, _END, 1)


def _docker_split(text: str) -> tuple[str, str]:
    version, _, variant = text.partition("-")
    return version, variant


def _is_commit(text: str) -> bool:
    return _GIT_SHA.match(text) is not None and not text.isdigit()


class DockerStrategy(OctopusStrategy):
    """Renovate's order for the version part; ranges compare Octopus's padded numbers."""

    name = "docker"
    missing_minor = _END
    max_number = None  # Renovate: numbers of any size
    runless_versions = False  # every version starts with a number, after an optional `v`

    @staticmethod
    def _wanted(variant: str | None, current: str | None) -> tuple[str, int]:
        """The variant tags must carry and their count of numbers (0: any)."""
        wanted_variant = variant
        wanted_parts = 0
        if current is not None:
            current_version, current_variant = _docker_split(current)
            if wanted_variant is None:
                wanted_variant = current_variant
            m = _docker_match(current_version)
            if m is not None and current != LATEST:
                wanted_parts = m.group(1).count(".") + 1
        if wanted_variant is None:
            # Neither a variant nor a current tag: plain tags only, so `1.25` never jumps to
            # `1.25-alpine` (Renovate keeps the suffix a tag already has, here none).
            wanted_variant = ""
        return wanted_variant, wanted_parts

    def best(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
        span_filter: SpanFilter | None,
        narrow: Narrow | None = None,
    ) -> Best:
        wanted, _ = self._wanted(variant, current)
        if wanted and not any(map(str.endswith, texts, repeat("-" + wanted))):
            return None  # no tag has the variant: one C-level pass says so
        return super().best(
            tags, texts, accept, variant=variant, current=current, span_filter=span_filter, narrow=narrow
        )

    def runs_for(self, variant: str | None, current: str | None) -> re.Pattern[str]:
        # Only tags of the wanted variant compete: every other tag gets the run "" (dropped, as
        # no docker version lacks numbers), so a variant that few or no tags have costs no
        # per-tag scan. `1.0-alpine` has variant `alpine`, `1.0-` the empty one, as `1.0` has.
        wanted, _ = self._wanted(variant, current)
        suffix = "-?" if not wanted else "-" + re.escape(wanted)
        return re.compile(r"\nv?+(?:([0-9]++(?:\.[0-9]++)?+)(?=[^\n-]*+" + suffix + r"(?:\n|\Z)))?+")

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        wanted_variant, wanted_parts = self._wanted(variant, current)

        # Keys per distinct version part: real lists repeat `1.25.3` across every variant.
        memo: dict[str, ScanResult] = {}

        def scan(text: str) -> ScanResult:
            if len(text) > MAX_TEXT:
                return None
            version, _, tag_variant = text.partition("-")
            key = memo.get(version, MISSING)
            if key is MISSING:
                key = memo[version] = _docker_key(version, wanted_parts)
            if key is None or key is VARIANT:
                return key
            if tag_variant != wanted_variant:
                return VARIANT
            # Renovate tests the whole tag for a commit id (`0a1b2c3-alpine` is a version).
            return None if not tag_variant and _is_commit(text) else key

        return scan

    # The generic loop, not Octopus's head/rest fast path: the variant decides first here.
    _scan_best = Strategy._scan_best

    def label(self, text: str) -> str:
        m = _docker_match(_docker_split(text)[0])
        return (m.group(2) or "") if m else ""

    def range_key(self, text: str, key: SortKey) -> SortKey:
        m = _docker_match(_docker_split(text)[0])
        if m is None:
            return key
        numbers, prerelease = m.groups()
        v = (*(int(p) for p in numbers.split(".")[:4]), 0, 0, 0)
        if prerelease:
            return (v[0], v[1], v[2], v[3], 0, label_key(prerelease))
        return (v[0], v[1], v[2], v[3], 1, ())

    def display(self, text: str) -> str:
        version, _ = _docker_split(text)
        return version[1:] if version[:1] == "v" else version

    def describe(self, text: str) -> dict[str, object]:
        version, variant = _docker_split(text)
        m = _docker_match(version)
        if m is None:
            return {}
        return {
            "numbers": [int(p) for p in m.group(1).split(".")],
            "prerelease": m.group(2) or "",
            "variant": variant,
        }

    def _why_not(self, text: str) -> str:
        if text == LATEST:
            return "'latest' is not a version for the docker strategy"
        if _is_commit(text):
            return "looks like a git commit id, not a version"
        return "does not start with numbers (1, 1.25, 20231201123456), as a docker version must"
