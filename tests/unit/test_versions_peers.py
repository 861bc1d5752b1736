"""Version semantics held against the peer each mode claims to follow, with the peers' own test
vectors: NuGet.Client's VersionRange tests (octopus/docker ranges), Renovate's docker versioning
spec (strategy docker), Masterminds/semver's constraint tests (strategy semver), and the default
exclusion of signature tags (OCI 1.1 referrers fallback, cosign).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dockerfeed.cli import main
from dockerfeed.versions import STRATEGIES, VersionRange, VersionRule, VersionRuleError, select_latest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "versions.md"
OCTOPUS = STRATEGIES["octopus"]

# ------------------------------------------------------------------------ NuGet range parsing

# (range, NuGet accepts, we accept, tags inside, tags outside). From NuGet.Client's
# VersionRangeTests (ParseVersionRangeWithBadVersionThrows, ...ContainsNoValues,
# ...MissingVersionComponent, ...MoreThen4VersionComponents, Satisfies/DoesNotSatisfy,
# MissingVersionComponents_DefaultToZero, ParseVersionParsesTokensVersionsCorrectly) and
# NuGetVersion/FloatRange parsing.
NUGET = [
    ("1.0", True, True, ["1.0", "2.0"], ["0.9", "1.0-beta"]),
    ("0", True, True, ["0.0.1"], []),
    ("02", True, True, ["2.0", "3"], ["1.9"]),
    ("123.456", True, True, ["123.456"], ["123.455"]),
    ("1.0.0.0", True, True, ["1.0"], ["0.9"]),
    ("1.0-beta+meta", True, True, ["1.0-beta", "1.0"], ["1.0-alpha"]),
    ("[1.0]", True, True, ["1.0", "1.0.0.0"], ["1.0.0.1"]),
    ("[2.7]", True, True, ["2.7"], ["2.7.1"]),
    ("(1.0,)", True, True, ["1.0.1"], ["1.0"]),
    ("(,1.0]", True, True, ["1.0", "0.1"], ["1.0.0.1"]),
    ("(,1.0)", True, True, ["0.9"], ["1.0"]),
    ("[1.0,2.0]", True, True, ["1.0", "2.0"], ["2.0.1"]),
    ("(1.0,2.0)", True, True, ["1.5"], ["1.0", "2.0"]),
    ("[1.0.0, 2.0.0]", True, True, ["2.0.0"], ["3.0.0"]),
    ("[2021,)", True, True, ["2021.0.0.0"], ["2020.12"]),
    ("[,2021)", True, True, ["2020"], ["2021"]),
    ("(1.2.3.4, 3.2)", True, True, ["1.2.3.5"], ["1.2.3.4", "3.2"]),
    ("(1.6, ]", True, True, ["1.7"], ["1.6"]),
    ("(, 3.2.4.5]", True, True, ["3.2.4.5"], ["3.2.4.6"]),
    ("[1.0.0-beta+meta, 2.0.0-beta+meta]", True, True, ["1.0.0-beta", "2.0.0-beta"], ["2.0.0-rc", "2.0.0"]),
    ("(, 2.0.0-beta+meta)", True, True, ["2.0.0-alpha"], ["2.0.0-beta"]),
    ("[1.0.0, 1.0.0]", True, True, ["1.0.0"], ["1.0.1"]),
    ("( 1.0 , 2.0 )", True, True, ["1.5"], ["2.0"]),
    ("(, )", True, True, ["0.0.1", "99"], []),
    ("[, ]", True, True, ["0.0.1", "99"], []),
    ("[ ]", True, True, ["0.0.1"], []),
    ("[1.*, 2.0)", True, True, ["1.0", "1.9"], ["0.9", "2.0"]),
    ("[1.0.0-*, 2.0)", True, True, ["1.0.0-alpha", "1.5"], ["0.9"]),
    ("[1.0.0-beta*, 2.0)", True, True, ["1.0.0-beta", "1.0.0-beta.2", "1.1"], ["1.0.0-alpha"]),
    ("1.0.0-beta*", True, True, ["1.0.0-beta", "3.0"], ["1.0.0-alpha"]),
    ("*", True, True, ["0.0.1", "99"], []),
    ("01.1", True, True, ["1.1"], ["1.0"]),
    ("1.0+01", True, True, ["1.0"], ["0.9"]),
    # refused by NuGet, and so by us
    ("", False, False, [], []),
    ("      ", False, False, [], []),
    ("-1", False, False, [], []),
    ("+1", False, False, [], []),
    ("1.", False, False, [], []),
    (".1", False, False, [], []),
    ("1,", False, False, [], []),
    (",1", False, False, [], []),
    (",", False, False, [], []),
    ("-", False, False, [], []),
    ("+", False, False, [], []),
    ("a", False, False, [], []),
    ("[-1, 2]", False, False, [], []),
    ("(,)", False, False, [], []),
    ("[,]", False, False, [], []),
    ("[,)", False, False, [], []),
    ("(,]", False, False, [], []),
    ("[]", False, False, [], []),
    ("( )", False, False, [], []),
    ("(,1.3..2]", False, False, [], []),
    ("(1.2.3.4.5,1.2]", False, False, [], []),
    ("1.2.3.4.5", False, False, [], []),
    ("(1.0)", False, False, [], []),
    ("[1.0)", False, False, [], []),
    ("(1.0]", False, False, [], []),
    ("[2.0,1.0]", False, False, [], []),
    ("[1.0,1.0)", False, False, [], []),
    ("(1.0,1.0]", False, False, [], []),
    ("[1.0,2.0,3.0]", False, False, [], []),
    ("[1.0,2.*)", False, False, [], []),
    ("v1.0", False, False, [], []),
    ("[v1.0,2.0)", False, False, [], []),
    ("1.0myfeature", False, False, [], []),
    ("1.0-", False, False, [], []),
    ("1.0+", False, False, [], []),
    ("1.0-01", False, False, [], []),
    ("1.0-a..b", False, False, [], []),
    ("[2147483648,)", False, False, [], []),
    # deliberate differences (docs/versions.md says why)
    ("(1.0,1.0)", True, False, [], []),
    ("1.*", True, True, ["1.0", "1.9"], ["2.0"]),
]


def accepts(text: str) -> bool:
    try:
        VersionRange.parse(text, OCTOPUS)
    except VersionRuleError:
        return False
    return True


@pytest.mark.parametrize(("text", "nuget", "ours", "inside", "outside"), NUGET)
def test_nuget_ranges(text: str, nuget: bool, ours: bool, inside: list[str], outside: list[str]) -> None:
    assert accepts(text) == ours, text
    if not ours:
        return
    for strategy in ("octopus", "docker"):
        impl = STRATEGIES[strategy]
        parsed = VersionRange.parse(text, impl)
        scan = impl.scanner(None, None)
        for tags, wanted in ((inside, True), (outside, False)):
            for tag in tags:
                key = scan(tag)
                if strategy == "docker" and not isinstance(key, tuple):
                    continue  # `1.0-beta` is variant `beta` there, not a pre-release
                assert parsed.contains(impl.range_key(tag, key)) == wanted, (strategy, text, tag)


def test_the_docs_table_has_every_form_with_both_verdicts() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `([^`]*)` \| (accepts|refuses)[^|]*\| (accepts|refuses)", line)
        if m:
            rows[m.group(1)] = (m.group(2) == "accepts", m.group(3) == "accepts")
    for form, nuget, ours, _, _ in NUGET:
        shown = form if form.strip() else ("(empty)" if not form else "(spaces)")
        assert shown in rows, f"docs/versions.md has no row for `{form}`"
        assert rows[shown] == (nuget, ours), form


# ------------------------------------------------------------------- Renovate's docker versioning


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("1.2.3", True),
        ("18.04", True),
        ("10.1", True),
        ("3", True),
        ("foo", False),
        ("0a1b2c3", False),
        ("0a1b2c3d", False),
        ("0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d", False),
        ("0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0", True),
        ("0a1b2C3", True),
        ("0z1b2c3", True),
        ("0A1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d", True),
        ("123098140293", True),
        ("20231201123456", True),
        ("01aecc#v2.1.0", False),
        ("1.2.3.4.5", True),
        ("1.0_beta", True),
    ],
)
def test_renovate_docker_is_valid(tag: str, valid: bool) -> None:
    scan = STRATEGIES["docker"].scanner(None, None)
    assert (scan(tag) is not None) == valid, tag


@pytest.mark.parametrize(
    ("a", "b", "greater"),
    [
        ("1.2.3", "1.2", False),
        ("18.04", "18.1", True),
        ("10.1", "10.1.2", True),
        ("3", "2", True),
        ("1.2.3", "1.2.3", False),
        ("20231201123457", "20231201123456", True),
        ("123098140293", "99999", True),
    ],
)
def test_renovate_docker_order(a: str, b: str, greater: bool) -> None:
    scan = STRATEGIES["docker"].scanner(None, None)
    assert (scan(a) > scan(b)) == greater, (a, b)


def test_renovate_docker_equal_and_unstable_order() -> None:
    scan = STRATEGIES["docker"].scanner(None, None)
    assert scan("18.04") == scan("18.4")
    ordered = ["3.7.0b1", "3.7.0b5", "3.7.0", "3.8.0", "3.8.2"]
    assert sorted(ordered[::-1], key=scan) == ordered


def test_docker_picks_as_renovate_orders(capsys: pytest.CaptureFixture[str]) -> None:
    for tags, winner in (
        (["1.2.3", "1.2"], "1.2"),
        (["10.1.2", "10.1"], "10.1"),
        (["20231201123456", "20231201123457", "99"], "20231201123457"),
        (["123098140293", "2.0"], "123098140293"),
    ):
        assert main(["pick", *tags, "--strategy", "docker"]) == 0
        assert capsys.readouterr().out == f"{winner}\n", tags


def test_docker_why_not_does_not_speak_of_four_numbers() -> None:
    selection = select_latest(["foo-bar", "1.0"], VersionRule.build(strategy="docker"))
    rejections = selection.as_dict()["rejections"]
    assert isinstance(rejections, list)
    (reason,) = [r["detail"] for r in rejections if r["tag"] == "foo-bar"]
    assert "four" not in reason and "numbers" in reason


# --------------------------------------------------------------- Masterminds/semver constraints

# From Masterminds/semver constraints_test.go (TestConstraintCheck); partial versions written
# out in full, since strategy semver reads only x.y.z tags.
MASTERMINDS = [
    (">0", "0.0.0", False),
    (">0", "1.0.0", True),
    (">0", "0.0.1-alpha", False),
    (">0.0", "0.0.1-alpha", False),
    (">0-0", "0.0.1-alpha", False),
    (">0.0-0", "0.0.1-alpha", False),
    (">0", "0.0.0-alpha", False),
    (">0-0", "0.0.0-alpha", False),
    (">0.0.0-0", "0.0.0-alpha", True),
    (">1.2.3-alpha.1", "1.2.3-alpha.2", True),
    (">1.2.3-alpha.1", "1.3.3-alpha.2", True),
    (">11", "11.1.0", False),
    (">11.1", "11.1.0", False),
    (">11.1", "11.1.1", False),
    (">11.1", "11.2.1", True),
    (">=0", "0.0.1-alpha", False),
    (">=0-0", "0.0.1-alpha", True),
    (">=0.0-0", "0.0.1-alpha", True),
    (">=0-0", "0.0.0-alpha", True),
    (">=0.0.0-0", "0.0.0-alpha", True),
    (">=0.0.0-0", "1.2.3", True),
    (">=0.0.0-0", "3.4.5-beta.1", True),
    ("<0", "0.0.0-alpha", False),
    ("<0-z", "0.0.0-alpha", True),
    ("<=11", "11.2.3", True),
    ("<=1.1", "1.1.1", True),
    ("<=1.1-0", "1.1.1", True),
    ("<=1-0", "1.9.9", True),
    ("<=1-0", "2.0.0-alpha", False),
    ("<1.1", "1.1.0", False),
    ("*", "1.2.3-alpha.1", False),
    ("2.*", "2.1.1", True),
    ("2.1.*", "2.2.1", False),
    ("~1.2.3-beta.2", "1.2.3-beta.4", True),
    ("~1.2.3-beta.2", "1.2.4-beta.2", True),
    ("~1.2.3-beta.2", "1.3.4-beta.2", False),
    ("^1.2.0", "1.2.1-alpha.1", False),
    ("^1.2.0-alpha.0", "1.2.1-alpha.1", True),
    ("^1.2.0-alpha.2", "1.2.0-alpha.1", False),
]


@pytest.mark.parametrize(("constraint", "version", "ok"), MASTERMINDS)
def test_masterminds_constraints(constraint: str, version: str, ok: bool) -> None:
    rule = VersionRule.build(strategy="semver", version_range=constraint)
    winner = select_latest([version], rule).winner
    assert (winner is not None) == ok, (constraint, version)


# --------------------------------------------------------------------------- signature tags

HEX64 = "ab" * 32
HEX128 = "cd" * 64


@pytest.mark.parametrize(
    "tag",
    [
        f"sha256-{HEX64}",  # OCI 1.1 referrers fallback tag
        f"sha512-{HEX128}",
        f"sha256-{HEX64}.sig",
        f"sha256-{HEX64}.att",
        f"sha256-{HEX64}.sbom",
        f"sha256-{HEX64}.SIG",
        f"sha256-{HEX64}.Att",
        f"sha512-{HEX128}.sbom",
        f"sha256-{HEX64.upper()}.sig",
    ],
)
def test_signature_and_referrer_tags_are_never_picked(tag: str) -> None:
    for strategy in ("octopus", "alphabetical"):
        selection = select_latest(["1.0", tag], VersionRule.build(strategy=strategy))
        assert selection.winner is not None and selection.winner.tag == "1.0", (strategy, tag)
        assert selection.rejected["signature"] == 1


def test_lookalikes_are_ordinary_tags() -> None:
    lookalikes = (f"sha256-{HEX64[:-1]}", f"sha256-{HEX64}.sigx", f"sha1-{HEX64[:40]}", f"sha256-{HEX64}-x")
    for tag in lookalikes:
        selection = select_latest(["0", tag], VersionRule.build(strategy="alphabetical"))
        assert selection.rejected["signature"] == 0, tag
