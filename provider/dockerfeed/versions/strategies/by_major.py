"""The highest (major, minor) groups first: a long tag list is grouped by each tag's leading
numbers with C-level passes, and the exact scan runs on the highest groups only, stopping at the
first winner (docs/design.md; the hypothesis tests compare it with one full scan)."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import compress

from dockerfeed.versions.strategies.keys import SMALL_INTS, Best, Head, SortKey, SpanFilter

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
    small = SMALL_INTS.get
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

