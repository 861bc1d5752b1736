"""The highest (major, minor) groups first: a long tag list is grouped by each tag's leading
numbers with C-level passes, and the exact scan runs on the highest groups only, stopping at the
first winner (docs/design.md; the hypothesis tests compare it with one full scan)."""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from itertools import chain, compress

from dockerfeed.versions.strategies.keys import SMALL_INTS, Best, Head, SortKey, SpanFilter
from dockerfeed.versions.strategies.run_tiers import TIER_FROM, tiers
from dockerfeed.versions.taglist import derived

# Below this many tags one plain pass is cheaper than grouping them first.
BATCH_FROM = 2048
# A tag's leading `major.minor` (or `major`, or nothing): one optional `v`, then the digits and
# at most one more dot-separated digit run. Found for every tag in one regex pass over the
# newline-joined list; a per-tag Python loop costs more than the whole selection may.
# Possessive quantifiers: the first way to match is the only one, and not keeping backtrack
# points makes the pass about a quarter faster.
LEADING_RUNS = re.compile(r"\n[vV]?+((?:[0-9]++(?:\.[0-9]++)?+)?+)")
# Groups are scanned a few at a time, highest first, in batches growing by this factor: the
# winner is usually in the first group, and a rule that refuses most tags costs a few scans,
# not one per group. Batches are cut from windows of groups taken from the whole list in one
# C-level pass each (the first window holds several batches, later ones grow by the square).
_BATCH_GROWTH = 4
_FIRST_WINDOW = 1 + 4 + 16
# A group of tags, the (major, minor) of their leading numbers, as one int: major << 64 | minor.
# Plain ints, not tuples: an odd list has a group per tag, and as many tuples cost the garbage
# collector more than the grouping itself.
_Group = int
_MINOR_BITS = 64
# The minor of a version without one where that ranks above every minor (docker: `2` > `2.9`).
_NO_MINOR = (1 << _MINOR_BITS) - 1
# Texts this long are not tags; their numbers could exceed int()'s digit limit: scan them all.
_LONGEST_RUN = 1000


def best_by_major(
    tags: Sequence[str],
    texts: Sequence[str],
    scan_best: Callable[[Sequence[str], Sequence[str]], Best],
    span_filter: SpanFilter | None,
    floor_key: Callable[[tuple[int, ...]], SortKey],
    missing_minor: int | float = 0,
    *,
    head: Callable[[SortKey], Head],
    max_number: int | None = None,
    irregular: Callable[[str], bool] | None = None,
    runs: re.Pattern[str] = LEADING_RUNS,
    runless_versions: bool = True,
) -> Best:
    """`scan_best` over the tags of the highest (major, minor) first, stopping at a winner.

    For a `leading_major` strategy a version's key starts with major and minor, each the digit
    run that begins the text or follows its first dot (0 when missing), so every tag of a
    higher (major, minor) has a higher key than every tag of a lower one: once some group has a
    winner, no lower group can beat it. Grouping is done with C-level passes (join, one regex,
    `compress`); the exact per-tag scan runs only on the groups
    it needs, so the result is always that of one full scan.

    `head` gives a key's (major, minor); `max_number` drops groups whose numbers no version of
    the strategy may have (Octopus: Int32); `irregular` says whether the newline-joined list
    holds texts whose leading digits are not their major (PEP 440's epoch `1!2.0`), and then
    everything is scanned. `runs` finds each text's run: a strategy may give its own, which
    must find the exact `major.minor` of every version and may give any run, or "", to texts
    that are not versions; with `runless_versions` False the "" group holds no version and is
    dropped. Many distinct runs are read in tiers, the highest majors first (run_tiers.py).
    """
    n = len(texts)
    if n < BATCH_FROM:
        return scan_best(tags, texts)
    # What is read from the texts alone is kept on a TagList for the next rule (taglist.py).
    joined = derived(texts, ("joined", irregular), lambda: _join(texts, irregular))
    if joined is None:
        return scan_best(tags, texts)
    if max_number is None and texts is tags:
        # Majors of any size (an odd list of build numbers and dates): the tags whose majors
        # have the most digits first, found without a run per tag.
        longest = _longest_majors(tags, joined, span_filter, floor_key)
        if longest is not None:
            best = best_by_major(
                longest,
                longest,
                scan_best,
                span_filter,
                floor_key,
                missing_minor,
                head=head,
                irregular=irregular,
                runs=runs,
                runless_versions=runless_versions,
            )
            if best is not None:
                return best
    lines = derived(texts, ("runs", runs), lambda: _read_lines(joined, n, runs))
    if lines is None:
        return scan_best(tags, texts)
    found_runs, distinct = lines
    read_runs = partial(
        _read_runs,
        no_minor=_NO_MINOR if missing_minor == math.inf else int(missing_minor),
        max_number=max_number,
        runless_versions=runless_versions,
    )
    # Whether a major has a version in the range at all: one check for all of its minors.
    major_in_span: dict[int, bool] = {}

    def in_span(group: _Group) -> bool:
        # Every key of a group lies in [floor(major.minor), floor(major.minor+1)], and every key
        # of a major in [floor(major), floor(major+1)].
        major, minor = group >> _MINOR_BITS, group & _NO_MINOR
        if span_filter is None or minor == _NO_MINOR:
            return True
        whole = major_in_span.get(major)
        if whole is None:
            whole = major_in_span[major] = span_filter(floor_key((major,)), floor_key((major + 1,)))
        return whole and span_filter(floor_key((major, minor)), floor_key((major, minor + 1)))

    def group_of_key(key: SortKey) -> _Group:
        major, minor = head(key)
        return int(major) << _MINOR_BITS | (_NO_MINOR if minor == math.inf else int(minor))

    # Few distinct runs are read at once; many (an odd list), the highest majors first, in
    # tiers, and then all of them.
    upper = tiers(list(distinct - {""})) if len(distinct) >= TIER_FROM else iter(())
    above: _Group | None = None  # the groups of the tiers read so far are at or above this
    for tier_runs, lowest in chain(upper, [(list(distinct), 0)]):
        group_of = read_runs(tier_runs)
        if group_of is None:
            return scan_best(tags, texts)
        floor = lowest << _MINOR_BITS
        if above is not None:  # a later tier: only the groups the tiers above did not hold
            group_of = {run: group for run, group in group_of.items() if floor <= group < above}
        elif floor:
            group_of = {run: group for run, group in group_of.items() if group >= floor}
        above = floor
        best = _best_of_groups(tags, texts, found_runs, group_of, scan_best, in_span, group_of_key)
        if best is not None:
            return best
    return None


