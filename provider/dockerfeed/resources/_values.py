"""Small helpers shared by the providers and the input models (no heavy imports)."""

from __future__ import annotations

from typing import Any


def is_unknown(value: Any) -> bool:
    """Pulumi hands unknown values (preview) to check/diff as `pulumi.output.Unknown`."""
    return type(value).__name__ == "Unknown"
