"""Rules must not hang: every user regex (tagInclude, tagExclude, preReleaseTag) runs under one
time budget per selection, and a rule that runs out of it fails naming the property and the tag.

Through the real CLI (`python -m dockerfeed.cli`, a process of its own), so a hang is a test
that never returns rather than a wedged test session: `HANG` is a guard against that, never a
speed assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dockerfeed.versions import VersionRule, VersionRuleError, select_latest
from dockerfeed.versions.patterns import BUDGET_ENV, RuleTimeout, rule_budget

HANG = 120  # seconds: far beyond any bounded selection, short of a wedged CI run
LONG_DIGITS = "1" * 30 + "-x"  # the tag of issue 10: thirty digits, then a non-digit
LONG_WORD = "a" * 34 + "-x"


def pick(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != BUDGET_ENV}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dockerfeed.cli", "pick", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=HANG,
        env=environment,
    )


def assert_timed_out(run: subprocess.CompletedProcess[str], prop: str, pattern: str, tag: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert run.stderr.startswith("dockerfeed") and f": {prop}: " in run.stderr, run.stderr
    assert repr(pattern) in run.stderr and repr(tag) in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


# ------------------------------------------------------------------------------- the real CLI


def test_the_issue_command_returns() -> None:
    # `re` backtracks through every split of the thirty digits; `regex` answers this one at
    # once (and would otherwise stop at the bound with the message).
    run = pick(LONG_DIGITS, "1.0", r"--exclude=^(\d+\.?)+$")
    if run.returncode == 2:
        assert_timed_out(run, "tagExclude", r"^(\d+\.?)+$", LONG_DIGITS)
        return
    assert run.returncode == 1, run.stderr
    assert "no tag matched" in run.stderr
    assert "1 match tagExclude" in run.stderr and "1 are not octopus versions" in run.stderr


def test_an_exclude_that_backtracks_fails_naming_the_property_and_the_tag() -> None:
    # It refuses 1.0 too, so the explanation's complete pass reads the long tag.
    run = pick(LONG_DIGITS, "1.0", r"--exclude=^(\d|\d\.?)+$")
    assert_timed_out(run, "tagExclude", r"^(\d|\d\.?)+$", LONG_DIGITS)


def test_includes_of_the_nested_kind() -> None:
    # (a+)+$ is the textbook case: answered at once, and right.
    run = pick(LONG_WORD, "1.0", "--include=(a+)+$")
    assert run.returncode == 1 and "2 do not match tagInclude" in run.stderr, run.stderr
    # Overlapping alternatives still backtrack: the bound stops them.
    run = pick("1.0", LONG_WORD, "--include=^(a|a)+$")
    assert_timed_out(run, "tagInclude", "^(a|a)+$", LONG_WORD)


def test_a_prerelease_rule_that_backtracks() -> None:
    tag = "1.0.0-" + LONG_WORD
    run = pick("0.9", tag, r"--prerelease=^(\w|\w)+$")
    assert_timed_out(run, "preReleaseTag", r"^(\w|\w)+$", tag)


def test_explanations_and_json_are_bounded_too() -> None:
    # No winner, so the complete pass behind the explanation runs every rule on every tag.
    run = pick("1.0", LONG_DIGITS, r"--exclude=^(\d|\d)+$", "--range=[2.0,)", "--json")
    # With --json the failure is the one JSON error object on stdout (docs/cli.md), stderr empty.
    assert run.returncode == 2 and run.stderr == "", (run.returncode, run.stdout, run.stderr)
    error = json.loads(run.stdout)
    assert error["kind"] == "invalid-rule" and error["message"].startswith("tagExclude: "), error
    assert repr(r"^(\d|\d)+$") in error["message"] and repr(LONG_DIGITS) in error["message"], error


def test_one_budget_for_the_whole_selection() -> None:
    # 100,000 tags, each a little slow: one slow tag stays under any per-tag bound, all of them
    # together would take hours. The budget is for the selection, so it ends all the same.
    tags = "".join(f"{i:05d}{'1' * 9}x\n" for i in range(100_000))
    run = pick(r"--include=^(\d|\d)+$", "--strategy=alphabetical", stdin=tags)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("dockerfeed") and ": tagInclude: " in run.stderr, run.stderr
    assert "the rules of one selection may run" in run.stderr


def test_the_budget_can_be_set_and_is_checked() -> None:
    run = pick(LONG_DIGITS, "1.0", r"--exclude=^(\d|\d\.?)+$", env={BUDGET_ENV: "0.2"})
    assert_timed_out(run, "tagExclude", r"^(\d|\d\.?)+$", LONG_DIGITS)
    assert "0.2 s" in run.stderr
    run = pick("1.0", env={BUDGET_ENV: "soon"})
    assert run.returncode == 2 and BUDGET_ENV in run.stderr and "Traceback" not in run.stderr


# ------------------------------------------------------------------------------- the library


def test_rule_timeout_is_a_rule_error_naming_property_and_tag() -> None:
    rule = VersionRule.build(tag_include="^(a|a)+$")
    with pytest.raises(RuleTimeout) as info:
        select_latest(["1.0", LONG_WORD], rule, budget=0.05).explain()
    error = info.value
    assert isinstance(error, VersionRuleError)
    assert (error.property, error.tag) == ("tagInclude", LONG_WORD)
    assert str(error).startswith("tagInclude: ")


def test_a_rule_that_fits_the_budget_is_not_disturbed() -> None:
    rule = VersionRule.build(tag_include=r"^\d+\.\d+$", tag_exclude=[r"^(?!1\.)"], pre_release_tag="^$")
    selection = select_latest(["1.0", "1.5", "2.0", "1.6-beta"], rule, budget=5.0)
    assert selection.winner is not None and selection.winner.tag == "1.5"
    assert selection.rejected["exclude"] == 1


def test_budget_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert rule_budget() == 5.0
    monkeypatch.setenv(BUDGET_ENV, "0.5")
    assert rule_budget() == 0.5
    for bad in ("0", "-1", "nan", "inf", "soon", ""):
        monkeypatch.setenv(BUDGET_ENV, bad)
        with pytest.raises(ValueError, match=BUDGET_ENV):
            rule_budget()


def test_our_own_parsers_stay_linear_on_huge_tags() -> None:
    # Not a user pattern, but text a registry or a pipe chooses: Octopus's pattern backtracks
    # quadratically over a long run of digits, and a Docker tag is at most 128 characters.
    huge = "1" * 100_000 + "!"
    run = pick("--json", stdin=f"1.0\n{huge}\n")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["tag"] == "1.0"
    (rejection,) = document["rejections"]
    assert rejection["reason"] == "unparseable" and "128 characters" in rejection["detail"]
    for strategy, tag in (("docker", "1.0.0"), ("semver", "1.0.0"), ("pep440", "1.0.0"), ("numerical", "10")):
        run = pick(f"--strategy={strategy}", stdin=f"{tag}\n{huge}\n")
        assert (run.returncode, run.stdout) == (0, f"{tag}\n"), (strategy, run.stderr)
