"""select_latest on realistic tag lists, every strategy, and the why-not explanations."""

from __future__ import annotations

import random
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockerfeed.versions import Reason, Selection, TagList, VersionRule, select_latest
from dockerfeed.versions import select as select_module
from dockerfeed.versions.strategies import by_major, run_tiers

# Shapes of real official-image tag lists (hand-written, abridged).
NGINX = [
    "1.24.0", "1.24.0-alpine", "1.24.0-alpine-perl", "1.24.0-bullseye", "1.24.0-perl",
    "1.24", "1.24-alpine", "1.25.3", "1.25.3-alpine", "1.25.3-alpine3.18", "1.25.3-alpine-perl",
    "1.25.3-bookworm", "1.25.3-perl", "1.25", "1.25-alpine", "1.25.4", "1.25.4-alpine",
    "1.25.4-alpine3.18", "1.26.0", "1.26.0-alpine", "1.26", "1.27.0-alpine-slim",
    "mainline", "mainline-alpine", "mainline-perl", "stable", "stable-alpine", "stable-perl",
    "latest", "alpine", "perl", "alpine-perl", "bookworm",
]  # fmt: skip
NODE = [
    "18.19.0", "18.19.0-alpine", "18.19.0-bookworm-slim", "18", "18-alpine", "hydrogen",
    "lts-hydrogen", "20.10.0", "20.10.0-alpine3.18", "20.10.0-bookworm", "20.11.0",
    "20.11.0-alpine", "20.11.0-slim", "20", "20-alpine", "20-slim", "iron", "lts", "lts-iron",
    "21.5.0", "21.5.0-alpine", "21", "current", "current-alpine", "latest", "alpine", "slim",
]  # fmt: skip
POSTGRES = [
    "15.5", "15.5-bookworm", "15.5-alpine", "15", "15-alpine", "16.0", "16.1", "16.1-bookworm",
    "16.1-bullseye", "16.1-alpine3.19", "16", "16-bookworm", "16-alpine", "17beta1",
    "17beta1-bookworm", "17rc1", "latest", "alpine", "bookworm",
]  # fmt: skip
PYTHON = [
    "3.11.7", "3.11.7-slim", "3.11.7-slim-bookworm", "3.11", "3.11-alpine", "3.12.0",
    "3.12.0rc1", "3.12.0rc1-slim-bookworm", "3.12.0rc3-alpine", "3.12.1", "3.12.1-slim",
    "3.12.1-slim-bookworm", "3.12.1-alpine3.19", "3.12", "3.12-slim", "3.13.0a2",
    "3.13.0a2-slim-bookworm", "3.13.0b1", "3.13-rc", "3", "3-slim", "slim", "latest",
    "windowsservercore-ltsc2022", "3.12.1-windowsservercore-ltsc2022",
]  # fmt: skip
REDIS = [
    "7.0.15", "7.0.15-alpine", "7.2.3", "7.2.3-alpine", "7.2.3-alpine3.19", "7.2.3-bookworm",
    "7.2.4", "7.2.4-alpine", "7.2", "7.2-alpine", "7", "7-alpine", "7.4-rc1", "7.4-rc1-alpine",
    "latest", "alpine", "bookworm",
    "sha256-3b1c8b3a8f0e3c4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f.sig",
    "sha256-3b1c8b3a8f0e3c4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f.att",
    "sha256-3b1c8b3a8f0e3c4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f.sbom",
]  # fmt: skip
WEBAPP = [  # a CI-built application image
    "v1.0.0", "v1.1.0", "v1.2.0-beta.1", "v1.2.0-beta.2", "v1.2.0-rc.1", "v1.2.0", "v1.2.1",
    "v2.0.0-alpha.1", "v2.0.0-alpha.2", "v2.0.0-beta.1", "main", "main-3f9a2c1", "3f9a2c1",
    "pr-142", "latest",
]  # fmt: skip


def pick(tags: list[str], *, current: str | None = None, **kwargs: object) -> str | None:
    selection = select_latest(tags, VersionRule.build(**kwargs), current=current)  # type: ignore[arg-type]
    return selection.winner.tag if selection.winner else None


