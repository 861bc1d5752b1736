"""The README and docs/cli.md say what the code does (issue 11, point 11)."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from dockerfeed.cli import main
from tests.support import REPO_ROOT

DOCS = {name: (REPO_ROOT / name).read_text() for name in ("README.md", "docs/cli.md")}
SDK = sorted((REPO_ROOT / "sdk" / "python" / "pulumi_dockerfeed").glob("*.py"))


def command_lines() -> list[tuple[str, str]]:
    """Every `dockerfeed …` command shown in the docs, with the document it is in."""
    found = []
    for name, text in DOCS.items():
        for line in text.splitlines():
            line = line.strip().removeprefix("$ ")
            if re.match(r"^(\S+\s*\|\s*|\S+=\S+\s+)*dockerfeed\s+(test|tags|search|resolve|pick)\b", line):
                found.append((name, line))
    return found


def test_every_example_with_a_user_has_a_password_source() -> None:
    lines = command_lines()
    assert len(lines) > 20
    for name, line in lines:
        words = shlex.split(line.split("#", 1)[0], posix=True) if "<<<" not in line else line.split()
        if "-u" in words or "--username" in words:
            assert "--password-stdin" in words or "DOCKERFEED_PASSWORD" in line, f"{name}: {line}"


def test_insecure_is_not_said_to_allow_plain_http(capsys: pytest.CaptureFixture[str]) -> None:
    # It skips certificate verification; plain http comes from writing http:// (see reference.py).
    schema = json.loads((REPO_ROOT / "schema.json").read_text())
    with pytest.raises(SystemExit):
        main(["tags", "--help"])
    texts = [*DOCS.values(), json.dumps(schema), capsys.readouterr().out, *(f.read_text() for f in SDK)]
    for text in texts:
        flat = " ".join(text.split())
        assert not re.search(r"(insecure|TLS verification)[^.|]{0,40}(allows?|and allow) plain http", flat), (
            flat
        )
        assert "or with insecureSkipTlsVerify" not in flat


def test_the_selection_speed_claim_names_the_tags_it_covers() -> None:
    flat = " ".join(DOCS["README.md"].split())
    # The bench's 100,000 tags are plain x.y.z versions: the claim must not read as any tag list.
    claims = [flat[m.start() : m.start() + 60] for m in re.finditer(r"Selection over 100,000", flat)]
    assert claims, "the README no longer states the selection speed"
    for claim in claims:
        assert "x.y.z" in claim, claim
