"""Unit tests start from a clean registry package: no pooled client, learned host or token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dockerfeed.registry import transport


@pytest.fixture(autouse=True)
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The backoff the retry policy asked for, recorded instead of slept."""
    transport.reset_clients()
    sleeps: list[float] = []
    monkeypatch.setattr(transport.DEFAULT_POLICY, "sleep", sleeps.append)
    yield sleeps
    transport.transport_factory = None
    transport.reset_clients()
