"""How tags are read and compared: one Strategy per `strategy` value.

A strategy turns a tag's version text into a sort key (and the label the pre-release rule is
tested against), and range bounds into keys of the same kind, so a range check is a plain key
comparison. Keys of different strategies are never compared with each other.

* octopus      — Octopus Deploy's parser and order (octopus.py).
* docker       — Renovate's Docker versioning: `<numbers>[<letters>]-<variant>`; only tags with the
                 same variant (and, given a current tag, the same count of numbers) compete.
* semver       — strict SemVer 2.0.0 (`v` prefix allowed); pre-releases only on request.
* pep440       — Python versions through `packaging.version` (`3.13.0rc2`).
* alphabetical — ordinal text order of the tag (or of the extracted `version` group).
* numerical    — numeric value of the tag (or of the extracted `version` group).
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import compress, repeat
from operator import not_
from typing import Any, TypeAlias

from packaging.version import InvalidVersion, Version

from dockerfeed.versions.octopus import (
    LATEST,
    MAX_PART,
    MAX_TEXT,
    LabelKey,
    floor_key,
    label_key,
    octopus_key,
    parse_octopus,
    release_key,
)

SortKey: TypeAlias = Any


class _Variant:
    """Sentinel: a version, but of another variant (docker strategy)."""

    def __repr__(self) -> str:
        return "VARIANT"


VARIANT: Any = _Variant()
# What a scanner says about one version text: its sort key, VARIANT, or None (not a version).
ScanResult: TypeAlias = SortKey | None
Scanner: TypeAlias = Callable[[str], ScanResult]
# Eligibility of a would-be winner: (tag, compared text, key) -> bool.
Accept: TypeAlias = Callable[[str, str, SortKey], bool]
# The best eligible tag: (key, tag, compared text).
Best: TypeAlias = tuple[SortKey, str, str] | None


class Strategy:
    """Base class; subclasses fill in the key functions."""

    name = ""
    # False for strategies without versions: ranges and pre-release rules make no sense there.
    ordered_versions = True
    # How many numbers make a full version; fewer in a range comparator is a partial (x-range).
    full_parts = 3
    max_parts = 4
    # True when a version's key starts with its major number, read as every digit that begins
    # the text (after one optional `v`); `best` can then skip whole majors (_best_by_major).
    leading_major = False
    # The minor number a `leading_major` version without one groups under: 0 where missing
    # numbers are 0 (octopus, semver), above every minor where `2` outranks `2.9` (docker).
    missing_minor: int | float = 0
    # No version of the strategy has a number above this (Octopus: Int32); None: no limit.
    max_number: int | None = None
    # Texts whose leading digits are not the major (searched on the newline-joined list).
    irregular: re.Pattern[str] | None = None
    # The sort key of a text is the text itself (alphabetical).
    key_is_text = False

    def head(self, key: SortKey) -> SortKey:
        """(major, minor) of a key, for `leading_major` strategies."""
        return key[:2]

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        raise NotImplementedError

    def label(self, text: str) -> str:
        """What the pre-release rule is tested against: pre-release label plus `+metadata`."""
        return ""

    def range_key(self, text: str, key: SortKey) -> SortKey:
        """The key a range compares: the sort key itself, except where the order and the
        range's meaning part (docker: Renovate's order, Octopus's padded numbers)."""
        return key

    def best(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
        span_filter: Callable[[SortKey, SortKey], bool] | None,
    ) -> Best:
        """The greatest (key, tag) among the texts' versions that `accept` allows.

        Eligibility is only checked for a tag that would beat the best so far, so filters,
        ranges and pre-release rules cost nothing for the bulk of a long tag list.
        `span_filter` is for strategies that can rule out whole groups of tags at once.
        """

        def scan_best(tags: Sequence[str], texts: Sequence[str]) -> Best:
            return self._scan_best(
                tags, texts, accept, variant=variant, current=current, span_filter=span_filter
            )

        if self.leading_major:
            return _best_by_major(
                tags,
                texts,
                scan_best,
                span_filter,
                self.floor_key,
                self.missing_minor,
                head=self.head,
                max_number=self.max_number,
                irregular=self.irregular,
            )
        return self._best_descending(tags, texts, accept, variant=variant, current=current)

    def _best_descending(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
    ) -> Best:
        """`best` by taking the highest (key, tag) first and asking `accept` only about it, then
        the next: a lexically sorted list makes every tag "the best so far" for `_scan_best`, so
        a filter would run on every tag there."""
        keyed: list[tuple[SortKey, str, str]]
        if self.key_is_text:
            keyed = list(zip(texts, tags, texts, strict=True))
        else:
            scan = self.scanner(variant, current)
            keyed = [
                (key, tag, text)
                for tag, text in zip(tags, texts, strict=True)
                if (key := scan(text)) is not None and key is not VARIANT
            ]
        # The few highest first (one C-level pass each), then all of them in order.
        for size in (1, 64, len(keyed)):
            top = heapq.nlargest(size, keyed) if size < len(keyed) else sorted(keyed, reverse=True)
            for key, tag, text in top:
                if accept(tag, text, key):
                    return key, tag, text
            if size >= len(keyed):
                return None
        return None

    def _scan_best(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
        span_filter: Callable[[SortKey, SortKey], bool] | None,
    ) -> Best:
        """`best` over every tag, one by one."""
        scan = self.scanner(variant, current)
        best_key: SortKey = None
        best_tag = ""
        best_text = ""
        for tag, text in zip(tags, texts, strict=True):
            key = scan(text)
            if key is None or key is VARIANT:
                continue
            if best_key is not None and (key < best_key or (key == best_key and tag <= best_tag)):
                continue
            if accept(tag, text, key):
                best_key, best_tag, best_text = key, tag, text
        return None if best_key is None else (best_key, best_tag, best_text)

    def bound(self, text: str) -> tuple[SortKey, bool]:
        """(key, is pre-release) of a range bound; ValueError with a reason when invalid."""
        raise ValueError(f"the {self.name} strategy has no version ranges")

    def release_key(self, parts: tuple[int, ...]) -> SortKey:
        raise NotImplementedError

    def floor_key(self, parts: tuple[int, ...]) -> SortKey:
        raise NotImplementedError

    def display(self, text: str) -> str:
        return text

    def describe(self, text: str) -> dict[str, object]:
        return {}

    def why_not(self, text: str) -> str:
        """Why a text is not a version of this strategy (for `pick --json`)."""
        return f"not a {self.name} version"


