"""Unit tests start from a clean registry package: each test gets a Session of its own (no pooled
client, learned host or token), made the default for the code under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dockerfeed.registry.retry import RetryPolicy
from dockerfeed.registry.session import Session, set_default_session


@pytest.fixture(autouse=True)
def retry_sleeps() -> Iterator[list[float]]:
    """The backoff the retry policy asked for, recorded instead of slept."""
    sleeps: list[float] = []
    previous = set_default_session(Session(retry=RetryPolicy(sleep=sleeps.append)))
    yield sleeps
    set_default_session(previous).reset()
