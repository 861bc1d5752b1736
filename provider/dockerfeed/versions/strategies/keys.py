"""The types every strategy shares: the sort key, what a scanner says about one text, and the
best eligible tag. Keys of different strategies are never compared with each other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Final, Protocol, Self, TypeAlias


class SortKey(Protocol):
    """A strategy's sort key: totally ordered against the keys of the same strategy.

    Octopus, docker and semver keys are tuples, pep440 keys `packaging` Versions, alphabetical
    keys the text itself, numerical keys Decimals. Strategies that look inside their own keys
    (a tuple's numbers) narrow them with `typing.cast` where they do.
    """

    def __lt__(self, other: Self, /) -> bool: ...
    def __le__(self, other: Self, /) -> bool: ...
    def __gt__(self, other: Self, /) -> bool: ...
    def __ge__(self, other: Self, /) -> bool: ...


class _Variant(Enum):
    VARIANT = "VARIANT"

    def __repr__(self) -> str:
        return self.value


class _Missing(Enum):
    MISSING = "MISSING"


# A version, but of another variant (docker strategy).
VARIANT: Final = _Variant.VARIANT
# What a scanner says about one version text: its sort key, VARIANT, or None (not a version).
ScanResult: TypeAlias = SortKey | _Variant | None
Scanner: TypeAlias = Callable[[str], ScanResult]
# Eligibility of a would-be winner: (tag, compared text, key) -> bool.
Accept: TypeAlias = Callable[[str, str, SortKey], bool]
# The best eligible tag: (key, tag, compared text).
Best: TypeAlias = tuple[SortKey, str, str] | None
# Whether some key in [low, high] may be in the range (to skip groups of tags at once).
SpanFilter: TypeAlias = Callable[[SortKey, SortKey], bool]
# The tags of a batch (and their texts) the rule's filters may let through: a superset of those
# `accept` allows, found with one pass over the batch instead of one question per tag.
Narrow: TypeAlias = Callable[[Sequence[str], Sequence[str]], tuple[Sequence[str], Sequence[str]]]
# A strategy key's (major, minor), for `leading_major` strategies.
Head: TypeAlias = tuple[int | float, ...]

# Version numbers are mostly small and repeat endlessly; a dict lookup beats int().
SMALL_INTS: dict[str, int] = {str(i): i for i in range(1000)}
# A memo's "not computed yet" (None is a computed answer there).
MISSING: Final = _Missing.MISSING