# Below this many tags one plain pass is cheaper than grouping them first.
BATCH_FROM = 2048
# A tag's leading `major.minor` (or `major`, or nothing): one optional `v`, then the digits and
# at most one more dot-separated digit run. Found for every tag in one regex pass over the
# newline-joined list; a per-tag Python loop costs more than the whole selection may.
# Possessive quantifiers: the first way to match is the only one, and not keeping backtrack
# points makes the pass about a quarter faster.
_LEADING_RUNS = re.compile(r"\n[vV]?+((?:[0-9]++(?:\.[0-9]++)?+)?+)")
# Groups are scanned a few at a time, highest first, in batches growing by this factor: the
# winner is usually in the first group, and a rule that refuses most tags costs a few scans,
# not one per group. Batches are cut from windows of groups taken from the whole list in one
# C-level pass each (the first window holds several batches, later ones grow by the square).
_BATCH_GROWTH = 4
_FIRST_WINDOW = 1 + 4 + 16
# Stands for any number of eleven digits or more, above every shorter one: never an Octopus or
# Docker number (above Int32) but maybe a semver one, and kept away from int()'s digit limit.
_LONG = 10**10


def _number(digits: str) -> int:
    return _LONG if len(digits.lstrip("0")) > 10 else int(digits or "0")


def _key_head(key: SortKey) -> SortKey:
    return key[:2]