def _join(texts: Sequence[str], irregular: Callable[[str], bool] | None) -> str | None:
    """The newline-led, newline-joined texts, or None when its lines cannot be grouped."""
    joined = "\n" + "\n".join(texts)
    # Octopus reads spaces around the numbers (` 2`, `v 3`), so the leading digits are not the
    # major there; Docker tags cannot contain spaces, so such a list is rare: scan it all.
    # A text with a newline in it: the lines of the joined list are not the texts.
    if " " in joined or joined.count("\n") != len(texts) or (irregular is not None and irregular(joined)):
        return None
    return joined


def _read_lines(joined: str, n: int, runs: re.Pattern[str]) -> tuple[list[str], frozenset[str]] | None:
    """Each of the `n` lines' run and the distinct runs, or None when they cannot be grouped."""
    found_runs = runs.findall(joined)
    if len(found_runs) != n:  # a strategy's run pattern that skips a line: they no longer line up
        return None
    distinct = frozenset(found_runs)
    if max(map(len, distinct)) > _LONGEST_RUN and any(
        len(number) > _LONGEST_RUN for run in distinct for number in run.split(".")
    ):
        return None  # not tags; int() might refuse their numbers
    return found_runs, distinct


# Each line's leading digits, past an optional `v` and leading zeros: their count bounds its major.
_SIGNIFICANT = re.compile(r"\n[vV]?+0*+([0-9]*+)")
# About this many texts are sampled to find how many digits the longest majors have.
_SAMPLE = 512
# Majors of fewer digits than this are grouped as they are (real lists).
_PROBE_DIGITS = 3
# The probe is tried when at most this share of the sample has the sample's longest majors.
_PROBE_SHARE = 4


@lru_cache(maxsize=32)
def _at_least_digits(digits: int) -> re.Pattern[str]:
    """Every text of a newline-led list whose major has `digits` significant digits or more."""
    return re.compile(r"\n([vV]?+0*+[1-9][0-9]{" + str(digits - 1) + r"}[^\n]*+)")


def _longest_majors(
    tags: Sequence[str],
    joined: str,
    span_filter: SpanFilter | None,
    floor_key: Callable[[tuple[int, ...]], SortKey],
) -> list[str] | None:
    """The tags whose majors have at least as many digits as the longest in a sample, when
    those are few; None when there are none, they are many, or the range holds none of them.

    Exact when a winner among them is taken: it has a major of at least `digits` digits, and
    every tag left out has a major of fewer, so a lower key (a `leading_major` key starts with
    the major). `joined` is the newline-led list, one tag per line."""
    probed = derived(tags, "longest", lambda: _probe_longest(tags, joined))
    if probed is None:
        return None
    found, digits = probed
    if span_filter is not None and not span_filter(
        floor_key((10 ** (digits - 1),)), floor_key((10 ** max(map(len, found)),))
    ):
        return None  # the range holds no version of so large a major
    return found


