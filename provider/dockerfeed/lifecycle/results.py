"""What the lifecycle hands back to a face: plain dataclasses, one error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LifecycleError(Exception):
    """An operation failed; `str(e)` is the one plain message meant for the person running Pulumi.
    `error` is the registry's (or resolver's) error it tells of, when there was one."""

    def __init__(self, message: str, error: Exception | None = None) -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class Checked:
    """The inputs to store (and to hand to diff/create/update), and one failure per bad property."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)  # (property, reason)


@dataclass(frozen=True)
class Diffed:
    """The properties that differ; `replaces` stays empty (a pin is state, never a remote object)."""

    changed: list[str]
    replaces: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.changed)


@dataclass(frozen=True)
class Read:
    """A refresh's answer: the outputs, and the inputs to store with them (the acknowledged state)."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]
