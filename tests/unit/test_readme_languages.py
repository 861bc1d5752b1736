"""README "Using it from your language": every snippet is a piece of an example program the e2e
tests run, so the README cannot drift from tested code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "python": ROOT / "examples" / "quickstart" / "__main__.py",
    "typescript": ROOT / "examples" / "typescript" / "index.ts",
    "go": ROOT / "examples" / "go" / "main.go",
    "yaml": ROOT / "examples" / "yaml" / "Pulumi.yaml",
}


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Using it from your language")
    return text[start : text.index("\n## ", start + 3)]


def test_every_language_has_a_snippet_from_its_example() -> None:
    blocks = re.findall(r"```(\w+)\n(.*?)```", section(), re.DOTALL)
    found = {lang for lang, _ in blocks}
    assert found == set(SOURCES)
    for lang, code in blocks:
        assert code.strip() in SOURCES[lang].read_text(), (
            f"the {lang} snippet is not {SOURCES[lang].name}'s code"
        )


def test_the_faces_table_names_each_language() -> None:
    text = section()
    for name in ("Python", "TypeScript", "Go", "YAML"):
        assert f"| {name}" in text
    assert "pulumi-resource-dockerfeed" in text and "pulumi plugin install resource dockerfeed" in text