def _probe_longest(tags: Sequence[str], joined: str) -> tuple[list[str], int] | None:
    """`_longest_majors` before the range: the tags whose majors have at least as many digits
    as the longest in a sample, and that count; None when there are none or they are many."""
    n = len(tags)
    sample = tags[:: max(1, n // _SAMPLE)]
    lengths = list(map(len, _SIGNIFICANT.findall("\n" + "\n".join(sample))))
    digits = max(lengths, default=0)
    if digits < _PROBE_DIGITS or lengths.count(digits) * _PROBE_SHARE > len(sample):
        return None  # short majors (real lists), or many share the longest: group them all
    found = _at_least_digits(digits).findall(joined)
    if not found or len(found) == n or len(found) * _PROBE_SHARE > n:
        return None  # none, all (the probe would repeat itself) or many: group them all
    return found, digits


def _read_runs(
    runs: list[str], *, no_minor: int, max_number: int | None, runless_versions: bool
) -> dict[str, _Group] | None:
    """Each run's group, without the runs no version has; None when a minor is too large for
    a group's int (then everything is scanned)."""
    group_of: dict[str, _Group] = {}
    small = SMALL_INTS.get
    # One plain loop over the distinct runs (cheaper here than chains of C-level maps), with
    # no per-group objects: odd lists have a group per tag.
    for run in runs:
        if "." in run:
            major_digits, _, minor_digits = run.partition(".")
            minor = small(minor_digits)
            if minor is None:
                minor = int(minor_digits)
                if minor >= _NO_MINOR:  # no room in the group's int: rare enough to scan all
                    return None
            if max_number is not None and minor > max_number:
                continue  # never a version of this strategy
        elif run or runless_versions:
            major_digits, minor = run, no_minor
        else:
            continue  # not a version: every version of the strategy has a number
        major = small(major_digits)
        if major is None:
            major = int(major_digits or "0")
            if max_number is not None and major > max_number:
                continue
        group_of[run] = major << _MINOR_BITS | minor
    return group_of


def _best_of_groups(
    tags: Sequence[str],
    texts: Sequence[str],
    found_runs: list[str],
    group_of: dict[str, _Group],
    scan_best: Callable[[Sequence[str], Sequence[str]], Best],
    in_span: Callable[[_Group], bool],
    group_of_key: Callable[[SortKey], _Group],
) -> Best:
    """`scan_best` over the tags of the groups of `group_of` (each run's group), highest
    groups first, stopping at the first winner no lower group of them can beat."""
    n = len(texts)
    groups = set(group_of.values())
    best: Best = None
    # The first groups come from one partial selection; the rest, if needed, from one sort.
    order: list[_Group] = heapq.nlargest(_FIRST_WINDOW + 1, groups)
    reached, window_size = 0, _FIRST_WINDOW

    def following(at: int) -> _Group | None:
        """The group at rank `at` (highest first), sorting them all when it lies past the first."""
        nonlocal order
        if at >= len(order) and len(order) < len(groups):
            order = sorted(groups, reverse=True)
        return order[at] if at < len(order) else None

    while reached < len(groups):
        # The next `window_size` groups in the range, highest first: groups outside it are
        # dropped as they are reached, and do not count towards the window.
        window: list[_Group] = []
        while len(window) < window_size and (group := following(reached)) is not None:
            reached += 1
            if in_span(group):
                window.append(group)
        window_size *= _BATCH_GROWTH * _BATCH_GROWTH
        if not window:
            break
        # The highest group after the window, in span or not: a bound for stopping.
        after_window = following(reached)
        # The window's tags, ordered by their group's rank in the window (highest first), so
        # that every batch is one slice (C-level maps: a window may hold most of the list).
        group_rank = {group: rank for rank, group in enumerate(window)}
        rank_of = {run: group_rank[group] for run, group in group_of.items() if group in group_rank}
        picked = list(compress(range(n), map(rank_of.__contains__, found_runs)))
        ranks = list(map(rank_of.__getitem__, map(found_runs.__getitem__, picked)))
        by_rank = list(map(picked.__getitem__, sorted(range(len(picked)), key=ranks.__getitem__)))
        w_tags = list(map(tags.__getitem__, by_rank))
        w_texts = w_tags if texts is tags else list(map(texts.__getitem__, by_rank))
        w_ranks = sorted(ranks)
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
            bound = window[start] if start < len(window) else after_window
            if bound is None or group_of_key(best[0]) > bound:
                return best
    return best
