"""NuGet's version grammar, for the bounds of NuGet intervals (docs/versions.md, the range table).

Octopus reads a *tag* leniently (`1.`, `1.3..2` and `1.0myfeature` are tags it can order), but a
range bound is read by NuGet's `NuGetVersion.TryParse`, which is strict. These functions say
whether a bound is a NuGet version and give the text to order it by; the order itself is the
strategy's. Written from NuGet.Client's behaviour and tests (VersionRangeTests,
NuGetVersionFactory, FloatRange), not from its code.
"""

from __future__ import annotations

_DIGITS = frozenset("0123456789")
_LABEL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_MAX_NUMBER = 2**31 - 1


def _numbers(text: str) -> str | None:
    """The numeric part: 1 to 4 sections of digits split by `.`, spaces allowed around each
    number, no empty section, no trailing `.`, each at most Int32; returned without spaces."""
    sections = text.split(".")
    if len(sections) > 4:
        return None
    out = []
    for section in sections:
        digits = section.strip()
        if not digits or not _DIGITS.issuperset(digits) or int(digits) > _MAX_NUMBER:
            return None
        out.append(digits)
    return ".".join(out)


def _part_ok(part: str, *, leading_zeros: bool) -> bool:
    if not part or not _LABEL_CHARS.issuperset(part):
        return False
    # `0` and `0a` are fine, `01` is not (in labels; metadata allows it).
    return leading_zeros or not (len(part) > 1 and part[0] == "0" and _DIGITS.issuperset(part))


def nuget_version(text: str) -> str | None:
    """`text` as NuGet reads a version (without its spaces), or None when NuGet refuses it."""
    value = text.strip()
    if not value:
        return None
    cut = min((i for i in (value.find("-"), value.find("+")) if i >= 0), default=len(value))
    numbers = _numbers(value[:cut])
    if numbers is None:
        return None
    rest = value[cut:]
    labels, _, metadata = rest.partition("+")
    if rest.startswith("-"):
        if not all(_part_ok(p, leading_zeros=False) for p in labels[1:].split(".")):
            return None
    elif labels:  # cannot happen: the cut is at the first `-` or `+`
        return None
    if "+" in rest and not all(_part_ok(p, leading_zeros=True) for p in metadata.split(".")):
        return None
    return numbers + rest


def nuget_float_minimum(text: str) -> str | None:
    """The lowest version a NuGet floating bound (`1.*`, `1.0.*`, `1.0.0-beta*`, `1.*-*`, `*`)
    stands for, or None when `text` is not one. NuGet lets only the lower bound float."""
    value = text.strip()
    first, last = value.find("*"), value.rfind("*")
    if first < 0 or "+" in value:
        return None
    if value == "*":
        return "0.0"
    if value == "*-*":
        return "0.0.0-0"
    dash = value.find("-")
    if first != last:
        # Two stars: one ending the numbers, right before the first `-`, one ending the label.
        if dash < 0 or last != len(value) - 1 or first != dash - 1:
            return None
        label = value[dash + 1 : -1]
        candidate = value[: dash - 1] + "0-" + (label + "0" if not label or label.endswith(".") else label)
    elif last == len(value) - 1:
        candidate = value[:-1]
        if dash < 0:
            candidate += "0"
        elif value.count("-") == 1:
            label = candidate[dash + 1 :]
            if not label or candidate.endswith("."):
                candidate += "0"
    else:
        return None
    return nuget_version(candidate)
