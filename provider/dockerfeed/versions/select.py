"""select_latest: the highest eligible tag of a list, and why the others were not chosen.

The winner path keeps only the best key so far and consults filters, range and pre-release rule
only for a tag that would beat it; on long lists the strategy scans the tags of the highest
leading `major.minor` first and stops at the first winner (strategies/by_major.py).
Counts, the eligible list and per-tag reasons (for `explain`, `pick --all` and `pick --json`)
come from a second, complete pass run on demand, so resolving an image with 100,000 tags does
not pay for them. Each pass matches the user's patterns under one time budget (patterns.py);
running out raises RuleTimeout, a VersionRuleError naming the property and the tag.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from itertools import compress, repeat
from typing import cast

from dockerfeed.versions.patterns import (
    DEFAULT_BUDGET,
    LAZY_AFTER,
    Budget,
    ListMatcher,
    Search,
    narrow,
    rule_budget,
)
from dockerfeed.versions.rules import DEFAULT_TAG_EXCLUDE, EXTRACT_GROUP, VersionRule
from dockerfeed.versions.strategies import VARIANT, SortKey, by_major
from dockerfeed.versions.taglist import TagList


class Reason(StrEnum):
    """Why a tag was not eligible, in the order the checks run."""

    SIGNATURE = "signature"  # default exclusion of signature/attestation/SBOM and referrer tags
    INCLUDE = "include"  # did not match tagInclude (or its `version` group did not take part)
    EXCLUDE = "exclude"  # matched a tagExclude pattern
    UNPARSEABLE = "unparseable"  # not a version for the strategy
    VARIANT = "variant"  # docker strategy: another variant or count of numbers
    RANGE = "range"  # outside versionRange
    PRERELEASE = "prerelease"  # refused by the pre-release rule


_SIGNATURE = re.compile(DEFAULT_TAG_EXCLUDE[0])
_SIGNATURE_PREFIXES = ("sha256-", "sha512-")
_FILTER_REASONS = (Reason.SIGNATURE, Reason.INCLUDE, Reason.EXCLUDE)
# A batch of grouped tags this long is narrowed by one pass per pattern (`_Checks.narrow`): a
# pass costs about what this many one-tag searches do.
_NARROW_FROM = LAZY_AFTER


@dataclass(frozen=True)
class Candidate:
    """An eligible tag."""

    tag: str  # the tag as the registry lists it
    version: str  # normalised display form ("1.2.0-beta.1"); alphabetical: the tag itself
    sort_key: SortKey = field(compare=False, repr=False)
    source: str = field(default="", compare=False, repr=False)  # text compared (after extract)


# One eligible tag: (key, tag, compared text).
_Entry = tuple[SortKey, str, str]
# Per-tag outcome: (tag, reason or None when eligible, compared text).
_Outcome = tuple[str, Reason | None, str]
# Whether the pre-release rule allows a label: (label, tag) -> bool.
_AllowLabel = Callable[[str, str], bool]


@dataclass(frozen=True)
class _Checks:
    """A rule turned into the callables the loops need, once per selection."""

    rule: VersionRule
    include: ListMatcher | None
    extract: bool
    excludes: tuple[ListMatcher, ...]
    in_range: Callable[[SortKey], bool] | None
    allow_label: _AllowLabel | None

    @classmethod
    def of(cls, rule: VersionRule, budget: Budget, tags: tuple[str, ...]) -> _Checks:
        allow_label: _AllowLabel | None = None
        if rule.pre_release_re is not None:
            allow_label = _once_per_label(rule.pre_release_re.bind(budget))
        elif rule.strategy == "semver" and not (rule.range and rule.range.names_prerelease):
            # Flux/Masterminds semver: pre-releases only when the range names one.
            allow_label = _stable_only
        extract = rule.extracts
        return cls(
            rule=rule,
            include=(
                ListMatcher(rule.include_re, budget, tags, EXTRACT_GROUP if extract else None)
                if rule.include_re is not None
                else None
            ),
            extract=extract,
            excludes=tuple(ListMatcher(p, budget, tags, None) for p in rule.exclude_res),
            in_range=rule.range.contains if rule.range is not None else None,
            allow_label=allow_label,
        )

    def text_of(self, tag: str) -> str | None:
        """The text compared for a tag: the tag, or its `version` group; None if not included."""
        if self.include is None:
            return tag
        return self.include(tag, tag)

    def filtered(self, tag: str) -> Reason | None:
        """The filter that drops a tag before it is read as a version, if any."""
        if tag.startswith(_SIGNATURE_PREFIXES) and _SIGNATURE.search(tag):
            return Reason.SIGNATURE
        if self.include is not None and self.text_of(tag) is None:
            return Reason.INCLUDE
        if any(e(tag, tag) is not None for e in self.excludes):
            return Reason.EXCLUDE
        return None

    def narrow(self, tags: Sequence[str], texts: Sequence[str]) -> tuple[Sequence[str], Sequence[str]]:
        """The tags of a batch (and their texts) that tagInclude and tagExclude may let through
        (patterns.narrow); a would-be winner is still asked about every filter."""
        steps = [(e, False) for e in self.excludes]
        if self.include is not None and not self.extract:  # extracted texts are included already
            steps.insert(0, (self.include, True))
        return narrow(steps, tags, texts, _NARROW_FROM)

    def refused(self, tag: str, text: str, key: SortKey) -> Reason | None:
        """The version rule that refuses a version, if any."""
        if self.in_range is not None and not self.in_range(self.rule.strategy_impl.range_key(text, key)):
            return Reason.RANGE
        if self.allow_label is not None and not self.allow_label(self.rule.strategy_impl.label(text), tag):
            return Reason.PRERELEASE
        return None


def _stable_only(label: str, tag: str) -> bool:
    # Metadata alone (`+build`) does not make a pre-release.
    return not label or label[0] == "+"


def _once_per_label(search: Search) -> _AllowLabel:
    """The pre-release rule, matched once per distinct label: lists repeat a few labels a lot."""
    seen: dict[str, bool] = {}

    def allow(label: str, tag: str) -> bool:
        hit = seen.get(label)
        if hit is None:
            hit = seen[label] = search(label, tag) is not None
        return hit

    return allow


def _winner(tags: tuple[str, ...], rule: VersionRule, current: str | None, budget: Budget) -> _Entry | None:
    """The winner alone: filters and rules are consulted only for would-be winners."""
    checks = _Checks.of(rule, budget, tags)
    texts: tuple[str, ...] = tags
    table = None
    # Strategies without groups, and extraction, would ask tagInclude about most of a long list
    # (grouped strategies ask about a few groups, and narrow those: `narrow` below).
    if (
        checks.include is not None
        and len(tags) >= by_major.BATCH_FROM
        and (checks.extract or not rule.strategy_impl.leading_major)
    ):
        table = checks.include.table()
    if table is not None:
        # One pass over the list answers tagInclude for every tag: only the tags it matches
        # (each once; with their `version` group when it took part) can win, so the rest is
        # dropped before the strategy reads a version.
        keep = list(map(operator.is_not, table.values(), repeat(None)))
        tags = tuple(compress(table, keep))
        texts = cast(tuple[str, ...], tuple(compress(table.values(), keep))) if checks.extract else tags
    elif checks.extract:
        # The compared text depends on tagInclude, so it has to run on every tag first.
        pairs = [(tag, text) for tag in tags if (text := checks.text_of(tag)) is not None]
        tags = tuple(p[0] for p in pairs)
        texts = tuple(p[1] for p in pairs)

    def accept(tag: str, text: str, key: SortKey) -> bool:
        return checks.filtered(tag) is None and checks.refused(tag, text, key) is None

    if not (checks.include or checks.excludes or checks.in_range or checks.allow_label):
        # No rule at all (the default): only the signature exclusion is left to check. A
        # lexically sorted list makes many tags "the best so far", so keep this one cheap.
        signature = _SIGNATURE.search

        def accept(tag: str, text: str, key: SortKey) -> bool:
            return not (tag.startswith(_SIGNATURE_PREFIXES) and signature(tag))

    return rule.strategy_impl.best(
        tags,
        texts,
        accept,
        variant=rule.variant,
        current=current,
        span_filter=rule.range.may_overlap if rule.range is not None else None,
        narrow=checks.narrow if checks.include is not None or checks.excludes else None,
    )


@dataclass(frozen=True)
class _Pass:
    counts: dict[Reason, int]
    eligible: list[_Entry]
    outcomes: list[_Outcome]


def _record(tags: tuple[str, ...], rule: VersionRule, current: str | None, budget: Budget) -> _Pass:
    """Every tag's fate, in the order the checks apply (for --all, --json and explain)."""
    checks = _Checks.of(rule, budget, tags)
    scan = rule.strategy_impl.scanner(rule.variant, current)
    counts = dict.fromkeys(Reason, 0)
    eligible: list[_Entry] = []
    outcomes: list[_Outcome] = []
    for tag in tags:
        text = tag
        reason = checks.filtered(tag)
        if reason is None:
            text = checks.text_of(tag) or ""  # an empty `version` group: nothing to compare
            key = scan(text)
            if key is None:
                reason = Reason.UNPARSEABLE
            elif key is VARIANT:
                reason = Reason.VARIANT
            else:
                reason = checks.refused(tag, text, key)
                if reason is None:
                    eligible.append((key, tag, text))
        if reason is not None:
            counts[reason] += 1
        outcomes.append((tag, reason, text))
    return _Pass(counts, eligible, outcomes)


