"""The user's regular expressions (tagInclude, tagExclude, preReleaseTag) and their time bound.

A rule is a regex its author wrote and a tag list is text a registry (or whoever pushes to it)
chose, so a pattern with overlapping repetition such as `^(a|a)+$` meeting a tag like
`aaaa…a-x` must not hold a CLI or a Pulumi provider forever. Every user pattern is compiled
with the `regex` engine, which keeps the lookarounds Octopus rules are written with
(`^(?!beta).+`) and can stop a match after a timeout (docs/design.md, "Rules under a time
bound"). One `Budget` bounds all the matching of one selection pass, not each match: a
selection over 100,000 tags, each a little slow, ends as surely as one over one hostile tag.
Running out fails with a `RuleTimeout` naming the property, the pattern and the tag.
"""

from __future__ import annotations

import importlib
import math
import operator
import os
import re
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from typing import Any, cast

import regex

from dockerfeed.versions.errors import VersionRuleError

BUDGET_ENV = "DOCKERFEED_RULE_TIMEOUT"
# Seconds of matching one selection pass may spend on the user's patterns. An ordinary rule
# over 100,000 tags needs well under a second even on a busy machine.
DEFAULT_BUDGET = 5.0

Match = regex.Match[str]
# A bound pattern: search(text, tag) -> match or None; `tag` names the tag in a timeout when the
# text searched is only part of it (the pre-release label).
Search = Callable[[str, str], "Match | None"]


def rule_budget() -> float:
    """The budget in seconds: DOCKERFEED_RULE_TIMEOUT, or 5; ValueError when it is not a number > 0."""
    text = os.environ.get(BUDGET_ENV)
    if text is None:
        return DEFAULT_BUDGET
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{BUDGET_ENV} must be a number of seconds above 0, not {text!r}")
    return value