def _best_by_major(
    tags: Sequence[str],
    texts: Sequence[str],
    scan_best: Callable[[Sequence[str], Sequence[str]], Best],
    span_filter: Callable[[SortKey, SortKey], bool] | None,
    floor_key: Callable[[tuple[int, ...]], SortKey],
    missing_minor: int | float = 0,
    *,
    head: Callable[[SortKey], SortKey] = _key_head,
    max_number: int | None = None,
    irregular: re.Pattern[str] | None = None,
) -> Best:
    """`scan_best` over the tags of the highest (major, minor) first, stopping at a winner.

    For a `leading_major` strategy a version's key starts with major and minor, each the digit
    run that begins the text or follows its first dot (0 when missing), so every tag of a
    higher (major, minor) has a higher key than every tag of a lower one: once some group has a
    winner, no lower group can beat it. Grouping is done with C-level passes (join, one regex,
    `compress`); the exact per-tag scan runs only on the groups it needs, so the result is
    always that of one full scan.

    `head` gives a key's (major, minor); `max_number` drops groups whose numbers no version of
    the strategy may have (Octopus: Int32); `irregular` finds texts whose leading digits are
    not their major (PEP 440's epoch `1!2.0`), and then everything is scanned. Majors of eleven
    digits or more group by their length and first ten digits: a longer number is higher.
    """
    n = len(texts)
    if n < BATCH_FROM:
        return scan_best(tags, texts)
    joined = "\n" + "\n".join(texts)
    # Octopus reads spaces around the numbers (` 2`, `v 3`), so the leading digits are not the
    # major there; Docker tags cannot contain spaces, so such a list is rare: scan it all.
    if " " in joined or (irregular is not None and irregular.search(joined)):
        return scan_best(tags, texts)
    runs = _LEADING_RUNS.findall(joined)
    if len(runs) != n:  # a text with a newline in it: the runs no longer line up with the texts
        return scan_best(tags, texts)
    groups: dict[tuple[int, int | float], list[str]] = {}
    small = _SMALL_INTS.get
    for run in set(runs):
        major_digits, sep, minor_digits = run.partition(".")
        major = small(major_digits)
        if major is None:
            major = _number(major_digits)
        minor: int | float | None = small(minor_digits) if sep else missing_minor
        if minor is None:
            minor = _number(minor_digits)
        if max_number is not None and (major > max_number or (sep and minor > max_number)):
            continue  # never a version of this strategy
        if major == _LONG:
            significant = major_digits.lstrip("0")
            major, minor = _LONG + len(significant), int(significant[:10])
        # Every key of a group lies in [floor(major.minor), floor(major.minor+1)].
        elif (
            minor < _LONG
            and span_filter is not None
            and not span_filter(floor_key((major, int(minor))), floor_key((major, int(minor) + 1)))
        ):
            continue
        groups.setdefault((major, minor), []).append(run)
    order = sorted(groups, reverse=True)
    best: Best = None
    taken, window_size = 0, _FIRST_WINDOW
    while taken < len(order):
        window = order[taken : taken + window_size]
        taken += window_size
        window_size *= _BATCH_GROWTH * _BATCH_GROWTH
        # The window's tags, ordered by their group's rank in the window (highest first), so
        # that every batch is one slice.
        rank_of = {run: rank for rank, group in enumerate(window) for run in groups[group]}
        picked = list(compress(range(n), map(rank_of.__contains__, runs)))
        ranks = [rank_of[runs[i]] for i in picked]
        by_rank = sorted(range(len(picked)), key=ranks.__getitem__)
        w_tags = [tags[picked[j]] for j in by_rank]
        w_texts = w_tags if texts is tags else [texts[picked[j]] for j in by_rank]
        w_ranks = [ranks[j] for j in by_rank]
        start, size = 0, 1
        while start < len(window):
            low, high = bisect_left(w_ranks, start), bisect_left(w_ranks, start + size)
            start += size
            size *= _BATCH_GROWTH
            sub_tags = w_tags[low:high]
            sub_texts = sub_tags if w_texts is w_tags else w_texts[low:high]
            found = scan_best(sub_tags, sub_texts)
            if found is not None and (best is None or (found[0], found[1]) > (best[0], best[1])):
                best = found
            if best is None:
                continue
            if start < len(window):
                following = window[start]
            elif taken < len(order):
                following = order[taken]
            else:
                return best
            if head(best[0]) > following:
                return best
    return best


# Characters a tag's leading numbers are made of (with the optional `v`).
_HEAD_CHARS = "vV0123456789."
# The part after the numbers, exactly as the Octopus pattern reads it (optional separator,
# pre-release, `+metadata`, trailing spaces).
_REST = re.compile(
    r"[.\-_\\]?(?P<pre>[A-Za-z0-9]*(?:[.\-_\\][A-Za-z0-9.\-_\\]*)?)"
    r"(?:\+(?P<meta>[A-Za-z0-9_\-.\\+]*))? *\Z",
    re.ASCII,
)
_EXACT: tuple[int, ...] = (MAX_PART + 1,)  # sorts above every real head: never pruned
_SKIP: tuple[int, ...] = ()  # sorts below every head: always pruned
_MISSING: Any = object()
_FLOOR_TAIL: tuple[int, LabelKey] = (0, ())
_RELEASE_TAIL: tuple[int, LabelKey] = (1, ())


# Version numbers are mostly small and repeat endlessly; a dict lookup beats int().
_SMALL_INTS: dict[str, int] = {str(i): i for i in range(1000)}


