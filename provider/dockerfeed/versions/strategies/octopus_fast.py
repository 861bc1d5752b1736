"""The Octopus fast path: the default strategy's scan over a long tag list.

A tag is "<numbers><rest>"; both halves are parsed once per distinct text, and a tag whose
numbers are below the best so far is dropped after one dict lookup and one tuple comparison.
The hypothesis tests hold it to `octopus_key` on every tag (tests/unit/test_versions_octopus.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from dockerfeed.versions.octopus import MAX_PART, MAX_TEXT, LabelKey, label_key, octopus_key
from dockerfeed.versions.strategies.keys import MISSING, SMALL_INTS, Accept, Best, SortKey, SpanFilter

# Characters a tag's leading numbers are made of (with the optional `v`).
_HEAD_CHARS = "vV0123456789."
# The part after the numbers, exactly as the Octopus pattern reads it (optional separator,
# pre-release, `+metadata`, trailing spaces).
_REST = re.compile(
    r"[.\-_\\]?(?P<pre>[A-Za-z0-9]*(?:[.\-_\\][A-Za-z0-9.\-_\\]*)?)"
    r"(?:\+(?P<meta>[A-Za-z0-9_\-.\\+]*))? *\Z",
    re.ASCII,
)
_EXACT: _Parts = (MAX_PART + 1,)  # sorts above every real head: never pruned
_SKIP: _Parts = ()  # sorts below every head: always pruned
# A key's parts: four numbers, the release flag, the labels (versions/octopus.py, OctopusKey);
# the numbers alone, or what follows them, are tuples of the same type.
_Parts = tuple[int | LabelKey, ...]
_FLOOR_TAIL: _Parts = (0, ())
_RELEASE_TAIL: _Parts = (1, ())


def _head_numbers(head: str, span_filter: SpanFilter | None) -> _Parts:
    """The four numbers of a tag's leading `v1.2.3`, _EXACT when the exact parser must decide,
    or _SKIP when the range excludes every version with these numbers."""
    if not head:
        numbers: _Parts = (0, 0, 0, 0)
    else:
        body = head[1:] if head[0] in "vV" else head
        parts = body.split(".")
        # `1.2.` (a separator follows), `1.2.3.4.5`, `v`, `1..2`, `1v2`: rare, read exactly.
        if len(parts) > 4 or "" in parts:
            return _EXACT
        small = tuple(map(SMALL_INTS.get, parts))
        if None in small:  # large, with leading zeros, or not a number (`v`, `1v2`)
            try:
                values = tuple(map(int, parts))
            except ValueError:
                return _EXACT
        else:
            values = small  # type: ignore[assignment]  # no None in it, checked above
        if len(body) > 9 and max(values) > MAX_PART:
            return _EXACT
        numbers = values + (0, 0, 0, 0)[len(values) :]
    # Every key with these numbers lies between numbers+(0, ()) and numbers+(1, ()).
    if span_filter is not None and not span_filter(numbers + _FLOOR_TAIL, numbers + _RELEASE_TAIL):
        return _SKIP
    return numbers


def _rest_key(rest: str) -> _Parts | None:
    """(release flag, labels) of the text after the numbers; None when it needs the exact parser."""
    m = _REST.match(rest)
    if m is None:
        return None
    prerelease = m.group("pre")
    return (0, label_key(prerelease)) if prerelease else (1, ())


def scan_best(
    tags: Sequence[str], texts: Sequence[str], accept: Accept, span_filter: SpanFilter | None
) -> Best:
    """The best eligible tag by Octopus's order, exactly as `octopus_key` on every tag finds it.

    Real tag lists repeat the same numbers across many variants and the same rest across many
    numbers, so both halves are parsed once per distinct text (memo dicts). Anything unusual
    (no numbers, a trailing dot, spaces, five numbers) takes the exact per-tag parser.
    """
    heads: dict[str, _Parts] = {}
    rests: dict[str, _Parts | None] = {}
    strip = _HEAD_CHARS
    best_key: SortKey | None = None
    best_head: _Parts = (-1,)
    best_tag = ""
    best_text = ""
    for tag, text in zip(tags, texts, strict=True):
        rest = text.lstrip(strip)
        head = text.removesuffix(rest)
        if rest and rest[0] <= " " and not rest.isspace():
            # Octopus allows spaces before and between the numbers (` 2`, `1 .2`): the head
            # seen here is then not all of them, so it must not prune. Parse exactly.
            numbers = _EXACT
        else:
            numbers = heads.get(head)  # type: ignore[assignment]
            if numbers is None:
                numbers = heads[head] = _head_numbers(head, span_filter)
        if numbers < best_head:  # also drops _SKIP, the empty tuple
            continue
        if len(text) > MAX_TEXT:  # never a version (octopus_key), whatever its parts say
            continue
        if numbers is _EXACT:
            parsed = octopus_key(text)
            if parsed is None:
                continue
            key: SortKey = parsed[0]
        else:
            tail = rests.get(rest, MISSING)
            if tail is MISSING:
                tail = rests[rest] = _rest_key(rest)
            if tail is None or (not head and not rest.strip(" ")):
                parsed = octopus_key(text)
                if parsed is None:
                    continue
                key = parsed[0]
            else:
                key = numbers + tail
        if best_key is not None and (key < best_key or (key == best_key and tag <= best_tag)):
            continue
        if accept(tag, text, key):
            best_key, best_tag, best_text = key, tag, text
            best_head = cast(_Parts, key)[:4]
    return None if best_key is None else (best_key, best_tag, best_text)