@pytest.mark.parametrize(
    ("tags", "kwargs", "current", "winner"),
    [
        # nginx
        (NGINX, {}, None, "1.27.0-alpine-slim"),
        (NGINX, {"pre_release_tag": "^$"}, None, "1.26.0"),
        (NGINX, {"version_range": "[1.25,1.26)", "pre_release_tag": "^$"}, None, "1.25.4"),
        (NGINX, {"pre_release_tag": "^alpine$"}, None, "1.26.0-alpine"),
        (NGINX, {"tag_include": r"^\d+\.\d+\.\d+-perl$"}, None, "1.25.3-perl"),
        (NGINX, {"strategy": "docker", "variant": "alpine"}, None, "1.26.0-alpine"),
        (NGINX, {"strategy": "docker"}, "1.25-alpine", "1.25-alpine"),  # no 1.26-alpine yet
        (NGINX, {"strategy": "docker"}, "1.24.0-perl", "1.25.3-perl"),
        (NGINX, {"strategy": "docker"}, "1.24", "1.26"),
        (NGINX, {"strategy": "docker", "version_range": "~1.25"}, "1.25.3", "1.25.4"),
        (NGINX, {"strategy": "alphabetical", "tag_include": "^stable"}, None, "stable-perl"),
        # node
        (NODE, {"pre_release_tag": "^$"}, None, "21.5.0"),  # `21` is 21.0.0.0
        (NODE, {"version_range": "^20", "pre_release_tag": "^$"}, None, "20.11.0"),
        (NODE, {"version_range": "~18"}, None, "18.19.0"),  # suffixes are pre-releases
        (NODE, {"strategy": "docker", "variant": "alpine"}, "18-alpine", "20-alpine"),
        (NODE, {"strategy": "docker"}, "20.10.0-alpine3.18", "20.10.0-alpine3.18"),
        (NODE, {"strategy": "semver", "version_range": "<21"}, None, "20.11.0"),
        # postgres
        (POSTGRES, {"pre_release_tag": "^$"}, None, "16.1"),
        (POSTGRES, {}, None, "17rc1"),
        (POSTGRES, {"strategy": "docker", "variant": "bookworm"}, "16-bookworm", "17beta1-bookworm"),
        (
            POSTGRES,
            {"strategy": "docker", "variant": "bookworm", "pre_release_tag": "^$"},
            "15-bookworm",
            "16-bookworm",
        ),
        (POSTGRES, {"strategy": "docker", "variant": "bookworm"}, "15.5-bookworm", "16.1-bookworm"),
        (POSTGRES, {"strategy": "docker"}, "16.0", "16.1"),  # 17rc1 has one number
        (POSTGRES, {"strategy": "docker"}, "15", "17rc1"),
        (POSTGRES, {"strategy": "docker", "pre_release_tag": "^$"}, "16.0", "16.1"),
        # python
        (PYTHON, {"pre_release_tag": "^$"}, None, "3.12.1"),
        (PYTHON, {"strategy": "pep440"}, None, "3.13-rc"),  # PEP 440 reads it as 3.13rc0
        (PYTHON, {"strategy": "pep440", "pre_release_tag": "^$"}, None, "3.12.1"),
        (PYTHON, {"strategy": "pep440", "version_range": ">=3.12 <3.13"}, None, "3.12.1"),
        (
            PYTHON,
            {
                "strategy": "pep440",
                "tag_include": r"^(?P<version>[^-]+)-slim-bookworm$",
            },
            None,
            "3.13.0a2-slim-bookworm",
        ),
        (PYTHON, {"strategy": "docker", "variant": "slim-bookworm"}, None, "3.13.0a2-slim-bookworm"),
        (
            PYTHON,
            {"strategy": "docker", "variant": "slim-bookworm", "pre_release_tag": "^$"},
            None,
            "3.12.1-slim-bookworm",
        ),
        (PYTHON, {"strategy": "docker"}, "3.11-slim", "3.12-slim"),
        # redis: signatures never win, even though `sha256-…` parses as a word
        (REDIS, {"pre_release_tag": "^$"}, None, "7.2.4"),
        (REDIS, {"tag_exclude": ["-rc"]}, None, "7.2.4"),
        (REDIS, {"strategy": "alphabetical"}, None, "latest"),
        (REDIS, {"strategy": "docker"}, "7-alpine", "7-alpine"),
        (REDIS, {"version_range": "[7.4.0-0,7.5)"}, None, "7.4-rc1-alpine"),
        # CI-built application
        # Octopus reads the commit id `3f9a2c1` as 3.0.0.0-f9a2c1, above every v2 tag: the
        # reason the docker strategy refuses commit ids, and a case for a pre-release rule.
        (WEBAPP, {}, None, "3f9a2c1"),
        (WEBAPP, {"tag_include": "^v"}, None, "v2.0.0-beta.1"),
        (WEBAPP, {"pre_release_tag": "^$"}, None, "v1.2.1"),
        (WEBAPP, {"pre_release_tag": "^(beta|rc)"}, None, "v2.0.0-beta.1"),
        (WEBAPP, {"pre_release_tag": "^(?!alpha).+|^$", "version_range": "<2"}, None, "v1.2.1"),
        (WEBAPP, {"version_range": "[2.0.0-alpha.1,2.0.0)"}, None, "v2.0.0-beta.1"),
        (WEBAPP, {"strategy": "semver"}, None, "v1.2.1"),
        (WEBAPP, {"strategy": "semver", "version_range": ">=2.0.0-0"}, None, "v2.0.0-beta.1"),
        (WEBAPP, {"strategy": "docker"}, None, "v1.2.1"),
        (WEBAPP, {"strategy": "numerical", "tag_include": r"^pr-(?P<version>\d+)$"}, None, "pr-142"),
    ],
)
def test_realistic_winners(
    tags: list[str], kwargs: dict[str, object], current: str | None, winner: str
) -> None:
    assert pick(tags, current=current, **kwargs) == winner