def _head_numbers(head: str, span_filter: Callable[[SortKey, SortKey], bool] | None) -> tuple[int, ...]:
    """The four numbers of a tag's leading `v1.2.3`, _EXACT when the exact parser must decide,
    or _SKIP when the range excludes every version with these numbers."""
    if not head:
        numbers: tuple[int, ...] = (0, 0, 0, 0)
    else:
        body = head[1:] if head[0] in "vV" else head
        parts = body.split(".")
        # `1.2.` (a separator follows), `1.2.3.4.5`, `v`, `1..2`, `1v2`: rare, read exactly.
        if len(parts) > 4 or "" in parts:
            return _EXACT
        small = tuple(map(_SMALL_INTS.get, parts))
        if None in small:  # large, with leading zeros, or not a number (`v`, `1v2`)
            try:
                values = tuple(map(int, parts))
            except ValueError:
                return _EXACT
        else:
            values = small  # type: ignore[assignment]  # no None in it, checked above
        if len(body) > 9 and max(values) > MAX_PART:
            return _EXACT
        numbers = values + (0, 0, 0, 0)[len(values) :]
    # Every key with these numbers lies between numbers+(0, ()) and numbers+(1, ()).
    if span_filter is not None and not span_filter(numbers + _FLOOR_TAIL, numbers + _RELEASE_TAIL):
        return _SKIP
    return numbers


def _rest_key(rest: str) -> tuple[int, LabelKey] | None:
    """(release flag, labels) of the text after the numbers; None when it needs the exact parser."""
    m = _REST.match(rest)
    if m is None:
        return None
    prerelease = m.group("pre")
    return (0, label_key(prerelease)) if prerelease else (1, ())


class OctopusStrategy(Strategy):
    name = "octopus"
    full_parts = 4
    leading_major = True
    max_number: int | None = MAX_PART

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        def scan(text: str) -> ScanResult:
            parsed = octopus_key(text)
            return None if parsed is None else parsed[0]

        return scan

    def label(self, text: str) -> str:
        parsed = octopus_key(text)
        if parsed is None:
            return ""
        _, prerelease, metadata = parsed
        return prerelease + "+" + metadata if metadata else prerelease

    def _scan_best(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
        span_filter: Callable[[SortKey, SortKey], bool] | None,
    ) -> Best:
        # The fast path for the default strategy. A tag is "<numbers><rest>"; real tag lists
        # repeat the same numbers across many variants and the same rest across many numbers,
        # so both halves are parsed once per distinct text (memo dicts), and a tag whose numbers
        # are below the best so far is dropped after one dict lookup and one tuple comparison.
        # Anything unusual (no numbers, a trailing dot, spaces, five numbers) takes the exact
        # per-tag parser, so results are always those of `octopus_key`.
        heads: dict[str, tuple[int, ...]] = {}
        rests: dict[str, tuple[int, LabelKey] | None] = {}
        strip = _HEAD_CHARS
        best_key: SortKey = None
        best_head: tuple[int, ...] = (-1,)
        best_tag = ""
        best_text = ""
        for tag, text in zip(tags, texts, strict=True):
            rest = text.lstrip(strip)
            head = text.removesuffix(rest)
            if rest and rest[0] <= " " and not rest.isspace():
                # Octopus allows spaces before and between the numbers (` 2`, `1 .2`): the head
                # seen here is then not all of them, so it must not prune. Parse exactly.
                numbers = _EXACT
            else:
                numbers = heads.get(head)  # type: ignore[assignment]
                if numbers is None:
                    numbers = heads[head] = _head_numbers(head, span_filter)
            if numbers < best_head:  # also drops _SKIP, the empty tuple
                continue
            if numbers is _EXACT:
                parsed = octopus_key(text)
                if parsed is None:
                    continue
                key: SortKey = parsed[0]
            else:
                tail = rests.get(rest, _MISSING)
                if tail is _MISSING:
                    tail = rests[rest] = _rest_key(rest)
                if tail is None or (not head and not rest.strip(" ")):
                    parsed = octopus_key(text)
                    if parsed is None:
                        continue
                    key = parsed[0]
                else:
                    key = numbers + tail
            if best_key is not None and (key < best_key or (key == best_key and tag <= best_tag)):
                continue
            if accept(tag, text, key):
                best_key, best_tag, best_text = key, tag, text
                best_head = key[:4]
        return None if best_key is None else (best_key, best_tag, best_text)

    def bound(self, text: str) -> tuple[SortKey, bool]:
        version = parse_octopus(text)
        if version is None:
            raise ValueError(f"'{text}' is not a version Octopus can read")
        return version.key, bool(version.prerelease)

    def release_key(self, parts: tuple[int, ...]) -> SortKey:
        return release_key(parts)

    def floor_key(self, parts: tuple[int, ...]) -> SortKey:
        return floor_key(parts)

    def display(self, text: str) -> str:
        version = parse_octopus(text)
        return version.display() if version else text

    def describe(self, text: str) -> dict[str, object]:
        version = parse_octopus(text)
        return version.as_dict() if version else {}

    def why_not(self, text: str) -> str:
        if len(text) > MAX_TEXT:
            return f"longer than {MAX_TEXT} characters, which no Docker tag is"
        if not text.strip(" "):
            return "blank"
        bad = sorted(set(re.findall(r"[^A-Za-z0-9.\-_\\+ vV]", text)))
        if bad:
            return f"contains {' '.join(repr(c) for c in bad)}, which Octopus versions cannot"
        return "numbers above 2147483647, or spaces inside the label, are not Octopus versions"


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


