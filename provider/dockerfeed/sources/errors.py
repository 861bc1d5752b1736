"""Errors of the credential sources. Messages name the source and what to do, never a secret."""

from __future__ import annotations


class SourceError(Exception):
    """A source could not give credentials (nothing configured, refused, unreachable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message,))


class SourceConfigError(SourceError, ValueError):
    """The `credentials` input itself cannot be used (checked before anything is asked)."""


class MissingExtra(SourceError):
    """A cloud source whose library is not installed: the message names the extra to install."""
