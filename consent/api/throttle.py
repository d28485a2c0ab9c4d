"""Throttling failed authentication: a token bucket per source address.

Every unknown or revoked API key costs its source address one token; a bucket holds
``burst`` tokens and regains ``per_minute`` a minute. A source with less than one token
is refused (HTTP 429 with ``Retry-After``) before its key is even looked at, so guessing
goes no faster than the refill. Each throttled source is logged once until its bucket
is full again: its address and the wait, never anything of the key. Buckets that are full again are
forgotten; at most ``max_sources`` are kept (the oldest go first).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AuthThrottle"]

_LOG = logging.getLogger(__name__)


@dataclass
class _Bucket:
    tokens: float
    at: float
    logged: bool = False


class AuthThrottle:
    """Failed authentications per source address, and whether a source must wait."""

    def __init__(
        self,
        *,
        burst: int = 10,
        per_minute: float = 10.0,
        max_sources: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_minute <= 0 or max_sources < 1:
            raise ValueError("burst and max_sources must be at least 1, per_minute positive")
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._max = max_sources
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _refilled(self, source: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(source)
        if bucket is None:
            return None
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= self._burst:
            del self._buckets[source]
            return None
        return bucket

    def _wait(self, bucket: _Bucket) -> int:
        return max(1, math.ceil((1.0 - bucket.tokens) / self._rate))

    def wait_s(self, source: str) -> int:
        """Seconds ``source`` must wait before its next key is looked at; 0 when none."""
        with self._lock:
            bucket = self._refilled(source, self._clock())
            if bucket is None or bucket.tokens >= 1.0:
                return 0
            return self._wait(bucket)

    def failed(self, source: str) -> None:
        """``source`` sent an unknown or revoked key."""
        with self._lock:
            now = self._clock()
            bucket = self._refilled(source, now)
            if bucket is None:
                bucket = self._buckets[source] = _Bucket(self._burst, now)
                while len(self._buckets) > self._max:
                    self._buckets.popitem(last=False)
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            if bucket.tokens < 1.0 and not bucket.logged:  # once, until the bucket is full
                bucket.logged = True
                _LOG.warning(
                    "consent service: throttling failed authentication from %s "
                    "(%d unknown API keys in a burst); refused for %d s",
                    source,
                    int(self._burst),
                    self._wait(bucket),
                )
