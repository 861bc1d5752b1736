"""The tiers of distinct runs (strategies/run_tiers.py) and Octopus's runs pattern: what the
grouped selection relies on to read only the runs of the highest majors."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from dockerfeed.versions.octopus import MAX_PART
from dockerfeed.versions.strategies import run_tiers
from dockerfeed.versions.strategies.by_major import LEADING_RUNS
from dockerfeed.versions.strategies.octopus import _OCTOPUS_RUNS

# Digit runs with at most one dot: leading zeros, long numbers, and numbers a float rounds up
# to the next integer.
_ROUNDED = [
    "2147483647.99999999999999999", "9007199254740993", "9007199254740993.9", "1.99999999999999999",
    "0", "00", "0.5", "99999999999999999999999.0",
]  # fmt: skip
_run = st.from_regex(r"\A0{0,3}[0-9]{1,25}(\.[0-9]{1,25})?\Z") | st.sampled_from(_ROUNDED)


@settings(max_examples=300)
@given(st.sets(_run, min_size=1, max_size=60), st.integers(1, 8), st.integers(2, 4))
def test_a_tier_holds_every_run_of_its_majors(runs: set[str], first: int, growth: int) -> None:
    with patch.object(run_tiers, "_FIRST_TIER", first), patch.object(run_tiers, "_TIER_GROWTH", growth):
        found = list(run_tiers.tiers(sorted(runs)))
    previous = None
    for tier, lowest in found:
        assert lowest > 0 and (previous is None or lowest < previous)
        assert set(tier) <= runs
        assert {run for run in runs if int(run.partition(".")[0]) >= lowest} <= set(tier)
        previous = lowest


_text = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "v", "V"]),
    st.from_regex(r"\A0{0,12}[0-9]{1,12}\Z")
    | st.sampled_from(["2147483647", "2147483648", "2999999999", "3000000000"]),
    st.sampled_from(["", ".0", ".12", "-alpine", ".3.4", "rc1", ".", "x"]),
)


@settings(max_examples=300)
@given(_text)
def test_octopus_runs_are_the_leading_runs_but_above_int32(text: str) -> None:
    (leading,) = LEADING_RUNS.findall("\n" + text)
    (run,) = _OCTOPUS_RUNS.findall("\n" + text)
    major = int(leading.partition(".")[0])
    if run or major <= MAX_PART:
        # The same major and minor, without the major's leading zeros; "" only above Int32.
        assert run.partition(".")[2] == leading.partition(".")[2]
        assert int(run.partition(".")[0]) == major
        assert run.partition(".")[0] == "0" or not run.startswith("0")
