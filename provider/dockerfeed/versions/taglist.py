"""A tag listing that several rules select from, carrying what selection reads from it alone.

A Pulumi run resolves many ImageVersions of one repository against one listing (the run cache
in resolve.py hands them the same object). Some of the selection's work depends on the tags only,
never on the rule: on a long list, the newline-joined text and each tag's leading numbers
(strategies/by_major.py). A TagList keeps those, computed by the first selection that needs
them, for the next. It is a tuple, so it compares, hashes and iterates as one; what it keeps
never changes what a selection finds (the hypothesis tests in tests/unit/test_versions_select.py
hold it to one full scan).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

T = TypeVar("T")


class TagList(tuple[str, ...]):
    """The tags of a listing, in the registry's order, and what has been derived from them."""

    _derived: dict[Hashable, object]

    def __new__(cls, tags: Iterable[str] = ()) -> TagList:
        self = super().__new__(cls, tags)
        self._derived = {}
        return self

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, once per key: a pure function of the tags (and of what `key` names).
        Two threads may both compute it; both values are equal and the first one kept is used."""
        found = self._derived.get(key, _MISSING)
        if found is _MISSING:
            found = self._derived.setdefault(key, compute())
        return found  # type: ignore[return-value]  # stored by this key's compute


_MISSING = object()


def derived(texts: object, key: Hashable, compute: Callable[[], T]) -> T:
    """What `texts` keeps under `key` when it is a TagList; `compute()` for any other list."""
    if isinstance(texts, TagList):
        return texts.derived(key, compute)
    return compute()


__all__ = ["TagList", "derived"]
