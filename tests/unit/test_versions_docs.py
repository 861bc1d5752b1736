"""Every `$ dockerfeed pick …` example in docs/versions.md prints what the page says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from dockerfeed.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "versions.md"


def examples() -> list[tuple[str, list[str]]]:
    text = DOC.read_text(encoding="utf-8")
    tags = re.search(r'TAGS="([^"]+)"', text)
    assert tags is not None
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```(?:sh|text)\n(.*?)```", text, re.S):
        command: str | None = None
        for line in block.splitlines():
            if line.startswith("$ dockerfeed pick"):
                command = line[2:].replace("$TAGS", tags.group(1))
                found.append((command, []))
            elif command is not None:
                found[-1][1].append(line)
    return found


@pytest.mark.parametrize(("command", "expected"), examples())
def test_doc_example(command: str, expected: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    main(shlex.split(command)[1:])
    captured = capsys.readouterr()
    assert (captured.out + captured.err).rstrip("\n").split("\n") == expected