def test_floating_major_is_below_its_releases() -> None:
    # Octopus reads `21` as 21.0.0.0, so the full 21.5.0 wins over the floating tag.
    assert pick(["21", "21.5.0"]) == "21.5.0"
    assert pick(["21", "21.0.0"]) == "21.0.0"  # equal versions: the greater text wins


def test_latest_only_wins_alone() -> None:
    assert pick(["latest", "0.0.1"]) == "0.0.1"
    assert pick(["latest", "mainline"]) == "mainline"
    assert pick(["latest"]) == "latest"
    assert pick(["latest"], pre_release_tag="^$") is None  # its label is `latest`
    assert pick(["latest", "1.0"], pre_release_tag=r"^(?!latest\b).+$|^$") == "1.0"


def test_ties_break_by_tag_text() -> None:
    assert pick(["1.0", "v1.0", "1.0.0"]) == "v1.0"
    assert pick(["1.0.0+b", "1.0.0+a"]) == "1.0.0+b"
    assert pick(["1.0.0+a", "1.0.0+b"]) == "1.0.0+b"
    eligible = select_latest(["v1.0", "1.0.0", "1.0"], VersionRule.build()).eligible
    assert [c.tag for c in eligible] == ["1.0", "1.0.0", "v1.0"]


def test_prerelease_rule_sees_metadata() -> None:
    tags = ["1.0.0+build5", "0.9.0"]
    assert pick(tags, pre_release_tag="^$") == "0.9.0"
    assert pick(tags, pre_release_tag=r"^(|\+.*)$") == "1.0.0+build5"
    assert pick(["1.0.0-beta", "0.9.0"], pre_release_tag=r"^[^\+].*") == "1.0.0-beta"


def test_regexes_use_search_semantics() -> None:
    tags = ["1.0-alpine", "2.0-alpine-perl", "3.0"]
    assert pick(tags, tag_include="alpine") == "2.0-alpine-perl"
    assert pick(tags, tag_include="alpine$") == "1.0-alpine"
    assert pick(tags, tag_exclude=["perl"]) == "3.0"


def test_eligible_is_ascending_and_ends_with_the_winner() -> None:
    selection = select_latest(NGINX, VersionRule.build(pre_release_tag="^$"))
    tags = [c.tag for c in selection.eligible]
    assert tags == ["latest", "1.24", "1.24.0", "1.25", "1.25.3", "1.25.4", "1.26", "1.26.0"][1:]
    assert selection.eligible[-1] == selection.winner
    assert selection.winner is not None and selection.winner.version == "1.26.0"


def test_counts_and_explain_when_nothing_matches() -> None:
    selection = select_latest(
        [*REDIS, "not/a/tag"],
        VersionRule.build(version_range="[8.0,)", tag_exclude=["^alpine$"]),
    )
    assert selection.winner is None
    assert selection.considered == len(REDIS) + 1
    assert selection.rejected[Reason.SIGNATURE] == 3
    assert selection.rejected[Reason.EXCLUDE] == 1
    assert selection.rejected[Reason.UNPARSEABLE] == 1
    assert selection.rejected[Reason.RANGE] == len(REDIS) - 3 - 1
    assert selection.parsed == len(REDIS) - 3 - 1
    text = selection.explain()
    assert text.startswith("no tag matched (strategy octopus, versionRange [8.0,)")
    assert "3 are signature/attestation tags" in text
    assert "are outside versionRange [8.0,)" in text
    assert "1 are not octopus versions" in text
    assert "hint: widen versionRange" in text


def test_explain_for_no_tags() -> None:
    selection = select_latest([], VersionRule.build())
    assert selection.winner is None
    assert "no tags" in selection.explain()


def test_semver_offers_prereleases_only_when_the_range_names_one() -> None:
    tags = ["1.0.0", "1.1.0-rc.1", "1.0.1+build"]
    assert pick(tags, strategy="semver") == "1.0.1+build"
    assert pick(tags, strategy="semver", version_range=">=1.0.0-0") == "1.1.0-rc.1"
    # An explicit pre-release rule decides instead of the default.
    assert pick(tags, strategy="semver", pre_release_tag="^rc") == "1.1.0-rc.1"
    selection = select_latest(tags, VersionRule.build(strategy="semver"))
    assert selection.rejected[Reason.PRERELEASE] == 1


def test_semver_is_strict() -> None:
    tags = ["1.2", "01.2.3", "1.2.3.4", "1.2.3-beta", "v1.2.2", "1.2.1"]
    selection = select_latest(tags, VersionRule.build(strategy="semver"))
    assert selection.winner is not None and selection.winner.tag == "v1.2.2"
    assert selection.rejected[Reason.UNPARSEABLE] == 3


