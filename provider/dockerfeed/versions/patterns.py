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

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

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
