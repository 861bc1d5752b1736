"""Property values of the gRPC wire <-> the plain dictionaries the lifecycle works on.

The lifecycle sees plain Python values with schema (camelCase) names: secrets unwrapped, unknowns
as the engine's sentinel string (what `lifecycle.is_unknown` tests for). Going back, a value is
marked secret where it came in secret (same path) and wherever the schema declares the property
secret; anything unknown goes out as the sentinel (`PropertyValue.computed()` cannot be sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from dockerfeed.contract import SECRETS
from dockerfeed.lifecycle.values import UNKNOWN, is_unknown

Path = tuple[str | int, ...]


def plain(props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[Path]]:
    """(plain values, paths of the values that were secret)."""
    secret: set[Path] = set()
    return {k: _plain(v, (k,), secret) for k, v in props.items()}, secret


def _plain(value: PropertyValue, path: Path, secret: set[Path]) -> Any:
    if value.is_secret:
        secret.add(path)
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: _plain(v, (*path, k), secret) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [_plain(v, (*path, i), secret) for i, v in enumerate(inner)]
    return inner


def wire(props: Mapping[str, Any], secret: set[Path] | None = None) -> dict[str, PropertyValue]:
    """Plain values -> property values; None entries are left out (an unset property)."""
    marks = secret or set()
    return {k: _wire(v, (k,), marks) for k, v in props.items() if v is not None}


def _wire(value: Any, path: Path, secret: set[Path]) -> PropertyValue:
    if is_unknown(value):
        out = PropertyValue(UNKNOWN)
    elif isinstance(value, Mapping):
        out = PropertyValue({k: _wire(v, (*path, k), secret) for k, v in value.items() if v is not None})
    elif isinstance(value, (list, tuple)):
        out = PropertyValue([_wire(v, (*path, i), secret) for i, v in enumerate(value)])
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        out = PropertyValue(value)
    elif isinstance(value, (int, float)):
        out = PropertyValue(float(value))  # the wire has only doubles; an int is refused
    else:
        raise TypeError(f"cannot send a {type(value).__name__} to the engine")
    name = path[-1]
    if path in secret or (isinstance(name, str) and name in SECRETS):
        out = out.with_secret(True)
    return out
