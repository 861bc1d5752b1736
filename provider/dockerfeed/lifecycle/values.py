"""Values as both faces hand them over: unknowns, unset values, and comparing them (no heavy imports)."""

from __future__ import annotations

from typing import Any

# How Pulumi's gRPC protocol spells a value that is not known yet (pulumi.runtime.rpc.UNKNOWN).
# The native plugin receives it as this plain string; the lifecycle returns it where a preview
# must show "not known until the operation runs".
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: object) -> bool:
    """`pulumi.output.Unknown` (dynamic providers during preview) or the gRPC sentinel string."""
    if isinstance(value, str):
        return value == UNKNOWN
    return type(value).__name__ == "Unknown"


def has_unknown(value: object) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    return False


def known(value: Any) -> Any:
    """`value` without its unknown parts: unknown list items and dict entries are dropped."""
    if isinstance(value, list):
        return [known(v) for v in value if not is_unknown(v)]
    if isinstance(value, dict):
        return {k: known(v) for k, v in value.items() if not is_unknown(v)}
    return value


def unset(value: object) -> bool:
    """Missing, None, "" and [] all mean "not given"."""
    return value is None or value == "" or value == []


def changed(old: Any, new: Any) -> bool:
    """Whether `new` differs from `old`; an unknown value may differ from anything."""
    if is_unknown(new) or is_unknown(old):
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        keys = {k for k, v in {**old, **new}.items() if not unset(v)}
        return any(changed(old.get(k), new.get(k)) for k in keys)
    if unset(old) and unset(new):
        return False
    return bool(old != new)


def given(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The properties of `names` that are set (None means unset), in that order."""
    return {k: props[k] for k in names if props.get(k) is not None}


def with_defaults(props: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """`props` with each unset property at its schema default (so omitting a default and
    writing it out compare equal; the generated SDKs write them out)."""
    return {**defaults, **{k: v for k, v in props.items() if v is not None}}