def test_docker_strategy_rejects_latest_and_commit_ids() -> None:
    tags = ["latest", "a1b2c3d", "1a2b3c4", "1.0", "20240101"]
    selection = select_latest(tags, VersionRule.build(strategy="docker"))
    assert selection.winner is not None and selection.winner.tag == "20240101"
    assert selection.rejected[Reason.UNPARSEABLE] == 3
    reasons = {r["tag"]: r["detail"] for r in selection.as_dict()["rejections"]}  # type: ignore[attr-defined]
    assert "not a version" in reasons["latest"]
    assert "git commit" in reasons["1a2b3c4"]


def test_docker_variant_and_part_count_come_from_current() -> None:
    tags = ["1.25-alpine", "1.26-alpine", "1.26.1-alpine", "1.27", "1.27-perl"]
    rule = VersionRule.build(strategy="docker")
    selection = select_latest(tags, rule, current="1.25-alpine")
    assert selection.winner is not None and selection.winner.tag == "1.26-alpine"
    assert selection.rejected[Reason.VARIANT] == 3
    # An explicit variant beats the current tag's; the part count still comes from current.
    explicit = VersionRule.build(strategy="docker", variant="perl")
    assert pick(tags, current="1.25-alpine", strategy="docker", variant="perl") == "1.27-perl"
    assert select_latest(tags, explicit).winner is not None


def test_numerical_and_alphabetical() -> None:
    tags = ["build-9", "build-10", "build-100", "release"]
    assert pick(tags, strategy="alphabetical") == "release"
    assert pick(tags, strategy="alphabetical", tag_include="^build-") == "build-9"
    assert pick(tags, strategy="numerical", tag_include=r"^build-(?P<version>\d+)$") == "build-100"
    assert pick(["1.5", "10", "2.25", "-3"], strategy="numerical") == "10"
    selection = select_latest(tags, VersionRule.build(strategy="numerical"))
    assert selection.winner is None
    assert "hint: try another strategy" in selection.explain()


def test_as_dict() -> None:
    selection = select_latest(["1.0", "2.0-beta", "x/y"], VersionRule.build(pre_release_tag="^$"))
    data = selection.as_dict()
    assert data["tag"] == "1.0"
    assert data["version"] == "1.0.0"
    assert data["winner"] == {
        "tag": "1.0",
        "version": "1.0.0",
        "parts": {
            "major": 1,
            "minor": 0,
            "patch": 0,
            "revision": 0,
            "prerelease": "",
            "metadata": "",
            "isPrerelease": False,
        },
    }
    assert data["rejected"] == {
        "signature": 0,
        "include": 0,
        "exclude": 0,
        "unparseable": 1,
        "variant": 0,
        "range": 0,
        "prerelease": 1,
    }
    assert data["rejections"] == [
        {"tag": "2.0-beta", "reason": "prerelease", "detail": "pre-release of 2.0.0-beta refused by '^$'"},
        {"tag": "x/y", "reason": "unparseable", "detail": "contains '/', which Octopus versions cannot"},
    ]  # fmt: skip


# --- the fast winner path agrees with the complete pass --------------------------------------

_tag = st.one_of(
    st.sampled_from(NGINX + NODE + POSTGRES + PYTHON + REDIS + WEBAPP),
    st.from_regex(r"\Av?[0-9]{1,2}(\.[0-9]{1,2}){0,4}([.\-_]?[a-z]{0,3}[0-9]?)?\Z"),
    st.text(alphabet="0123456789.-_+vab \\", max_size=8),
)
_rules = st.sampled_from(
    [
        {},
        {"pre_release_tag": "^$"},
        {"version_range": "[1.0,20.0)"},
        {"version_range": "^1.2 || ~3", "pre_release_tag": "^(|[a-z].*)$"},
        {"version_range": "(,1.0]"},
        {"tag_include": r"^\d", "tag_exclude": ["b"]},
        {"strategy": "docker"},
        {"strategy": "docker", "variant": "alpine", "version_range": ">=1.2"},
        {"strategy": "semver"},
        {"strategy": "pep440"},
        {"strategy": "alphabetical"},
        {"strategy": "numerical"},
    ]
)


@settings(max_examples=300)
@given(st.lists(_tag, max_size=25), _rules, st.sampled_from([None, "1.25-alpine", "1.0", "x"]))
def test_winner_is_the_top_of_the_eligible_list(
    tags: list[str], kwargs: dict[str, object], current: str | None
) -> None:
    rule = VersionRule.build(**kwargs)  # type: ignore[arg-type]
    selection = select_latest(tags, rule, current=current)
    eligible = selection.eligible
    if not eligible:
        assert selection.winner is None
        return
    assert selection.winner == eligible[-1]
    keys = [(c.sort_key, c.tag) for c in eligible]
    assert keys == sorted(keys)
    counted = sum(selection.rejected.values()) + len(eligible)
    assert counted == selection.considered == len(tags)


