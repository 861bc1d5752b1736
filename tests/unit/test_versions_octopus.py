"""Octopus version parsing and ordering (docs/versions.md), as table tests and ordering laws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockerfeed.versions import OctopusVersion, parse_octopus
from dockerfeed.versions.octopus import octopus_key


def parts(tag: str) -> tuple[int, int, int, int, str, str]:
    v = parse_octopus(tag)
    assert v is not None, tag
    return (v.major, v.minor, v.patch, v.revision, v.prerelease, v.metadata)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.2.3", (1, 2, 3, 0, "", "")),
        ("1.2.3.4", (1, 2, 3, 4, "", "")),
        ("1.2", (1, 2, 0, 0, "", "")),
        ("7", (7, 0, 0, 0, "", "")),
        ("v1.0", (1, 0, 0, 0, "", "")),
        ("V2.1.0", (2, 1, 0, 0, "", "")),
        ("01.1.1", (1, 1, 1, 0, "", "")),  # leading zeros are fine
        ("1.01.001", (1, 1, 1, 0, "", "")),
        ("1_2_3", (1, 0, 0, 0, "2_3", "")),  # only `.` separates numbers
        ("1.0myfeature", (1, 0, 0, 0, "myfeature", "")),  # separator is optional
        ("19.0.0.Final", (19, 0, 0, 0, "Final", "")),
        ("1.0.0-alpha.beta", (1, 0, 0, 0, "alpha.beta", "")),
        ("1.1.2-prerelease+meta", (1, 1, 2, 0, "prerelease", "meta")),
        ("1.1.2+meta-valid", (1, 1, 2, 0, "", "meta-valid")),
        ("1.2.3----RC-SNAPSHOT.12.9.1--.12+788", (1, 2, 3, 0, "---RC-SNAPSHOT.12.9.1--.12", "788")),
        ("284.0.0-debian_component_based", (284, 0, 0, 0, "debian_component_based", "")),
        ("1.0.0-alpha.......1", (1, 0, 0, 0, "alpha.......1", "")),
        ("1.25.3-alpine3.18", (1, 25, 3, 0, "alpine3.18", "")),
        ("3.12.0rc1-slim-bookworm", (3, 12, 0, 0, "rc1-slim-bookworm", "")),
        ("16.1-bookworm", (16, 1, 0, 0, "bookworm", "")),
        ("latest", (0, 0, 0, 0, "latest", "")),  # words are 0.0.0.0-<word>
        ("stable", (0, 0, 0, 0, "stable", "")),
        ("stable-perl", (0, 0, 0, 0, "stable-perl", "")),
        ("mainline", (0, 0, 0, 0, "mainline", "")),
        ("2147483647.0", (2147483647, 0, 0, 0, "", "")),  # Int32.MaxValue still fits
        (" 1.2.3 ", (1, 2, 3, 0, "", "")),  # whitespace around numbers is tolerated
        ("1 . 2", (1, 2, 0, 0, "", "")),
    ],
)
def test_parse(tag: str, expected: tuple[int, int, int, int, str, str]) -> None:
    assert parts(tag) == expected
    assert octopus_key(tag) is not None


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "   ",
        "2147483648",  # above 2^31-1: the parse fails
        "1.2147483648",
        "1.1.1.99999999999",
        "1.0/beta",
        "1.0%",
        "1.0?",
        "1.0#2",
        "1.0&x",
        "1.0'",
        '1.0"',
        "1.0;",
        "1.0\t",
        "1.0\nbeta",
        "1.0.0-be ta",  # inner space in the pre-release
        "1.0.0+me ta",  # inner space in the metadata
        "1.0\n",  # Python's `$` would have accepted this; Octopus's anchors do not
    ],
)
def test_rejected(tag: str) -> None:
    assert parse_octopus(tag) is None
    assert octopus_key(tag) is None


def v(tag: str) -> OctopusVersion:
    version = parse_octopus(tag)
    assert version is not None, tag
    return version


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("1.0", "1.1"),
        ("1.9", "1.10"),
        ("1.0.0-2", "1.0.0.1"),
        ("1.0.0-beta", "1.0.0"),  # release above pre-release
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),  # numeric labels compare as numbers
        ("1.0.0-beta10", "1.0.0-beta2"),  # one label: compared as text
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.0.0-1", "1.0.0-a"),  # numeric < alphabetic
        ("1.0.0-alpha", "1.0.0-BETA"),  # case-insensitive
        ("latest", "0.0.1"),  # Docker's latest sorts below every real version
        ("latest", "1.0.0"),
        ("latest", "mainline"),
        ("mainline", "0.0.0"),
        ("0.0.0-2147483648", "0.0.0-a"),  # a label beyond Int32 is text, not a number
    ],
)
def test_order(low: str, high: str) -> None:
    assert v(low) < v(high)
    assert v(high) > v(low)
    assert v(low) != v(high)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0.0-prerelease_1", "1.0.0-prerelease.1"),  # separators are normalised
        ("1.0.0-a-b", "1.0.0-a\\b"),
        ("1.0.0+meta1", "1.0.0+meta2"),  # metadata ignored
        ("v1.0", "1.0"),  # prefix ignored
        ("1.0", "1.0.0.0"),
        ("1.0.0-Beta", "1.0.0-beta"),
        ("1.0.0-beta.01", "1.0.0-beta.1"),
        ("latest", "latest"),
    ],
)
def test_equal(a: str, b: str) -> None:
    assert v(a) == v(b)
    assert hash(v(a)) == hash(v(b))
    assert not v(a) < v(b)
    assert not v(b) < v(a)


def test_documented_chain() -> None:
    chain = ["alpha", "alpha.1", "alpha.beta", "beta", "beta.2", "beta.11", "rc.1"]
    versions = [v(f"1.0.0-{label}") for label in chain] + [v("1.0.0")]
    assert sorted(reversed(versions)) == versions
    assert [x.original for x in sorted(reversed(versions))][-1] == "1.0.0"


def test_latest_is_not_a_prerelease() -> None:
    assert not v("latest").is_prerelease
    assert v("1.0.0-latest").is_prerelease
    assert v("Latest").is_prerelease  # only the exact tag is special
    assert v("stable").is_prerelease


def test_display_and_release_label() -> None:
    assert v("1.2").display() == "1.2.0"
    assert v("v1.2.0.5-beta.1+abc").display() == "1.2.0.5-beta.1"
    assert v("1.2.0-beta+abc").release_label == "beta+abc"
    assert v("1.2.0+abc").release_label == "+abc"
    assert v("1.2.0").release_label == ""


def test_key_functions_agree() -> None:
    for tag in ["1.2.3", "latest", "3.12.0rc1-slim", "1.0+m", "v2"]:
        key = octopus_key(tag)
        assert key is not None
        assert key[0] == v(tag).key


# --- properties ------------------------------------------------------------------------------

_label = st.text(alphabet="abcAB019", min_size=1, max_size=4)
_tags = st.one_of(
    st.builds(
        lambda prefix, nums, sep, labels, meta: (
            prefix
            + ".".join(str(n) for n in nums)
            + (sep + ".".join(labels) if labels else "")
            + (f"+{meta}" if meta else "")
        ),
        st.sampled_from(["", "v", "V"]),
        st.lists(st.integers(0, 30), min_size=1, max_size=4),
        st.sampled_from(["-", ".", "_", ""]),
        st.lists(_label, max_size=3),
        st.sampled_from(["", "b1", "x.y"]),
    ),
    st.sampled_from(["latest", "stable", "mainline", "stable-perl", "0.0.0", "1", "1.0"]),
    st.text(alphabet="0123456789.-_+vabzAZ \\/%", max_size=12),
)


@given(_tags)
def test_original_is_kept(tag: str) -> None:
    version = parse_octopus(tag)
    if version is not None:
        assert version.original == tag
        assert str(version) == tag


@given(_tags, _tags)
def test_order_is_total_and_antisymmetric(a: str, b: str) -> None:
    va, vb = parse_octopus(a), parse_octopus(b)
    if va is None or vb is None:
        return
    assert (va < vb) + (va == vb) + (va > vb) == 1
    assert (va <= vb and vb <= va) == (va == vb)
    assert (va == vb) == (hash(va) == hash(vb)) or va != vb


@given(_tags, _tags, _tags)
def test_order_is_transitive(a: str, b: str, c: str) -> None:
    parsed = [parse_octopus(t) for t in (a, b, c)]
    versions = [p for p in parsed if p is not None]
    if len(versions) < 3:
        return
    x, y, z = sorted(versions)
    assert x <= y <= z
    assert x <= z


@given(_tags)
def test_equality_is_consistent_with_metadata_and_prefix(tag: str) -> None:
    version = parse_octopus(tag)
    if version is None or "+" in tag or " " in tag:  # a space before `+` is refused
        return
    assert parse_octopus(tag + "+meta") == version
    if tag[:1].isdigit():
        assert parse_octopus("v" + tag) == version