def _docker_key(version: str, wanted_parts: int) -> SortKey:
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
        span_filter: Callable[[SortKey, SortKey], bool] | None,
    ) -> Best:
        # Only tags of the wanted variant compete: keep them with C-level passes first, so a
        # variant that few or no tags have costs no per-tag scan.
        wanted, _ = self._wanted(variant, current)
        n = len(texts)
        # `1.0-alpine` has variant `alpine`, `1.0-` the empty one, as `1.0` has.
        suffix = "-" + wanted
        ends = compress(range(n), map(str.endswith, texts, repeat(suffix)))
        keep = [i for i in ends if texts[i].find("-") == len(texts[i]) - len(suffix)]
        if not wanted:
            keep += compress(range(n), map(not_, map(str.__contains__, texts, repeat("-"))))
            keep.sort()
        if len(keep) < n:
            sub_tags = [tags[i] for i in keep]
            tags, texts = sub_tags, (sub_tags if texts is tags else [texts[i] for i in keep])
        return super().best(tags, texts, accept, variant=variant, current=current, span_filter=span_filter)

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        wanted_variant, wanted_parts = self._wanted(variant, current)

        # Keys per distinct version part: real lists repeat `1.25.3` across every variant.
        memo: dict[str, SortKey] = {}

        def scan(text: str) -> ScanResult:
            version, _, tag_variant = text.partition("-")
            key = memo.get(version, _MISSING)
            if key is _MISSING:
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

    def why_not(self, text: str) -> str:
        if text == LATEST:
            return "'latest' is not a version for the docker strategy"
        if _is_commit(text):
            return "looks like a git commit id, not a version"
        return "does not start with numbers (1, 1.25, 20231201123456), as a docker version must"


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


def _semver_ids(prerelease: str) -> tuple[tuple[int, int | str], ...]:
    # SemVer §11: numeric identifiers compare as numbers and below alphanumeric ones, which
    # compare in ASCII order (case-sensitive, unlike Octopus).
    return tuple((0, int(i)) if i.isdigit() else (1, i) for i in prerelease.split("."))


class SemverStrategy(Strategy):
    name = "semver"
    full_parts = 3
    max_parts = 3
    leading_major = True

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        match = _SEMVER.match

        def scan(text: str) -> ScanResult:
            m = match(text)
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

    def why_not(self, text: str) -> str:
        return "not strict semver x.y.z[-pre][+meta] (no leading zeros, exactly three numbers)"


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
    full_parts = 3
    max_parts = 4
    # A Version orders by (epoch, release, …): with epoch 0 the release's first two numbers
    # lead, and they are the text's leading digits. An epoch (`1!2.0`) or whitespace other than
    # the list's newlines (which packaging strips) breaks that: scan everything then.
    leading_major = True
    irregular = re.compile(r"!|[^\S\n]")

    def head(self, key: SortKey) -> SortKey:
        return (*key.release, 0)[:2]

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        def scan(text: str) -> ScanResult:
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

    def why_not(self, text: str) -> str:
        return "not a PEP 440 version"


class AlphabeticalStrategy(Strategy):
    name = "alphabetical"
    ordered_versions = False
    key_is_text = True

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        def scan(text: str) -> ScanResult:
            return text

        return scan


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z", re.ASCII)


class NumericalStrategy(Strategy):
    name = "numerical"
    ordered_versions = False

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        match = _NUMBER.match

        def scan(text: str) -> ScanResult:
            # Decimal, not float: build numbers and timestamps must not lose digits.
            return Decimal(text) if match(text) else None

        return scan

    def display(self, text: str) -> str:
        return str(Decimal(text)) if _NUMBER.match(text) else text

    def why_not(self, text: str) -> str:
        return "not a number (use a tagInclude group named 'version' to extract one)"


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        OctopusStrategy(),
        DockerStrategy(),
        SemverStrategy(),
        Pep440Strategy(),
        AlphabeticalStrategy(),
        NumericalStrategy(),
    )
}