@pytest.mark.parametrize(
    ("tags", "winner"),
    [
        (["1.24.0", " 2"], " 2"),  # found by hypothesis: a leading space hid the numbers
        (["1.1", "1 .2"], "1 .2"),  # Octopus allows spaces between the numbers too
        (["1.1", " v 3"], " v 3"),
        (["2.0", "1 .2"], "2.0"),
    ],
)
def test_spaces_around_numbers_do_not_let_the_fast_path_prune_a_winner(tags: list[str], winner: str) -> None:
    selection = select_latest(tags, VersionRule.build())
    assert selection.winner is not None and selection.winner.tag == winner
    assert selection.eligible[-1].tag == winner


# --- grouping by major (long lists) agrees with one full scan ---------------------------------

_MAJORS = [
    "0", "1", "01", "2", "9", "10", "19", "20", "24", "2024", "2147483647", "2147483648",
    "02147483648", "2999999999", "3000000000", "9007199254740993", "2147483647.99999999999999999",
    "1.99999999999999999", "9.0000000000000000001", "00000000001", "99999999999999999999999",
]  # fmt: skip
_major_tag = st.one_of(
    _tag,
    # Many majors, leading zeros, `v`, numbers beyond Int32 and beyond a digit run's usual size;
    # and runs that floats round across an integer (the tiers of run_tiers.py).
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "v", "V", "vv", " ", "v ", ".", "1!", "\t", "0"]),
        st.sampled_from(_MAJORS) | st.from_regex(r"\A0{0,3}[0-9]{1,22}\Z"),
        st.sampled_from(
            ["", ".0", ".1.2", "-alpine", ".2-alpine", "rc1", "-beta.2", "+m", ".x", "\n3", ".post1", "!1"]
        )
        | st.from_regex(r"\A(\.[0-9]{1,13}){1,3}(-alpine|rc1)?\Z"),
    ),
)
_long_rules = st.sampled_from(
    [
        {},
        {"version_range": "[1.0,20.0)", "pre_release_tag": "^$"},
        {"version_range": ">=1.2 <10 || ^12"},
        {"tag_include": r"^\d+\.\d+\.\d+$", "tag_exclude": [r"^0\."]},
        {"strategy": "docker", "variant": "alpine"},
        {"strategy": "docker"},
        {"strategy": "semver"},
        {"strategy": "semver", "version_range": ">=2.0.0-0"},
        {"pre_release_tag": "^beta"},
        {"version_range": "(,1.0]"},
        {"tag_include": r"^v?(?P<version>.+)$"},
        {"tag_include": r"^[a-z]*-?(?P<version>[0-9].*)$", "strategy": "docker"},
        {"strategy": "docker", "version_range": "[1.0,20.0)"},
        {"strategy": "docker", "variant": "nomatch"},
        {"strategy": "pep440"},
        {"strategy": "pep440", "version_range": "[1.0,20.0)", "pre_release_tag": "^$"},
        {"strategy": "alphabetical", "tag_include": r"^\d"},
        {"strategy": "alphabetical"},
        {"strategy": "numerical"},
        {"strategy": "numerical", "tag_include": r"^(?P<version>\d+)"},
        # Unanchored, several matches a tag, and a pattern no pass may run (`(?s)`): batches are
        # narrowed by the first two and asked tag by tag about the last.
        {"tag_include": r"\d-?[a-z]", "tag_exclude": ["rc", r"^v"]},
        {"strategy": "docker", "variant": "alpine", "tag_include": "alpine$", "tag_exclude": [r"(?s)^2.*"]},
        {"strategy": "semver", "tag_exclude": [r"\.0", r"^1"]},
    ]
)


def _select_grouped(
    tags: list[str],
    rule: VersionRule,
    current: str | None,
    batch_from: int,
    first_window: int = 21,
    first_tier: int | None = None,
    probe: bool = False,
) -> Selection:
    """Grouped from `batch_from` tags on, and then with every batch narrowed by one pass per
    pattern, however short; a `batch_from` no list reaches is the exact scan alone. With
    `first_tier`, the distinct runs are read in tiers of that many runs and more, however few.
    With `probe`, the tags of the longest majors in the sample are tried first, however many."""
    with (
        patch.object(by_major, "BATCH_FROM", batch_from),
        patch.object(by_major, "_FIRST_WINDOW", first_window),
        patch.object(by_major, "TIER_FROM", 10**9 if first_tier is None else 0),
        patch.object(run_tiers, "_FIRST_TIER", first_tier or 1),
        patch.object(run_tiers, "_TIER_GROWTH", 2),
        patch.object(select_module, "_NARROW_FROM", 0 if batch_from < 10**9 else 10**9),
        patch.object(by_major, "_PROBE_DIGITS", 1 if probe else 10**9),
        patch.object(by_major, "_PROBE_SHARE", 1),
    ):
        return select_latest(tags, rule, current=current)


