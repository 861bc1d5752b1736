"""The distinct runs of a long list in tiers, highest majors first (strategies/by_major.py).

An odd list has a run per tag (`20240101123456`, `99993518358056`), and reading each exactly
costs about a microsecond: tens of milliseconds before any tag is scanned. A run is digits with
at most one dot, so `float(run)` (one C-level map) is a number whose integer part is its major,
up to rounding; and rounding never crosses an integer `t` the wrong way: a run whose float is
below `t` has a major below `t`. So the runs whose float is at least `t` hold every run of major
`t` and above (and maybe a few below, which the caller drops): a tier lists them for some `t`,
and only its runs are read exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import compress

# Fewer distinct runs than this are read all at once (real lists: a few hundred).
TIER_FROM = 4096
# The first tier holds about this many runs, each next one this factor more.
_FIRST_TIER = 256
_TIER_GROWTH = 16


def tiers(runs: list[str]) -> Iterator[tuple[list[str], int]]:
    """(runs, lowest major) of each tier, highest first: a tier holds every run whose major is
    `lowest major` (above 0) or more, and maybe some of lower majors; the caller reads all the
    runs after the last. `runs` are digit runs with at most one dot, as `float` reads them."""
    values = list(map(float, runs))
    ranked = sorted(values, reverse=True)
    size, previous = _FIRST_TIER, math.inf
    while size < len(ranked) and math.isfinite(ranked[size]):
        lowest = math.floor(ranked[size])
        if lowest <= 0:
            break
        if lowest < previous:  # else this tier would hold no major the last one did not
            # float(lowest) is exact: `lowest` is the integer part of a float.
            yield list(compress(runs, map(float(lowest).__le__, values))), lowest
            previous = lowest
        size *= _TIER_GROWTH
