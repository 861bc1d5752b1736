"""Octopus versions: how Octopus Deploy reads and orders a Docker tag (docs/versions.md).

The parser follows Octopus's OctopusVersionParser pattern; the order follows OctopusVersion and
DockerTag. Ordering is by a precomputed sort key (a tuple of ints and strings), so comparing two
versions, or a version with a range bound, is one C-level tuple comparison. The selection code
uses `octopus_key` directly and never builds OctopusVersion objects for the tags it discards.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TypeAlias

# .NET's int.Parse overflows above Int32.MaxValue and Octopus then rejects the version.
MAX_PART = 2**31 - 1
# A Docker tag has at most 128 characters. Longer text is never a version: the pattern below
# backtracks quadratically over a long run of digits, and tags are text a registry chooses.
MAX_TEXT = 128
# Why such a text is no version, for every strategy that reads numbers (not alphabetical or
# numerical, which compare any text): also, int() refuses more than 4,300 digits.
TOO_LONG = f"longer than {MAX_TEXT} characters, which no Docker tag is"

LabelKey: TypeAlias = tuple[tuple[int, int | str], ...]
# (major, minor, patch, revision, release flag, pre-release labels).
# The release flag is 0 for a pre-release and 1 for a release, so a pre-release sorts below the
# same numbers without one. A release has no labels; the key (n, n, n, n, 0, ()) sorts below every
# real pre-release of those numbers, which is what "below 2.0.0 and all its pre-releases" needs.
OctopusKey: TypeAlias = tuple[int, int, int, int, int, LabelKey]

# The Octopus pattern with `\s` narrowed to a plain space: Octopus rejects tabs and
# newlines, and a Docker tag never contains either. `\Z` instead of `$` because
# Python's `$` would also accept a trailing newline.
_PATTERN = re.compile(
    r"^ *(?: *(?P<prefix>[vV])? *(?P<major>\d+) *"
    r"(?:\. *(?P<minor>\d+) *)?"
    r"(?:\. *(?P<patch>\d+) *)?"
    r"(?:\. *(?P<revision>\d+) *)?)?"
    r"(?:[.\-_\\])?"
    r"(?P<prerelease>[A-Za-z0-9]*?(?:[.\-_\\][A-Za-z0-9.\-_\\]*?)?)?"
    r"(?:\+(?P<metadata>[A-Za-z0-9_\-.\\+]*?))? *\Z",
    re.ASCII,
)
_GROUPS = ("prefix", "major", "minor", "patch", "revision", "prerelease", "metadata")
# Octopus compares pre-releases after replacing every non-alphanumeric character with `-`;
# after that `-` is the only separator left to split on.
_SEPARATORS = re.compile(r"[^A-Za-z0-9]", re.ASCII)

# Docker's one special word (DockerTag.cs): `latest` is not a pre-release, but it is still
# ordered as 0.0.0.0-latest, so every real version sorts above it.
LATEST = "latest"


@functools.lru_cache(maxsize=4096)
def label_key(prerelease: str) -> LabelKey:
    """The comparable form of a pre-release label.

    Cached because real tag lists repeat a few hundred suffixes (`alpine3.18`, `bookworm`)
    across thousands of version numbers.
    """
    out: list[tuple[int, int | str]] = []
    for label in _SEPARATORS.split(prerelease):
        # int.TryParse in Octopus: all digits and within Int32, else the label is text.
        if label.isdigit() and (len(label) < 10 or int(label) <= MAX_PART):
            out.append((0, int(label)))
        else:
            # Octopus compares text labels with OrdinalIgnoreCase; labels are ASCII
            # alphanumerics here, for which lower-casing keeps the ordinal order.
            out.append((1, label.lower()))
    return tuple(out)


def _number(text: str | None) -> int:
    if text is None:
        return 0
    if len(text.lstrip("0")) > 10:  # also keeps int() away from Python's digit limit
        raise OverflowError(text)
    value = int(text)
    if value > MAX_PART:
        raise OverflowError(text)
    return value


# Parsed fields: (prefix, major, minor, patch, revision, prerelease, metadata, parts given).
_Fields: TypeAlias = tuple[str, int, int, int, int, str, str, int]


def _fields(tag: str) -> _Fields | None:
    if len(tag) > MAX_TEXT:
        return None
    m = _PATTERN.match(tag)
    if m is None:
        return None
    prefix, major, minor, patch, revision, prerelease, metadata = m.group(*_GROUPS)
    if major is None and not prerelease and not metadata and not tag.strip(" "):
        return None  # Octopus refuses empty and blank versions.
    try:
        numbers = (_number(major), _number(minor), _number(patch), _number(revision))
    except OverflowError:
        return None
    given = sum(1 for part in (major, minor, patch, revision) if part is not None)
    return (prefix or "", *numbers, prerelease or "", metadata or "", given)


def octopus_key(tag: str) -> tuple[OctopusKey, str, str] | None:
    """(sort key, pre-release label, metadata) of a tag, or None when Octopus rejects it.

    The hot path of selection: no objects beyond the key tuple.
    """
    if len(tag) > MAX_TEXT:
        return None
    m = _PATTERN.match(tag)
    if m is None:
        return None
    _, major, minor, patch, revision, prerelease, metadata = m.group(*_GROUPS)
    try:
        ma = int(major) if major is not None else 0
        mi = int(minor) if minor is not None else 0
        pa = int(patch) if patch is not None else 0
        re_ = int(revision) if revision is not None else 0
    except ValueError:  # beyond Python's int-from-text digit limit: certainly an overflow
        return None
    if ma > MAX_PART or mi > MAX_PART or pa > MAX_PART or re_ > MAX_PART:
        return None
    if prerelease:
        return (ma, mi, pa, re_, 0, label_key(prerelease)), prerelease, metadata or ""
    if major is None and not metadata and not tag.strip(" "):
        return None
    return (ma, mi, pa, re_, 1, ()), "", metadata or ""


def release_key(parts: tuple[int, ...]) -> OctopusKey:
    """Key of the release with these numbers (missing parts are 0)."""
    p = (*parts, 0, 0, 0, 0)
    return (p[0], p[1], p[2], p[3], 1, ())


def floor_key(parts: tuple[int, ...]) -> OctopusKey:
    """A key just below every version, pre-release or not, with these numbers."""
    p = (*parts, 0, 0, 0, 0)
    return (p[0], p[1], p[2], p[3], 0, ())


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class OctopusVersion:
    """A tag read as an Octopus version.

    Equality and order ignore the `v` prefix, whitespace and metadata, and compare pre-release
    labels after normalising separators, case-insensitively, as Octopus does: `v1.0+a` == `1.0`.
    Equal versions may still be different tags; selection breaks such ties by tag text.
    """

    major: int
    minor: int
    patch: int
    revision: int
    prerelease: str
    metadata: str
    original: str
    prefix: str = ""
    parts_given: int = 0
    key: OctopusKey = field(default=(0, 0, 0, 0, 1, ()), repr=False)

    @property
    def is_prerelease(self) -> bool:
        # DockerTag.IsPrerelease: the exact tag `latest` is not a pre-release.
        return bool(self.prerelease) and self.original != LATEST

    @property
    def is_latest(self) -> bool:
        return self.original == LATEST

    @property
    def release_label(self) -> str:
        """What Octopus tests a channel's pre-release rule against: label plus `+metadata`."""
        return self.prerelease + (f"+{self.metadata}" if self.metadata else "")

    def display(self) -> str:
        """Normalised form: three numbers (four when the revision is set), then `-label`."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.revision:
            text += f".{self.revision}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "major": self.major,
            "minor": self.minor,
            "patch": self.patch,
            "revision": self.revision,
            "prerelease": self.prerelease,
            "metadata": self.metadata,
            "isPrerelease": self.is_prerelease,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OctopusVersion):
            return NotImplemented
        return self.key == other.key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, OctopusVersion):
            return NotImplemented
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.original


def parse_octopus(tag: str) -> OctopusVersion | None:
    """Read `tag` as Octopus does; None when Octopus would reject it."""
    fields = _fields(tag)
    if fields is None:
        return None
    prefix, major, minor, patch, revision, prerelease, metadata, given = fields
    key: OctopusKey = (
        major,
        minor,
        patch,
        revision,
        0 if prerelease else 1,
        label_key(prerelease) if prerelease else (),
    )
    return OctopusVersion(
        major=major,
        minor=minor,
        patch=patch,
        revision=revision,
        prerelease=prerelease,
        metadata=metadata,
        original=tag,
        prefix=prefix,
        parts_given=given,
        key=key,
    )