@settings(max_examples=400)
@given(st.lists(_major_tag, max_size=40), _long_rules, st.sampled_from([None, "1.25-alpine", "1.0"]))
def test_grouping_by_major_finds_the_winner_of_a_full_scan(
    tags: list[str], kwargs: dict[str, object], current: str | None
) -> None:
    rule = VersionRule.build(**kwargs)  # type: ignore[arg-type]
    grouped = _select_grouped(tags, rule, current, 0)
    # One group per first window, so that later windows (and their growth) are exercised too.
    windowed = _select_grouped(tags, rule, current, 0, first_window=1)
    # The runs read in tiers of the highest majors, from one run on.
    tiered = _select_grouped(tags, rule, current, 0, first_tier=1)
    # The tags of the longest majors first (every list that has any).
    probed = _select_grouped(tags, rule, current, 0, probe=True)
    scanned = _select_grouped(tags, rule, current, 10**9)
    assert grouped.winner == windowed.winner == tiered.winner == probed.winner == scanned.winner
    eligible = scanned.eligible
    assert grouped.winner == (eligible[-1] if eligible else None)


@settings(max_examples=300)
@given(
    st.lists(_major_tag, max_size=40),
    st.lists(st.tuples(_long_rules, st.sampled_from([None, "1.25-alpine", "1.0"])), min_size=2, max_size=4),
)
def test_rules_sharing_one_tag_list_find_what_each_finds_alone(
    tags: list[str], picks: list[tuple[dict[str, object], str | None]]
) -> None:
    # What one rule's grouping leaves on the TagList is reused by the next, whatever the rule,
    # the strategy and the current tag: every winner is still that of one full scan.
    shared = TagList(tags)
    for kwargs, current in picks:
        rule = VersionRule.build(**kwargs)  # type: ignore[arg-type]
        scanned = _select_grouped(tags, rule, current, 10**9)
        assert _select_grouped(shared, rule, current, 0).winner == scanned.winner, kwargs  # type: ignore[arg-type]
        assert _select_grouped(shared, rule, current, 0, first_tier=1).winner == scanned.winner, kwargs  # type: ignore[arg-type]


def test_rules_sharing_one_tag_list_read_its_lines_once() -> None:
    # 100 ImageVersions of one repository with 100,000 tags select from one listing: the pass
    # that groups the tags by their leading numbers is made once per listing and run pattern,
    # not once per rule (issue 11, point 13).
    tags = TagList(
        f"{major}.{minor}.{patch}" for major in range(40) for minor in range(30) for patch in range(5)
    )
    assert len(tags) > by_major.BATCH_FROM
    rules = [
        VersionRule.build(),
        VersionRule.build(version_range="[1.0,20.0)", pre_release_tag="^$"),
        VersionRule.build(version_range="[5,6)"),
        VersionRule.build(pre_release_tag="^$"),
    ]
    with patch.object(by_major, "_read_lines", wraps=by_major._read_lines) as read_lines:
        winners = [select_latest(tags, rule).winner for rule in rules]
        assert read_lines.call_count == 1
        select_latest(tags, VersionRule.build(strategy="semver"))  # another run pattern
        assert read_lines.call_count == 2
        select_latest(list(tags), VersionRule.build())  # a plain list keeps nothing
        assert read_lines.call_count == 3
    assert [w.tag if w else None for w in winners] == ["39.29.4", "19.29.4", "5.29.4", "39.29.4"]
    assert select_latest(tags, rules[0]).tags is tags  # the selection reads the list it was given


def test_grouping_by_major_on_a_long_realistic_list() -> None:
    rnd = random.Random(7)
    variants = ["", "-alpine", "-slim", "rc1", "-rc.1", "-beta.2", "+build.5"]
    tags = sorted(
        {
            f"{rnd.choice(['', 'v'])}{rnd.randint(0, 30)}.{rnd.randint(0, 30)}.{rnd.randint(0, 9)}"
            f"{rnd.choice(variants)}"
            for _ in range(6000)
        }
        | {f"2024.{m:02d}.{d:02d}.1" for m in range(1, 13) for d in range(1, 29)}
        | {"latest", "main-3f9a2c1", "3f9a2c1", "sha256-0a1b.sig"}
    )
    assert len(tags) > by_major.BATCH_FROM
    rules: list[dict[str, object]] = [
        {},
        {"version_range": "[1.0,20.0)", "pre_release_tag": "^$"},
        {"version_range": ">=1.2 <10 || ^12"},
        {"tag_include": r"^\d+\.\d+\.\d+$", "tag_exclude": [r"^0\."]},
        {"strategy": "docker", "variant": "alpine"},
        {"strategy": "semver", "version_range": "<3"},
        {"pre_release_tag": "^beta"},
        {"pre_release_tag": "^nothing-has-this$"},
        {"version_range": "[50,60)"},
    ]
    for kwargs in rules:
        rule = VersionRule.build(**kwargs)  # type: ignore[arg-type]
        grouped = select_latest(tags, rule)
        scanned = _select_grouped(tags, rule, None, 10**9)
        assert grouped.winner == scanned.winner, kwargs


