"""Version ranges: NuGet/Octopus intervals (docs/versions.md, "versionRange") and semver-style constraints."""

from __future__ import annotations

import pytest

from dockerfeed.versions import STRATEGIES, VersionRange, VersionRuleError, parse_octopus

OCTOPUS = STRATEGIES["octopus"]


def in_range(text: str, tag: str, strategy: str = "octopus") -> bool:
    impl = STRATEGIES[strategy]
    key = impl.scanner(None, None)(tag)
    assert key is not None, tag
    return VersionRange.parse(text, impl).contains(key)


@pytest.mark.parametrize(
    ("range_", "inside", "outside"),
    [
        ("1.0", ["1.0", "1.0.1", "5.0", "1.0.0.1"], ["0.9", "1.0-beta", "latest"]),
        ("(1.0,)", ["1.0.0.1", "2.0"], ["1.0", "1.0.0", "0.1"]),
        ("[1.0]", ["1.0", "1.0.0.0", "v1.0", "1.0+meta"], ["1.0.0.1", "1.0-beta"]),
        ("(,1.0]", ["1.0", "0.1", "1.0-beta", "latest", "myfeature"], ["1.0.0.1"]),
        ("(,1.0)", ["0.9", "1.0-beta", "myfeature"], ["1.0", "1.1"]),
        ("[1.0,2.0]", ["1.0", "1.5", "2.0", "2.0-beta"], ["0.9", "2.0.0.1"]),
        ("(1.0,2.0)", ["1.0.1", "2.0-beta"], ["1.0", "2.0"]),
        ("[1.0,2.0)", ["1.0", "1.9.9", "2.0-rc.1"], ["2.0", "0.9"]),
        (
            "[2.0.0-alpha.1,2.0.0)",
            ["2.0.0-alpha.1", "2.0.0-alpha.2", "2.0.0-beta", "2.0.0-rc.1"],
            ["2.0.0", "2.0.0-alpha", "1.9"],
        ),
        (" [ 1.0 , 2.0 ) ", ["1.5"], ["2.0"]),
        # semver-style: caret, tilde, comparators, x-ranges, alternatives
        ("^1.2", ["1.2", "1.2.0.1", "1.9.9"], ["1.1", "2.0", "2.0-rc1", "1.2-beta"]),
        ("^1.2.3", ["1.2.3", "1.9"], ["1.2.2", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
        ("^0.0.3", ["0.0.3", "0.0.3.5"], ["0.0.4"]),
        ("^0", ["0.0.1", "0.9"], ["1.0"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("~1.2", ["1.2.0", "1.2.9"], ["1.3"]),
        ("~1", ["1.0", "1.9"], ["2.0"]),
        (">=1.2 <2", ["1.2", "1.9.9"], ["2.0", "2.0-rc1", "1.1"]),
        (">= 1.2 < 2", ["1.5"], ["2.0"]),
        (">1.2", ["1.3"], ["1.2", "1.2.5"]),  # partial: above everything 1.2 covers
        (">1.2.3.4", ["1.2.3.5"], ["1.2.3.4"]),
        ("<=1.2", ["1.2.9", "1.0"], ["1.3", "1.3-beta"]),
        ("<1.2", ["1.1.9"], ["1.2", "1.2-beta"]),  # `<V` also excludes V's pre-releases
        ("<1.2.0-beta", ["1.2.0-alpha", "1.1"], ["1.2.0-beta", "1.2.0"]),
        ("=1.2", ["1.2.0", "1.2.7"], ["1.3", "1.1"]),
        ("=1.2.3.4", ["1.2.3.4"], ["1.2.3.5"]),
        ("1.x", ["1.0", "1.99"], ["2.0", "0.9"]),
        ("1.2.*", ["1.2.0", "1.2.40"], ["1.3"]),
        ("*", ["0.0.1", "99"], []),
        ("1.x || 3.x", ["1.5", "3.0"], ["2.0", "4.0"]),
        ("^1 || ^3.1", ["1.0", "3.1", "3.9"], ["2.0", "3.0"]),
        ("~>1.2", ["1.2.5"], ["1.3"]),
        (">=2.0.0-0 <3", ["2.0.0-alpha", "2.5"], ["1.9", "3.0"]),
    ],
)
def test_octopus_ranges(range_: str, inside: list[str], outside: list[str]) -> None:
    for tag in inside:
        assert in_range(range_, tag), f"{tag} should be in {range_}"
    for tag in outside:
        assert not in_range(range_, tag), f"{tag} should not be in {range_}"


def test_words_are_below_one() -> None:
    # docs/versions.md: tags without numbers are 0.0.0.0-<label>, so `myfeature` is in (,1.0).
    assert in_range("(,1.0)", "myfeature")
    assert not in_range("[0.0.1,)", "latest")


@pytest.mark.parametrize(
    ("range_", "inside", "outside"),
    [
        ("^1.2", ["1.2.0", "1.9.9"], ["2.0.0", "2.0.0-rc.1", "1.1.9"]),
        (">=1.0.0-0 <2.0.0", ["1.0.0-alpha", "1.5.0"], ["2.0.0"]),
        ("[1.0,2.0)", ["1.0.0", "1.9.0"], ["2.0.0"]),
    ],
)
def test_semver_ranges(range_: str, inside: list[str], outside: list[str]) -> None:
    for tag in inside:
        assert in_range(range_, tag, "semver"), tag
    for tag in outside:
        assert not in_range(range_, tag, "semver"), tag


@pytest.mark.parametrize(
    ("range_", "inside", "outside"),
    [
        (">=3.12,<3.13".replace(",", " "), ["3.12.0", "3.12.7"], ["3.13.0", "3.13.0rc1"]),
        ("^3.12", ["3.12.1", "3.99"], ["4.0.0a1", "3.11"]),
        ("[3.13.0rc1,3.14)", ["3.13.0rc1", "3.13.0rc2", "3.13.0"], ["3.13.0b4", "3.14.0"]),
    ],
)
def test_pep440_ranges(range_: str, inside: list[str], outside: list[str]) -> None:
    for tag in inside:
        assert in_range(range_, tag, "pep440"), tag
    for tag in outside:
        assert not in_range(range_, tag, "pep440"), tag


def test_names_prerelease() -> None:
    assert VersionRange.parse(">=1.0.0-0", STRATEGIES["semver"]).names_prerelease
    assert VersionRange.parse("[2.0.0-alpha.1,2.0.0)", OCTOPUS).names_prerelease
    assert not VersionRange.parse("^1.2", STRATEGIES["semver"]).names_prerelease


@pytest.mark.parametrize(
    ("range_", "position", "words"),
    [
        ("(1.0)", 0, "write [1.0]"),
        ("[1.0)", 4, "write [1.0]"),
        ("[1.0,2.0", 7, "']' or ')'"),
        ("[2.0,1.0]", 4, "empty"),
        ("[1.0,1.0)", 4, "empty"),
        ("(,)", 1, "at least one version"),
        ("[1.0,2.0,3.0]", 8, "at most two"),
        ("[1.0,[2.0]", 5, "unexpected '['"),
        ("1.0,2.0", 3, "brackets"),
        ("[abc,2.0]", 1, "expected a version number"),
        ("[1.0/2,3]", 1, "not a version"),
        ("abc", 0, "expected a version number"),
        (">=", 2, "expected a version after '>='"),
        (">=1.2 <1.0", 0, "exclude each other"),
        ("1.x.2", 0, "wildcard must be the last part"),
        ("^1 ||", 3, "'||'"),
        ("1.2 - 2.3", 4, "hyphen ranges"),
        ("^1 | ^2", 3, "'||'"),
        (">*", 1, "matches nothing"),
        ("1.2.3.4.5 || 2", 0, "more than 4 numbers"),
    ],
)
def test_errors_point_at_the_character(range_: str, position: int, words: str) -> None:
    with pytest.raises(VersionRuleError) as info:
        VersionRange.parse(range_, OCTOPUS)
    error = info.value
    assert error.property == "versionRange"
    assert words in error.reason
    assert error.position == position
    assert f"at character {position + 1}" in error.reason
    # str() draws the range and a caret under the offending character.
    lines = str(error).splitlines()
    assert lines[0].startswith("versionRange: ")
    assert lines[2].index("^") - lines[1].index(range_[0] if range_[0] != " " else range_[1]) == (
        position - (0 if range_[0] != " " else 1)
    )


def test_semver_bounds_have_three_numbers() -> None:
    with pytest.raises(VersionRuleError, match="more than 3 numbers"):
        VersionRange.parse(">=1.2.3.4", STRATEGIES["semver"])
    with pytest.raises(VersionRuleError, match="not a semver version"):
        VersionRange.parse("[1.2.3.4,)", STRATEGIES["semver"])


def test_pep440_bound_errors() -> None:
    with pytest.raises(VersionRuleError, match="not a PEP 440 version"):
        VersionRange.parse("[1.0-bananas,)", STRATEGIES["pep440"])


def test_a_bare_version_is_read_by_nugets_grammar() -> None:
    # `1.0myfeature` is an Octopus *tag* (1.0.0.0-myfeature) but not a NuGet version, and a
    # range bound is read the NuGet way (test_versions_peers.py has NuGet's whole table).
    assert parse_octopus("1.0myfeature") is not None
    with pytest.raises(VersionRuleError, match="not a version NuGet can read"):
        VersionRange.parse("1.0myfeature", OCTOPUS)
    key = parse_octopus("1.0-myfeature")
    assert key is not None
    assert VersionRange.parse("1.0-myfeature", OCTOPUS).contains(key.key)


@pytest.mark.parametrize("strategy", ["octopus", "docker", "semver", "pep440"])
@pytest.mark.parametrize(
    ("template", "at"),
    [
        ("[{},)", 1), (">={}", 2), ("^{}", 1), ("[1.0,{}.0)", 5), ("1.2 || ~{}", 8), ("{}", 0),
        ("1.{}-beta*", 2),
    ],
)  # fmt: skip
def test_a_number_longer_than_any_tag_is_refused_with_its_place(
    strategy: str, template: str, at: int
) -> None:
    # Python's int() refuses more than 4,300 digits: without a check here, a ValueError.
    text = template.format("1" * 5000)
    with pytest.raises(VersionRuleError) as err:
        VersionRange.parse(text, STRATEGIES[strategy])
    assert err.value.position == at
    assert "5000 digits" in str(err.value) and "128 characters" in str(err.value)
