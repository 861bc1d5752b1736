"""`dockerfeed pick`: offline selection from arguments or stdin, with exit codes 0/1/2."""

from __future__ import annotations

import io
import json

import pytest

from dockerfeed.cli import main

TAGS = ["1.24.0", "1.25.3", "1.25.3-alpine", "1.26.0-rc1", "mainline", "latest"]


def test_prints_the_winner(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", *TAGS]) == 0
    assert capsys.readouterr().out == "1.26.0-rc1\n"


def test_rule_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", *TAGS, "--prerelease", "^$", "--range", "[1.0,1.25)"]) == 0
    assert capsys.readouterr().out == "1.24.0\n"
    assert main(["pick", *TAGS, "--include", "alpine", "--exclude", "rc", "--exclude", "x"]) == 0
    assert capsys.readouterr().out == "1.25.3-alpine\n"
    assert main(["pick", *TAGS, "--strategy", "docker", "--variant", "alpine"]) == 0
    assert capsys.readouterr().out == "1.25.3-alpine\n"
    assert main(["pick", "1.25-alpine", "1.26-alpine", "1.27.0-alpine", "1.28", "--strategy",
                 "docker", "--current", "1.25-alpine"]) == 0  # fmt: skip
    assert capsys.readouterr().out == "1.26-alpine\n"


def test_all_prints_eligible_tags_ascending(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", *TAGS, "--all", "--prerelease", "^$"]) == 0
    assert capsys.readouterr().out == "1.24.0\n1.25.3\n"


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("1.0\n\n  2.0  \n1.5\n"))
    assert main(["pick"]) == 0
    assert capsys.readouterr().out == "2.0\n"


def test_nothing_matched_exits_1_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", *TAGS, "--range", "[2.0,)"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no tag matched" in captured.err
    assert "are outside versionRange [2.0,)" in captured.err


def test_bad_rule_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", *TAGS, "--range", "(1.0)"]) == 2
    err = capsys.readouterr().err
    assert "versionRange: one version means exactly that version" in err
    assert "(1.0)\n" in err and "^" in err
    assert main(["pick", *TAGS, "--variant", "alpine"]) == 2
    assert "variant: variant only applies to the docker strategy" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", "1.0", "--strategy", "newest"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("usage: dockerfeed pick")
        and "dockerfeed: pick: argument --strategy: invalid choice" in err
    )


def test_no_tags_on_a_terminal_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(""))
    assert main(["pick"]) == 2
    assert "give tags" in capsys.readouterr().err


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pick", "1.0", "2.0-beta", "x/y", "--prerelease", "^$", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tag"] == "1.0"
    assert data["winner"]["parts"]["major"] == 1
    assert [c["tag"] for c in data["eligible"]] == ["1.0"]
    assert {r["tag"]: r["reason"] for r in data["rejections"]} == {
        "2.0-beta": "prerelease",
        "x/y": "unparseable",
    }


def test_json_when_nothing_matched(capsys: pytest.CaptureFixture[str]) -> None:
    # One JSON error object, as every command's --json failure; the reasons are in its message.
    assert main(["pick", "2.0-beta", "--prerelease", "^$", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    data = json.loads(captured.out)
    assert data["kind"] == "no-match" and data["request"] is None
    assert "no tag matched" in data["message"] and "refused by preReleaseTag" in data["message"]