@pytest.mark.parametrize(
    ("tags", "kwargs", "winner"),
    [
        (["5", " 7"], {}, " 7"),  # spaces before the numbers: the leading digits are not the major
        (["1\n", "5.5", "7"], {"version_range": "[5,6)"}, "5.5"),  # a newline inside a tag
        (["99999999999", "3"], {}, "3"),  # above Int32: never an Octopus version
        # ... but semver has no such limit: eleven digits are above ten
        (["9999999999.0.0", "99999999999.0.0", "1.0.0"], {"strategy": "semver"}, "99999999999.0.0"),
        (["9999999999.0.0", "0099999999999.0.0"], {"strategy": "semver"}, "9999999999.0.0"),
        (["01.2", "1.10", "v1.3"], {}, "1.10"),  # one major, three spellings
        ([".5", "0.5"], {"version_range": "(,0.4]"}, ".5"),  # 0.0.0.0-5: no major, so no minor
        (["1.9999999999.0", "1.99999999999.0"], {"strategy": "semver"}, "1.99999999999.0"),
        (["1.5-beta", "1.5", "1.40-rc"], {"pre_release_tag": "^$"}, "1.5"),
        # float rounds the first up to 2147483648.0, the tier of majors from 2147483648 on
        (["2147483647.99999999999999999", "2147483647.100000000000000000000", "2147483648"],
         {"strategy": "pep440"}, "2147483648"),
        (["2147483647.99999999999999999", "2147483647.100000000000000000000", "9.9"],
         {"strategy": "pep440"}, "2147483647.100000000000000000000"),
        # ... and so does a later tier's, when the tiers above have no winner
        (["40000000000", "30000000000", "2147483647.99999999999999999", "2147483647.100000000000000000000"],
         {"strategy": "pep440", "tag_exclude": ["^[34]"]}, "2147483647.100000000000000000000"),
        (["00000000001.5", "3000000000", "02999999999.0"], {}, "00000000001.5"),  # Int32: zeros
        (["2147483647", "2147483648", "12345678901"], {}, "2147483647"),
        (["9007199254740993", "9007199254740992", "1.0"], {"strategy": "docker"}, "9007199254740993"),
    ],
)  # fmt: skip
def test_grouping_by_major_on_unusual_tags(tags: list[str], kwargs: dict[str, object], winner: str) -> None:
    rule = VersionRule.build(**kwargs)  # type: ignore[arg-type]
    selection = _select_grouped(tags, rule, None, 0)
    assert selection.winner is not None and selection.winner.tag == winner
    tiered = _select_grouped(tags, rule, None, 0, first_tier=1)
    assert tiered.winner == selection.winner


@pytest.mark.parametrize("strategy", ["octopus", "docker", "semver", "pep440", "numerical", "alphabetical"])
@pytest.mark.parametrize(
    "text", ["1" * 5000 + ".0.0", "1." + "2" * 5000 + ".0", "9" * 4301, "1.0.0-" + "7" * 4400]
)
def test_text_longer_than_any_tag_is_no_version_and_no_crash(strategy: str, text: str) -> None:
    # A registry may list anything; Python's int() refuses more than 4,300 digits. A text longer
    # than a Docker tag's 128 characters is no version of a strategy that reads numbers
    # (alphabetical and numerical compare any text, Decimal has no digit limit).
    selection = select_latest([text, "1.0.0", "7"], VersionRule.build(strategy=strategy))  # type: ignore[arg-type]
    assert selection.winner is not None
    data = selection.as_dict()  # the complete pass, explain and every rejection's detail
    if strategy not in ("alphabetical", "numerical"):
        assert selection.winner.tag == ("1.0.0" if strategy == "semver" else "7")
        assert "128 characters" in next(r["detail"] for r in data["rejections"] if r["tag"] == text)  # type: ignore[union-attr,index]


@pytest.mark.parametrize(
    "long", ["0" * 120 + "9.1-" + "a" * 20, "9.1-" + "b" * 130, "9.1-" + "7" * 4400, "v9" + "-x" * 70]
)
def test_the_fast_path_refuses_by_length_what_the_exact_parser_refuses(long: str) -> None:
    # Small numbers, long text: the Octopus fast path must not read what octopus_key refuses.
    assert len(long) > 128
    selection = select_latest([long, "2.0"], VersionRule.build())
    assert selection.winner is not None and selection.winner.tag == "2.0"
    assert selection.winner == selection.eligible[-1] and len(selection.eligible) == 1


def test_empty_version_group_is_unparseable_in_every_path() -> None:
    """A `version` group that matches nothing leaves no version to compare: the winner path and
    the full pass (eligible, --all, explain) must agree that the tag is refused."""
    # "5.0" is included, but its version group is empty ("v1.0" gives "v1.0").
    rule = VersionRule.build(tag_include=r"^(?P<version>(?:v\d+\.\d+)?)\d*\.?\d*$")
    selection = select_latest(["5.0", "v1.0"], rule)
    assert selection.winner is not None and selection.winner.tag == "v1.0"
    assert [c.tag for c in selection.eligible] == ["v1.0"]
    assert selection.rejected[Reason.UNPARSEABLE] == 1
    only_empty = select_latest(["5.0"], rule)
    assert only_empty.winner is None and only_empty.eligible == []