class RuleTimeout(VersionRuleError):
    """A user pattern used up the selection's time budget; names property, pattern and tag."""

    def __init__(self, property: str, pattern: str, tag: str, budget: float) -> None:
        self.pattern = pattern
        self.tag = tag
        self.budget = budget
        super().__init__(
            property,
            f"{pattern!r} took too long on the tag {tag!r}: the rules of one selection may run "
            f"{budget:g} s in all ({BUDGET_ENV}). Rewrite the pattern so that no two of its "
            "alternatives or repetitions can match the same text (e.g. (a|a)+ or (\\d|\\d\\.?)+ "
            "backtrack exponentially; a+ and [\\d.]+ do not)",
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (RuleTimeout, (self.property, self.pattern, self.tag, self.budget))


class Budget:
    """The time left to one selection pass for matching user patterns (a monotonic deadline)."""

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = rule_budget() if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds


@dataclass(frozen=True)
class UserPattern:
    """One compiled user pattern and the property it came from."""

    prop: str  # the schema name of the property it came from
    text: str  # as the user wrote it, for messages
    compiled: regex.Pattern[str]

    @classmethod
    def compile(cls, pattern: str, prop: str, what: str) -> UserPattern:
        """VersionRuleError on `prop` when `pattern` does not compile."""
        try:
            # `regex` reads .NET-style named groups `(?<name>…)` (Octopus's syntax) natively.
            return cls(prop, pattern, regex.compile(pattern))
        except regex.error as e:
            pos: int | None = getattr(e, "pos", None)
            where = f" at character {pos + 1}" if pos is not None else ""
            reason = getattr(e, "msg", str(e))
            raise VersionRuleError(
                prop, f"{what} '{pattern}' is not a valid regular expression: {reason}{where}"
            ) from None

    @property
    def groups(self) -> frozenset[str]:
        """The names of its named groups."""
        return frozenset(self.compiled.groupindex)

    def bind(self, budget: Budget) -> Search:
        """`search` with the budget's deadline; RuleTimeout once the deadline has passed."""
        search = self.compiled.search
        deadline = budget.deadline
        clock = time.monotonic

        def timed(text: str, tag: str) -> Match | None:
            left = deadline - clock()
            if left > 0.0:
                try:
                    # The engine counts its timeout in the process's CPU time (clock()), the
                    # deadline is wall time: either way the match stops within about `left`.
                    return search(text, timeout=left)
                except TimeoutError:
                    pass
            raise RuleTimeout(self.prop, self.text, tag, budget.seconds)

        return timed


# --- one pass over the whole list ------------------------------------------------------------
#
# A timed call costs ~5 µs however short the tag (two clock() system calls), so matching every
# tag of 100,000 one by one takes ~0.5 s. When a pattern provably cannot see past the text it
# runs on — nothing in it can consume a newline, and its anchors are `^`/`$` — then searching
# the newline-joined list in MULTILINE mode finds, for every tag, exactly the match a search of
# that tag alone finds (the first match starting in its line): one timed call for the list.

_NEWLINE = 10
# Set members that can never be a newline.
_NO_NEWLINE_CATEGORIES = frozenset(("CATEGORY_DIGIT", "CATEGORY_WORD", "CATEGORY_NOT_SPACE"))
# The .NET group syntax `regex` takes and Python's parser does not (for the analysis only).
_DOTNET_GROUP = regex.compile(r"(?<!\\)\(\?<(?=[A-Za-z_])")


def _anchoring(pattern: str) -> tuple[bool, str]:
    r"""Whether `pattern` starts with a `^` that binds all of it (written first, so that it can
    be read as the newline before each text of a joined list), and the literal text every
    match must then start the searched text with (`^1\.4\.` → "1.4."; "" when none)."""
    try:
        c: Any = importlib.import_module("re._constants")
        sre: Any = importlib.import_module("re._parser")
        parsed = sre.parse(_DOTNET_GROUP.sub("(?P<", pattern))
    except Exception:
        return False, ""
    items = list(parsed)
    if not items or items[0] != (c.AT, c.AT_BEGINNING):
        return False, ""
    anchored = pattern.startswith("^")
    if parsed.state.flags & c.SRE_FLAG_IGNORECASE:
        return anchored, ""
    prefix = []
    for op, arg in items[1:]:
        if op is not c.LITERAL:
            break
        prefix.append(chr(arg))
    return anchored, "".join(prefix)


def _anchored_prefix(pattern: str) -> str:
    r"""The literal text every match must start the searched text with (`^1\.4\.` → "1.4."), or
    "" when there is none: only texts starting with it need a search."""
    return _anchoring(pattern)[1]


def _line_safe(pattern: str) -> bool:
    """True when `pattern` can be run on a newline-joined list in MULTILINE mode with the same
    per-line results as on each text alone (see above); False when unsure."""
    try:
        # The stdlib's regex parser (private, so imported by name: when a Python moves it,
        # every pattern just takes the one-by-one path).
        c: Any = importlib.import_module("re._constants")
        sre: Any = importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover
        return False
    try:
        parsed = sre.parse(_DOTNET_GROUP.sub("(?P<", pattern))
    except Exception:  # anything the stdlib parser does not read: `regex`-only syntax
        return False
    dotall = bool(parsed.state.flags & c.SRE_FLAG_DOTALL)

    def set_ok(items: list[tuple[object, object]]) -> bool:
        negated = any(op is c.NEGATE for op, _ in items)
        has_newline = False
        for op, arg in items:
            if op is c.NEGATE:
                continue
            if op is c.LITERAL:
                has_newline |= arg == _NEWLINE
            elif op is c.RANGE:
                low, high = cast(tuple[int, int], arg)
                has_newline |= low <= _NEWLINE <= high
            elif op is c.CATEGORY:
                if str(arg) not in _NO_NEWLINE_CATEGORIES:
                    if negated and str(arg) == "CATEGORY_SPACE":
                        return True  # [^\s…]: no newline
                    has_newline = True
            else:
                return False
        return has_newline if negated else not has_newline

    def ok(items: object, dotall: bool) -> bool:
        for op, arg in items:  # type: ignore[attr-defined]
            if op is c.LITERAL:
                if arg == _NEWLINE:
                    return False
            elif op is c.NOT_LITERAL:
                if arg != _NEWLINE:
                    return False
            elif op is c.ANY:
                if dotall:
                    return False
            elif op is c.IN:
                if not set_ok(arg):
                    return False
            elif op is c.AT:
                if arg not in (c.AT_BEGINNING, c.AT_END, c.AT_BOUNDARY, c.AT_NON_BOUNDARY):
                    return False
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                if not ok(arg[2], dotall):
                    return False
            elif op is c.SUBPATTERN:
                _, add, remove, body = arg
                if remove & c.SRE_FLAG_MULTILINE:
                    return False
                if not ok(body, (dotall or bool(add & c.SRE_FLAG_DOTALL)) and not remove & c.SRE_FLAG_DOTALL):
                    return False
            elif op is c.ATOMIC_GROUP:
                if not ok(arg, dotall):
                    return False
            elif op is c.BRANCH:
                if not all(ok(branch, dotall) for branch in arg[1]):
                    return False
            elif op in (c.ASSERT, c.ASSERT_NOT):
                if not ok(arg[1], dotall):
                    return False
            elif op is c.GROUPREF:
                continue
            elif op is c.GROUPREF_EXISTS:
                _, yes, no = arg
                if not ok(yes, dotall) or (no is not None and not ok(no, dotall)):
                    return False
            else:
                return False
        return True

    return ok(parsed, dotall)


# A pattern asked about this many texts of one list (and at least a sixteenth of them) goes on
# with one pass over the whole list: the pass costs about what a sixteenth of the searches do.
LAZY_AFTER = 32


class ListMatcher:
    """A user pattern asked about the texts of one list, for the compared text of each: the
    text itself, or its `group` when one is named (None: no match, or the group took no part).

    The first LAZY_AFTER questions are timed searches of one text each; after that, when the
    pattern is line-safe, one timed pass over the whole list answers the rest. A pass that runs
    out of half the budget is dropped for searches one by one, so a timeout still names a tag.
    """

    __slots__ = ("_asked", "_group", "_list", "_pattern", "_safe", "_search", "_table", "budget")

    def __init__(self, pattern: UserPattern, budget: Budget, texts: Sequence[str], group: str | None) -> None:
        self._pattern = pattern
        self.budget = budget
        self._search = pattern.bind(budget)
        self._list = texts
        self._group = group
        self._asked = 0
        self._safe: bool | None = None
        self._table: dict[str, str | None] | None = None

    def __call__(self, text: str, tag: str) -> str | None:
        table = self._table
        if table is not None:
            return table.get(text)
        self._asked += 1
        if self._asked >= LAZY_AFTER and self._asked * 16 >= len(self._list):
            table = self.table()
            if table is not None:
                return table.get(text)
        m = self._search(text, tag)
        if m is None:
            return None
        return _value(m, self._group) if self._group else text

    def table(self) -> dict[str, str | None] | None:
        """Every matching text and its compared text, from one pass; None when the pattern is
        not line-safe or the pass ran out of half the budget (then: one search at a time)."""
        if self._table is None and self._passes():
            self._table = self._one_pass(self._list)
            self._safe = self._table is not None
        return self._table

    def answers(self, texts: Sequence[str]) -> dict[str, str | None] | None:
        """As `table`, for some texts of the list only (every one of them that matches, perhaps
        others too), from one pass over those alone; None when the pattern is not line-safe or
        the pass ran out of half the budget."""
        if self._table is not None or not self._passes():
            return self._table
        found = self._one_pass(texts)
        self._safe = found is not None  # a pass that ran out is not tried again
        return found

    def _passes(self) -> bool:
        """Whether the pattern may be run as one pass (line-safe, and no pass ran out yet)."""
        if self._safe is None:
            self._safe = _line_safe(self._pattern.text)
        return self._safe

    def _one_pass(self, texts: Sequence[str]) -> dict[str, str | None] | None:
        source = self._pattern.text
        anchored, prefix = _anchoring(source)
        joined = "\n".join(texts)
        left = self.budget.deadline - time.monotonic()
        if left <= 0 or joined.count("\n") != len(texts) - 1:
            return None
        if prefix:
            # Only the texts that start with it can match: found in the joined list by a plain
            # pattern of ours (a pass over the string, cheaper than a call per text).
            texts = re.findall("\n(" + re.escape(prefix) + "[^\n]*)", "\n" + joined)
            if not texts:
                return {}
            joined = "\n".join(texts)
        # Where each text's line ends (the start of the next, less one): a match starting at
        # offset p lies in the text whose line `bisect_right(ends, p)` counts.
        ends = list(accumulate(map((1).__add__, map(len, texts))))
        if anchored:
            # `^` as the newline before each text: the engine then jumps from newline to newline
            # instead of trying every position. A match then starts one character before its
            # text, at the same offset in "\n" + joined as its text has in joined.
            source, joined = "\\n" + source[1:], "\n" + joined
        compiled = regex.compile(source, regex.MULTILINE)
        try:
            matches = list(compiled.finditer(joined, timeout=left / 2))
        except TimeoutError:
            return None
        # C-level maps, not a loop per match: a pattern may match most of 100,000 texts.
        lines = list(map(texts.__getitem__, map(bisect_right, repeat(ends), map(_START, matches))))
        values: Sequence[str | None] = lines
        if self._group:  # a group that took no part gives None, as in `_value`
            values = list(map(operator.methodcaller("group", self._group), matches))
        # A text's first match decides (a line may hold several): reversed, the first is set last.
        return dict(zip(reversed(lines), reversed(values), strict=True))


_START = operator.methodcaller("start")


def narrow(
    steps: Sequence[tuple[ListMatcher, bool]], tags: Sequence[str], texts: Sequence[str], shortest: int
) -> tuple[Sequence[str], Sequence[str]]:
    """The tags (and their texts, alongside) that every (pattern, wanted) step may let through:
    each pattern asked about the tags by one pass over them alone where it can be, keeping the
    tags it matches when `wanted`, the others when not. Tags it cannot be asked about that way
    are kept (a superset), and so is a list shorter than `shortest`, too short to pay for a pass."""
    for matcher, wanted in steps:
        if len(tags) < shortest:
            break
        found = matcher.answers(tags)
        if found is None:
            continue
        keep = list(map(found.__contains__, tags))
        if not wanted:
            keep = list(map(operator.not_, keep))
        kept = list(compress(tags, keep))
        texts = kept if texts is tags else list(compress(texts, keep))
        tags = kept
    return tags, texts


def _value(m: Match, group: str) -> str | None:
    value = m.group(group)
    return value if isinstance(value, str) else None