@dataclass(frozen=True, eq=False)
class Selection:
    """The outcome of `select_latest`."""

    winner: Candidate | None
    considered: int
    rule: VersionRule = field(repr=False)
    current: str | None = field(default=None, repr=False)
    tags: tuple[str, ...] = field(default=(), repr=False)
    budget: float = field(default=DEFAULT_BUDGET, repr=False)  # seconds for the user's patterns, per pass

    @property
    def parsed(self) -> int:
        """Tags that passed the filters and read as versions of the strategy."""
        skipped = sum(self.rejected[r] for r in (*_FILTER_REASONS, Reason.UNPARSEABLE))
        return self.considered - skipped

    @cached_property
    def _recorded(self) -> _Pass:
        return _record(self.tags, self.rule, self.current, Budget(self.budget))

    @property
    def rejected(self) -> dict[Reason, int]:
        """How many tags each check refused (every reason present, zeros included)."""
        return self._recorded.counts

    @cached_property
    def eligible(self) -> list[Candidate]:
        """Every eligible tag, ascending (the winner last)."""
        entries = sorted(self._recorded.eligible, key=lambda e: e[:2])
        return [self._candidate(e) for e in entries]

    def _candidate(self, entry: _Entry) -> Candidate:
        key, tag, text = entry
        return Candidate(
            tag=tag,
            version=self.rule.strategy_impl.display(text),
            sort_key=key,
            source=text,
        )

    def explain(self) -> str:
        """Why this selection has (or has no) winner, counted by check."""
        rule = self.rule
        if self.considered == 0:
            return "no tags to choose from: the image has no tags (or none were given)"
        head = (
            f"{self.winner.tag} is the highest of {len(self.eligible)} eligible tags"
            if self.winner
            else "no tag matched"
        )
        lines = [f"{head} ({rule.describe()}); of {self.considered} tags:"]
        r = self.rejected
        details = [
            (Reason.SIGNATURE, "are signature/attestation tags (always excluded)"),
            (Reason.INCLUDE, f"do not match tagInclude {rule.tag_include!r}"),
            (Reason.EXCLUDE, f"match tagExclude {list(rule.tag_exclude)!r}"),
            (Reason.UNPARSEABLE, f"are not {rule.strategy} versions"),
            (Reason.VARIANT, "have another variant or count of numbers (docker strategy)"),
            (Reason.RANGE, f"are outside versionRange {rule.version_range}"),
            (Reason.PRERELEASE, self._prerelease_words()),
        ]
        lines.append(f"  {self.parsed} parsed as {rule.strategy} versions")
        lines.extend(f"  {r[reason]} {text}" for reason, text in details if r[reason])
        if not self.winner:
            hint = self._hint()
            if hint:
                lines.append(hint)
        return "\n".join(lines)

    def _prerelease_words(self) -> str:
        if self.rule.pre_release_tag is not None:
            return f"are refused by preReleaseTag {self.rule.pre_release_tag!r}"
        return "are pre-releases (semver offers them only when versionRange names one)"

    def _hint(self) -> str:
        r = self.rejected
        biggest = max(Reason, key=lambda reason: r[reason])
        if r[biggest] == 0:
            return ""
        hints = {
            Reason.RANGE: "hint: widen versionRange, or check it against `dockerfeed pick --all`",
            Reason.PRERELEASE: "hint: relax preReleaseTag (unset it to allow every version)",
            Reason.VARIANT: "hint: set variant to the suffix you want, e.g. alpine",
            Reason.UNPARSEABLE: "hint: try another strategy, or extract the version with a "
            "tagInclude group named 'version'",
            Reason.INCLUDE: "hint: check tagInclude against the tag list (`dockerfeed tags`)",
            Reason.EXCLUDE: "hint: check the tagExclude patterns",
        }
        return hints.get(biggest, "")

    def as_dict(self) -> dict[str, object]:
        """Everything `pick --json` prints: winner, eligible tags, and each rejection's reason."""
        strategy = self.rule.strategy_impl
        recorded = self._recorded

        def candidate(c: Candidate) -> dict[str, object]:
            return {"tag": c.tag, "version": c.version, "parts": strategy.describe(c.source)}

        rejections = [
            {"tag": tag, "reason": str(reason), "detail": self._detail(reason, text)}
            for tag, reason, text in recorded.outcomes
            if reason is not None
        ]
        return {
            "tag": self.winner.tag if self.winner else None,
            "version": self.winner.version if self.winner else None,
            "winner": candidate(self.winner) if self.winner else None,
            "strategy": self.rule.strategy,
            "considered": self.considered,
            "parsed": self.parsed,
            "rejected": {str(k): v for k, v in self.rejected.items()},
            "eligible": [candidate(c) for c in self.eligible],
            "rejections": rejections,
            "explanation": self.explain(),
        }

    def _detail(self, reason: Reason, text: str) -> str:
        rule = self.rule
        if reason is Reason.UNPARSEABLE:
            return rule.strategy_impl.why_not(text)
        if reason is Reason.RANGE:
            return f"version {rule.strategy_impl.display(text)} is outside {rule.version_range}"
        if reason is Reason.PRERELEASE:
            return f"pre-release of {rule.strategy_impl.display(text)} " + (
                f"refused by {rule.pre_release_tag!r}"
                if rule.pre_release_tag is not None
                else "(semver: the range names no pre-release)"
            )
        if reason is Reason.VARIANT:
            return "another variant, or another count of numbers, than the current tag"
        if reason is Reason.INCLUDE:
            return f"does not match {rule.tag_include!r}"
        if reason is Reason.EXCLUDE:
            return "matches a tagExclude pattern"
        return "signature/attestation tag"


def select_latest(
    tags: Iterable[str], rule: VersionRule, *, current: str | None = None, budget: float | None = None
) -> Selection:
    """The highest tag that `rule` allows; `current` is the tag pinned now, if any.

    Rules that select from one listing in turn pass it as a TagList: what a long list's
    grouping reads from the tags alone is then read once (taglist.py).

    The docker strategy takes the variant and the count of numbers from `current`. `budget` is
    the seconds each pass may spend matching the user's patterns (default: rule_budget());
    RuleTimeout when they need more, here or from the complete pass behind explain/as_dict.
    """
    seconds = rule_budget() if budget is None else budget
    # A TagList is read as it is: what one rule's selection derived from it serves the next.
    tag_tuple = tags if isinstance(tags, TagList) else tuple(tags)
    best = _winner(tag_tuple, rule, current, Budget(seconds))
    selection = Selection(
        winner=None, considered=len(tag_tuple), rule=rule, current=current, tags=tag_tuple, budget=seconds
    )
    if best is not None:
        # Set after construction: building the Candidate uses the selection's strategy.
        object.__setattr__(selection, "winner", selection._candidate(best))
    return selection
