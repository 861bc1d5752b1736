"""Version ranges: NuGet/Octopus intervals and, beyond Octopus, semver-style constraints.

Interval syntax (Octopus channels; docs/versions.md, "versionRange"), compared exactly as written:

    1.0        >= 1.0              [1.0]        == 1.0
    (1.0,)     >  1.0              (,1.0]       <= 1.0          (,1.0)   < 1.0
    [1.0,2.0)  1.0 <= v < 2.0      [2.0.0-alpha.1,2.0.0)  the 2.0.0 pre-releases from alpha.1

Semver-style constraints (node-semver's desugaring, adapted to four-part Octopus versions):
comparators `>=1.2`, `>1.2`, `<=1.2`, `<1.2`, `=1.2`, `^1.2`, `~1.2`, x-ranges `1.x`, `1.2.*`, `*`,
space-separated comparators intersect and `||` joins alternatives. A version with fewer numbers
than a full version (four for octopus/docker, three otherwise) and no pre-release covers all of
its completions: `=1.2` is `>=1.2.0 <1.3.0-0`, `<=1.2` includes 1.2.9, `>1.2` starts at 1.3.
`>1.2-0` and `<=1.2-0` read as `>1.2` and `<=1.2`, as in Masterminds/semver (the pre-release
only asks for pre-releases). `<V` (V without a pre-release) also excludes V's pre-releases, as
node's `<2.0.0-0` does, so `>=1.2 <2` never offers 2.0.0-rc1. A range that is one bare version
is NuGet's minimum (`1.0` means >= 1.0); inside a constraint list a bare version is an x-range
(`1.0 || 3` = `1.0.x || 3.x`).

Under octopus and docker, interval bounds and a bare version are read by NuGet's version grammar
(nuget.py): `1.`, `1.3..2` and `v1.0` are refused there, as NuGet refuses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockerfeed.versions.errors import VersionRuleError
from dockerfeed.versions.nuget import nuget_float_minimum, nuget_version
from dockerfeed.versions.octopus import MAX_TEXT
from dockerfeed.versions.strategies import SortKey, Strategy

PROPERTY = "versionRange"

# A bound: (key, inclusive), or None when unbounded on that side.
_Bound = tuple[SortKey, bool] | None

_OPERATOR = re.compile(r"\^|~>?|>=|<=|>|<|=")
_WORD = re.compile(r"[^\s|<>=^~,()\[\]]+")
# A run of digits no version of a Docker tag can hold (a tag has at most MAX_TEXT characters).
_LONG_NUMBER = re.compile(f"[0-9]{{{MAX_TEXT + 1},}}")
_XRANGE = re.compile(r"[vV]?((?:\d+|[xX*])(?:\.(?:\d+|[xX*]))*)(.*)\Z", re.DOTALL)
_WILDCARDS = ("x", "X", "*")
_SEMVER_HINTS = frozenset("^~<>=*|")
# Strategies whose NuGet intervals and bare versions take NuGet's version grammar for bounds
# (nuget.py); semver and pep440 bounds follow their own grammar.
_NUGET_STRATEGIES = frozenset(("octopus", "docker"))
_NUGET_GRAMMAR = "numbers x[.y[.z[.r]]], then -label and +metadata of letters, digits and '-'"


@dataclass(frozen=True)
class Interval:
    lower: _Bound
    upper: _Bound

    def contains(self, key: SortKey) -> bool:
        if self.lower is not None:
            lo, inclusive = self.lower
            if key < lo or (not inclusive and key == lo):
                return False
        if self.upper is not None:
            hi, inclusive = self.upper
            if key > hi or (not inclusive and key == hi):
                return False
        return True

    def overlaps(self, low: SortKey, high: SortKey) -> bool:
        """True when some key in [low, high] may lie in this interval."""
        if self.lower is not None:
            lo, inclusive = self.lower
            if high < lo or (not inclusive and high == lo):
                return False
        if self.upper is not None:
            hi, inclusive = self.upper
            if low > hi or (not inclusive and low == hi):
                return False
        return True

    def is_empty(self) -> bool:
        if self.lower is None or self.upper is None:
            return False
        (lo, lo_in), (hi, hi_in) = self.lower, self.upper
        return bool(lo > hi or (lo == hi and not (lo_in and hi_in)))

    def intersect(self, other: Interval) -> Interval:
        return Interval(
            _tighter(self.lower, other.lower, lower=True),
            _tighter(self.upper, other.upper, lower=False),
        )


def _tighter(a: _Bound, b: _Bound, *, lower: bool) -> _Bound:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0]:
        return a if not a[1] else b  # the exclusive one is tighter
    if lower:
        return a if a[0] > b[0] else b
    return a if a[0] < b[0] else b


_EVERYTHING = Interval(None, None)


@dataclass(frozen=True)
class VersionRange:
    """A parsed range, bound to the key space of one strategy."""

    text: str
    intervals: tuple[Interval, ...]
    # True when some bound carries a pre-release; the semver strategy then offers pre-releases.
    names_prerelease: bool

    def contains(self, key: SortKey) -> bool:
        # Plain loops: these run once per candidate tag, and generator overhead shows there.
        for interval in self.intervals:  # noqa: SIM110
            if interval.contains(key):
                return True
        return False

    def may_overlap(self, low: SortKey, high: SortKey) -> bool:
        """False only when no key in [low, high] can be in the range (to skip tags in bulk)."""
        for interval in self.intervals:  # noqa: SIM110 (see contains)
            if interval.overlaps(low, high):
                return True
        return False

    @classmethod
    def parse(cls, text: str, strategy: Strategy) -> VersionRange:
        """Parse `text` for `strategy`; VersionRuleError pointing at the culprit otherwise."""
        return _Parser(text, strategy).parse()


class _Parser:
    def __init__(self, text: str, strategy: Strategy) -> None:
        self.text = text
        self.strategy = strategy
        self.names_prerelease = False
        self.nuget = strategy.name in _NUGET_STRATEGIES

    def fail(self, position: int, reason: str) -> VersionRuleError:
        return VersionRuleError(
            PROPERTY,
            f"{reason} (at character {position + 1} of '{self.text}')",
            text=self.text,
            position=position,
        )

    def parse(self) -> VersionRange:
        stripped = self.text.strip()
        if not stripped:
            raise self.fail(0, "the range is empty; leave it unset to accept every version")
        too_long = _LONG_NUMBER.search(self.text)
        if too_long is not None:  # and int() refuses more than 4,300 digits
            digits = too_long.end() - too_long.start()
            reason = f"a number of {digits} digits, longer than any Docker tag's {MAX_TEXT} characters"
            raise self.fail(too_long.start(), reason)
        start = self.text.index(stripped[0])
        if stripped[0] in "[(":
            interval = self.interval(start, start + len(stripped))
            return VersionRange(self.text, (interval,), self.names_prerelease)
        m = _XRANGE.match(stripped)
        x_range = m is not None and any(p in _WILDCARDS for p in m.group(1).split("."))
        if self.nuget and not x_range and stripped != "*" and nuget_float_minimum(stripped) is not None:
            # A floating label (`1.0.0-beta*`, `1.*-*`): NuGet's minimum, the lowest it floats over.
            key = self.bound_key(stripped, start, lower=True)
            return VersionRange(self.text, (Interval((key, True), None),), self.names_prerelease)
        if x_range or _SEMVER_HINTS.intersection(stripped) or any(c.isspace() for c in stripped):
            return VersionRange(self.text, self.constraints(), self.names_prerelease)
        for offset, ch in enumerate(stripped):
            if ch in ",[]()":
                hint = "; an interval needs brackets, e.g. [1.0,2.0)" if ch == "," else ""
                raise self.fail(start + offset, f"unexpected '{ch}'{hint}")
        # One bare version: NuGet's minimum version, inclusive.
        key = self.bound_key(stripped, start)
        return VersionRange(self.text, (Interval((key, True), None),), self.names_prerelease)

    # --- NuGet intervals ---------------------------------------------------------------------

    def interval(self, start: int, end: int) -> Interval:
        text = self.text
        opener, closer = text[start], text[end - 1]
        if closer not in "])":
            raise self.fail(end - 1 if end - 1 > start else end, "expected ']' or ')' to close it")
        inner_start, inner_end = start + 1, end - 1
        inner = text[inner_start:inner_end]
        for offset, ch in enumerate(inner):
            if ch in "[]()":
                raise self.fail(inner_start + offset, f"unexpected '{ch}' inside the interval")
        commas = [inner_start + i for i, ch in enumerate(inner) if ch == ","]
        if len(commas) > 1:
            raise self.fail(commas[1], "an interval has at most two versions")
        lower_inclusive, upper_inclusive = opener == "[", closer == "]"
        if not commas:
            if not inner or (not inner.strip() and not (lower_inclusive and upper_inclusive)):
                raise self.fail(inner_start, "expected a version")
            if not (lower_inclusive and upper_inclusive):
                bad = start if not lower_inclusive else end - 1
                raise self.fail(bad, f"one version means exactly that version: write [{inner.strip()}]")
            if not inner.strip():  # `[ ]`: NuGet reads no bound on either side
                return _EVERYTHING
            key = self.bound_key(inner.strip(), inner_start + _lead(inner))
            return Interval((key, True), (key, True))
        comma = commas[0]
        low_text, high_text = text[inner_start:comma], text[comma + 1 : inner_end]
        if not low_text and not high_text:
            # NuGet refuses `(,)` and `[,]`, but reads `(, )` and `[ , ]` as every version.
            raise self.fail(comma, "give at least one version, e.g. [1.0,) or (,2.0)")
        lower: _Bound = None
        upper: _Bound = None
        if low_text.strip():
            position = inner_start + _lead(low_text)
            lower = (self.bound_key(low_text.strip(), position, lower=True), lower_inclusive)
        if high_text.strip():
            upper = (self.bound_key(high_text.strip(), comma + 1 + _lead(high_text)), upper_inclusive)
        result = Interval(lower, upper)
        if result.is_empty():
            assert lower is not None and upper is not None
            if lower[0] == upper[0] and not (lower_inclusive or upper_inclusive):
                # NuGet accepts `(1.0,1.0)` as a range of no version; a rule that can never
                # pick a tag is a mistake, so it is refused here (docs/versions.md).
                raise self.fail(comma, "the interval is empty: (V,V) contains no version; write [V]")
            raise self.fail(comma, "the interval is empty: its lower version is not below its upper")
        return result

    def bound_key(self, word: str, position: int, *, lower: bool = False, interval: bool = True) -> SortKey:
        """The key of a bound. `interval`: a NuGet interval's bound or a bare version, which
        follow NuGet's grammar under octopus and docker; comparators (`>=v1.2`) do not."""
        if not (word[:1].isdigit() or word[:1] == "*" or (word[:1] in "vV" and word[1:2].isdigit())):
            raise self.fail(position, f"expected a version number, found '{word}'")
        if self.nuget and interval:
            # NuGet's grammar decides what a bound is; only a lower bound may float.
            read = nuget_float_minimum(word) if lower and "*" in word else nuget_version(word)
            if read is None:
                hint = "; only the lower bound may float" if "*" in word and not lower else ""
                hint += "; NuGet versions take no 'v'" if word[:1] in "vV" else ""
                reason = f"'{word}' is not a version NuGet can read ({_NUGET_GRAMMAR}){hint}"
                raise self.fail(position, reason)
            word = read
        try:
            key, is_prerelease = self.strategy.bound(word)
        except ValueError as e:
            raise self.fail(position, str(e)) from None
        self.names_prerelease = self.names_prerelease or is_prerelease
        return key

    # --- semver-style constraints ------------------------------------------------------------

    def constraints(self) -> tuple[Interval, ...]:
        text = self.text
        alternatives: list[Interval] = []
        pos = 0
        while True:
            bar = text.find("||", pos)
            end = len(text) if bar < 0 else bar
            if not text[pos:end].strip():
                at = bar if bar >= 0 else max(pos - 2, 0)
                raise self.fail(at, "nothing on one side of '||'")
            alternatives.append(self.comparator_set(pos, end))
            if bar < 0:
                return tuple(alternatives)
            pos = bar + 2

    def comparator_set(self, start: int, end: int) -> Interval:
        text = self.text
        result = _EVERYTHING
        i = start
        while True:
            while i < end and text[i].isspace():
                i += 1
            if i >= end:
                break
            op_match = _OPERATOR.match(text, i, end)
            op = op_match.group(0) if op_match else ""
            i = op_match.end() if op_match else i
            while i < end and text[i].isspace():
                i += 1
            word_match = _WORD.match(text, i, end)
            if word_match is None:
                if i < end and text[i] == "|":
                    raise self.fail(i, "use '||' to join alternatives")
                what = f"after '{op}'" if op else "here"
                raise self.fail(i, f"expected a version {what}")
            word = word_match.group(0)
            if word == "-":
                raise self.fail(i, "hyphen ranges are not supported; write >=A <=B")
            result = result.intersect(self.comparator(op, word, i))
            i = word_match.end()
        if result.is_empty():
            raise self.fail(start + _lead(text[start:end]), "these constraints exclude each other")
        return result

    def comparator(self, op: str, word: str, at: int) -> Interval:
        m = _XRANGE.match(word)
        if m is None:
            raise self.fail(at, f"expected a version number, found '{word}'")
        raw_parts, rest = m.group(1).split("."), m.group(2)
        given: list[int] = []
        for index, part in enumerate(raw_parts):
            if part in _WILDCARDS:
                trailing = raw_parts[index:]
                if any(p not in _WILDCARDS for p in trailing) or rest:
                    raise self.fail(at, f"'{word}': a wildcard must be the last part")
                break
            given.append(int(part))
        wildcard = len(given) < len(raw_parts)
        strategy = self.strategy
        if len(raw_parts) > strategy.max_parts:
            raise self.fail(at, f"'{word}' has more than {strategy.max_parts} numbers")
        exact_key: SortKey | None = None
        if not wildcard:
            exact_key = self.bound_key(word, at, interval=False)
        # A version with a pre-release, or with every number given, is exact; others are
        # partial and stand for all their completions.
        exact = not wildcard and (bool(rest) or len(given) >= strategy.full_parts)
        if op in (">", "<=") and len(given) < strategy.full_parts:
            # Masterminds/semver: `>0-0` is `>0` and `<=1.2-0` is `<=1.2`; on a partial version
            # the pre-release only says that pre-releases are wanted.
            exact = False
        parts = tuple(given)
        k = len(parts)

        def bump(index: int) -> tuple[int, ...]:
            return (*parts[:index], parts[index] + 1)

        def exact_bound() -> SortKey:
            assert exact_key is not None  # an exact version is no wildcard: its bound was read
            return exact_key

        def after() -> SortKey:  # just above all completions of a partial version
            return strategy.floor_key(bump(k - 1))

        if k == 0:  # `*`, `x`, `^*`, `>=*`: every version; `>*`, `<*`: none
            if op in (">", "<"):
                raise self.fail(at, f"'{op}{word}' matches nothing")
            return _EVERYTHING
        low_key = exact_bound() if exact else strategy.release_key(parts)
        if op in ("", "="):
            if exact:
                return Interval((exact_bound(), True), (exact_bound(), True))
            return Interval((low_key, True), (after(), False))
        if op == ">=":
            return Interval((low_key, True), None)
        if op == ">":
            return Interval((exact_bound(), False), None) if exact else Interval((after(), True), None)
        if op == "<=":
            return Interval(None, (exact_bound(), True)) if exact else Interval(None, (after(), False))
        if op == "<":
            if rest:
                return Interval(None, (exact_bound(), False))
            return Interval(None, (strategy.floor_key(parts), False))
        if op == "^":
            nonzero = next((i for i, p in enumerate(parts) if p != 0), k - 1)
            return Interval((low_key, True), (strategy.floor_key(bump(nonzero)), False))
        # `~` and `~>`: patch-level changes, or minor-level when only the major is given.
        return Interval((low_key, True), (strategy.floor_key(bump(1 if k >= 2 else 0)), False))


def _lead(text: str) -> int:
    """Number of leading whitespace characters (to point at a bound, not the space before it)."""
    return len(text) - len(text.lstrip())