# --- one pass over the joined list agrees with one search per tag ------------------------------

_fragment = st.sampled_from(
    [
        "^", "$", "a", "b", r"\d", r"\d+", "[a-c]", "[^a]", "[^\\n]", ".", r"\w*", "(?:a|b)", "(?=a)",
        "(?!b)", "(?<=a)", "(?<!1)", r"\b", r"\B", r"\s", r"\S", "x?", r"\.", "-", "1*?", "(a)",
        r"\1", "(?P<version>[0-9]+)", "(?<version>[a-z]*)", r"\A", r"\Z", "(?s:.)", "[\\s\\d]",
        "(?i:A)", "a{2}", "(?>a+)", "[^\\s]",
    ]
)  # fmt: skip


@settings(max_examples=400)
@given(
    st.lists(_fragment, min_size=1, max_size=5).map("".join),
    st.lists(st.text(alphabet="ab1.-x \tAB", max_size=7), min_size=1, max_size=12),
    st.booleans(),
)
def test_one_pass_over_the_list_finds_what_each_search_finds(
    pattern: str, texts: list[str], extract: bool
) -> None:
    import regex

    from dockerfeed.versions import patterns

    try:
        compiled = regex.compile(pattern)
    except regex.error:
        return
    group = "version" if extract and "version" in compiled.groupindex else None
    user = patterns.UserPattern("tagInclude", pattern, compiled)
    with patch.object(patterns, "LAZY_AFTER", 1):
        matcher = patterns.ListMatcher(user, patterns.Budget(5.0), texts, group)
        got = [matcher(text, text) for text in texts]
    expected = []
    for text in texts:
        m = compiled.search(text)
        value = m.group(group) if (m is not None and group) else (text if m is not None else None)
        expected.append(value)
    assert got == expected, (pattern, patterns._line_safe(pattern))
    # A pass over some of the texts alone finds every one of them that matches, with its value.
    some = texts[::2]
    answers = patterns.ListMatcher(user, patterns.Budget(5.0), texts, group).answers(some)
    if answers is not None:
        assert [answers.get(t) for t in some] == expected[::2]


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"^1\.4\.(?<version>\d+)$", "1.4."),
        (r"^ab*", "a"),  # the repeated `b` may be absent
        (r"^v?1", ""),
        (r"(?i)^abc", ""),  # case-insensitive: `ABC` matches too
        (r"^a|b", ""),  # the anchor binds one alternative only
        (r"a^", ""),
        (r"^(?:ab)c", "abc"),  # a plain group is flattened by the parser
        (r"[", ""),  # not a pattern the stdlib parser reads
    ],
)
def test_anchored_prefix_is_what_every_match_starts_with(pattern: str, prefix: str) -> None:
    from dockerfeed.versions import patterns

    assert patterns._anchored_prefix(pattern) == prefix


@pytest.mark.parametrize(
    ("texts", "irregular"),
    [
        (["1.0", "v2.1rc1", "3.0.post1"], False),
        (["1.0", "1!2.0"], True),  # an epoch: the leading digits are not the major
        (["1.0", "2.0\t"], True),
        (["1.0", "\x1c2.0"], True),  # ASCII whitespace that `\s` finds besides the usual
        (["1.0", "\u20002.0"], True),  # Unicode whitespace, which packaging strips too
        (["1.0", "\u00e92.0"], False),  # not ASCII, but no whitespace
    ],
)
def test_pep440_irregular_lists_are_found_as_the_regex_finds_them(texts: list[str], irregular: bool) -> None:
    from dockerfeed.versions.strategies import pep440

    joined = "\n" + "\n".join(texts)
    assert pep440._irregular(joined) is irregular
    assert (pep440._IRREGULAR.search(joined) is not None) is irregular


def test_a_pass_over_some_texts_leaves_the_whole_list_pass_to_come() -> None:
    import regex

    from dockerfeed.versions import patterns

    pattern = r"^1\.\d+$"
    texts = ["1.2", "2.0", "1.3", "x"]
    user = patterns.UserPattern("tagInclude", pattern, regex.compile(pattern))
    matcher = patterns.ListMatcher(user, patterns.Budget(5.0), texts, None)
    assert matcher.answers(texts[:2]) == {"1.2": "1.2"}
    assert matcher.table() == {"1.2": "1.2", "1.3": "1.3"}


def test_a_pass_that_ran_out_is_not_run_again() -> None:
    import regex

    from dockerfeed.versions import patterns

    pattern = r"^1"
    user = patterns.UserPattern("tagInclude", pattern, regex.compile(pattern))
    matcher = patterns.ListMatcher(user, patterns.Budget(5.0), ["1", "2"], None)
    with patch.object(patterns.ListMatcher, "_one_pass", return_value=None) as one_pass:
        assert matcher.answers(["1"]) is None
        assert matcher.answers(["2"]) is None
        assert matcher.table() is None
    assert one_pass.call_count == 1
    assert matcher("1", "1") == "1"  # one search at a time instead
