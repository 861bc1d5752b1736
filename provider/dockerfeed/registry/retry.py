"""Bounded retries of transient failures: 429/5xx answers and broken connections, with backoff
that honours `Retry-After`. Retries sit below auth, so each request is retried on its own, and
above the deadline, so each attempt has its own (docs/design.md, "A timeout is a deadline").
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

import httpx

from dockerfeed.registry._http import release

# 500 too: registries answer transient storage-backend hiccups with a bare 500; 501 and 505 are
# permanent.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryPolicy:
    """Exponential backoff honouring `Retry-After`, bounded in attempts and in total time."""

    def __init__(
        self,
        attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        budget: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.budget = budget
        self.sleep = sleep

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = float(min(self.max_delay, self.base_delay * 2.0**attempt))
        if response is not None:
            after = retry_after_seconds(response.headers.get("retry-after"))
            if after is not None:
                delay = after
        return delay


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_RETRIED = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectTimeout)


class RetryTransport(httpx.BaseTransport):
    """Retries 429/500/502/503/504 and connection failures for idempotent requests.

    Retries have their own bound, `policy.budget` seconds from the first attempt: a retry only
    starts while the wait before it still ends within the budget, and each attempt has its own
    deadline, so a request with all its retries ends within budget + one deadline.
    """

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self.inner = inner
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Token POSTs are retried too: a token grant has no side effect on the registry.
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self.inner.handle_request(request)
            except _RETRIED as e:
                if attempt + 1 >= self.policy.attempts:
                    raise
                delay = self.policy.delay(attempt, None)
                if time.monotonic() - started + delay > self.policy.budget:
                    raise type(e)(
                        f"{e} (gave up after {attempt + 1} attempts: the retries of one request have "
                        f"{self.policy.budget:g} s in all)",
                        request=request,
                    ) from e
            else:
                if response.status_code not in RETRY_STATUSES or attempt + 1 >= self.policy.attempts:
                    return response
                delay = self.policy.delay(attempt, response)
                if time.monotonic() - started + delay > self.policy.budget:
                    return response
                release(response)
            self.policy.sleep(delay)
            attempt += 1

    def close(self) -> None:
        self.inner.close()


__all__ = ["RETRY_STATUSES", "RetryPolicy", "RetryTransport", "retry_after_seconds"]
