"""Default throttles for anonymous callers, signed-in people and API keys (429 + Retry-After)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry.api.caller import api_key_of
from registry.api.models import ThrottleCounter

if TYPE_CHECKING:  # DRF's views import this module through its settings
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def _count_hit(key: str, ttl: int, amount: int = 1) -> int:
    """Add ``amount`` to the counter ``key`` (created with ``ttl`` seconds to live); the new count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # INCR and EXPIRE NX in one round trip; Django's own incr() costs an EXISTS first.
        redis_key = backend.make_and_validate_key(key)
        pipeline = _write_client(backend, redis_key).pipeline(transaction=False)
        pipeline.incrby(redis_key, amount)
        pipeline.expire(redis_key, ttl, nx=True)
        count, _ = pipeline.execute()
        return int(count)
    if isinstance(backend, DatabaseCache):
        return _count_hit_in_database(key, ttl, amount)
    if backend.add(key, amount, ttl):
        return amount
    try:
        return int(backend.incr(key, amount))
    except ValueError:  # expired between add() and incr()
        backend.set(key, amount, ttl)
        return amount


def _count_hits(hits: Sequence[tuple[str, int]]) -> list[int]:
    """``_count_hit`` for each (key, time to live), in one round trip on Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or len(hits) < 2:
        return [_count_hit(key, ttl) for key, ttl in hits]
    keys = [backend.make_and_validate_key(key) for key, _ in hits]
    # Every write goes to the same server (Django's RedisCache writes to its first), so one pipeline.
    pipeline = _write_client(backend, keys[0]).pipeline(transaction=False)
    for redis_key, (_, ttl) in zip(keys, hits, strict=True):
        pipeline.incrby(redis_key, 1)
        pipeline.expire(redis_key, ttl, nx=True)
    replies = pipeline.execute()
    return [int(count) for count in replies[::2]]


def throttle_waits(view: APIView, request: Request) -> list[float | None]:
    """Count the request on every throttle of ``view``, the counters in one round trip on Redis;
    the waits of those that refuse it (none: allowed). As DRF does, every throttle counts it."""
    planned: list[tuple[_RateFromSettings, tuple[str, int, int]]] = []
    waits: list[float | None] = []
    for throttle in view.get_throttles():
        if isinstance(throttle, _RateFromSettings):
            hit = throttle.planned_hit(request, view)
            if hit is not None:
                planned.append((throttle, hit))
        elif not throttle.allow_request(request, view):
            waits.append(throttle.wait())
    try:
        counts = _count_hits([(key, ttl) for _, (key, ttl, _) in planned])
    except Exception:  # as allow_request: a counter that cannot be read never stops an answer
        logger.warning("Throttles: cache unavailable; allowing the request.", exc_info=True)
        counts = [0] * len(planned)
    waits += [
        throttle.wait() for (throttle, (_, _, budget)), count in zip(planned, counts, strict=True) if count > budget
    ]
    return waits


def throttles_check(view: APIView, request: Request) -> None:
    """``APIView.check_throttles`` over ``throttle_waits``: a refusal waits for the longest of them."""
    waits = throttle_waits(view, request)
    if waits:
        # DRF passes None when no throttle knows its wait; its stubs say float.
        view.throttled(request, max((wait for wait in waits if wait is not None), default=None))  # type: ignore[arg-type]


def _write_client(backend: RedisCache, key: str) -> Any:
    """The backend's client for writes, made once: Django's builds a new ``redis.Redis`` (copying
    its ~170 response callbacks) for every operation, half the CPU time of counting a hit. It
    shares the backend's connection pool, and the backend object belongs to one thread."""
    cache_client = backend._cache
    client = getattr(cache_client, "_restu_write_client", None)
    if client is None:
        client = cache_client.get_client(key, write=True)
        cache_client._restu_write_client = client  # type: ignore[attr-defined]  # our own attribute on Django's client
    return client


def _count_hit_in_database(key: str, ttl: int, amount: int) -> int:
    """One upsert: the same single statement for a new counter and a counted one."""
    quote = connection.ops.quote_name
    table = quote(ThrottleCounter._meta.db_table)
    expires = connection.ops.adapt_datetimefield_value(timezone.now() + timedelta(seconds=ttl))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('key')}, {quote('hits')}, {quote('expires')}) VALUES (%s, %s, %s) "  # noqa: S608 - names are quoted model names, values are parameters
            f"ON CONFLICT ({quote('key')}) DO UPDATE SET {quote('hits')} = {table}.{quote('hits')} + %s "
            f"RETURNING {quote('hits')}",
            [key, amount, expires, amount],
        )
        return int(cursor.fetchone()[0])


def purge_expired_counters() -> int:
    """Forget throttle windows that have closed; the number of rows removed."""
    deleted, _ = ThrottleCounter.objects.filter(expires__lt=timezone.now()).delete()
    return deleted


class _RateFromSettings(SimpleRateThrottle):
    """A fixed-window counter per caller and scope, kept in the cache.

    DRF's own throttle keeps every request's timestamp in one cached list, unpickled and pickled
    again on every request: at thousands of requests a minute that list, not the database, is the
    cost of a verification. A counter per window is one small integer and one round trip. A
    fixed window lets a caller reach twice the rate across a window's edge, which is harmless for
    what the throttles are for (stopping enumeration and floods).
    """

    # Set by DRF's __init__ from parse_rate (None without a rate), and again by limit().
    num_requests: int | None
    duration: int | None

    # DRF binds THROTTLE_RATES at import; read it per request so settings changes apply.
    def get_rate(self) -> str | None:
        if self.scope is None:
            return None
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value]  # DRF's stubs type rates as numbers; they are "N/period" strings

    def limit(self) -> tuple[int, int] | None:
        """(requests, seconds) of the rate, also kept on the throttle as DRF does; None only with no rate."""
        num_requests, duration = self.parse_rate(self.rate)
        if num_requests is None or duration is None:
            return None
        self.num_requests, self.duration = num_requests, duration
        return num_requests, duration

    def planned_hit(self, request: Request, view: Any) -> tuple[str, int, int] | None:
        """The counter this request adds to, its time to live and the window's budget, or None when
        this throttle does not apply (no rate, or not this kind of caller). Sets ``wait()``."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        limit = self.limit()
        if limit is None:
            return None
        num_requests, duration = limit
        now = self.timer()
        window = int(now // duration)
        self._wait = (window + 1) * duration - now
        return f"{key}:{window}", duration + 1, num_requests

    def allow_request(self, request: Request, view: Any) -> bool:
        hit = self.planned_hit(request, view)
        if hit is None:
            return True
        key, ttl, num_requests = hit
        # Counters live in the cache (Redis in production). If it is down, answer anyway: a
        # verification must not fail because a rate counter cannot be read.
        try:
            count = _count_hit(key, ttl)
        except Exception:  # redis and the cache backends raise several unrelated types
            logger.warning("Throttle %s: cache unavailable; allowing the request.", self.scope, exc_info=True)
            return True
        return count <= num_requests

    def wait(self) -> float:
        return max(1.0, self._wait)


class AnonThrottle(_RateFromSettings):
    """Callers with no credentials, by client address."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_RateFromSettings):
    """Signed-in people (session or app token), by user."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated) or api_key_of(request) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ApiKeyThrottle(_RateFromSettings):
    """API keys, by organization, so many keys don't multiply the allowance."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = api_key_of(request)
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.organization_id}


class LogReadThrottle(_RateFromSettings):
    """Reads of the public log, by client address, with a limit high enough for a full audit."""

    scope = "log_read"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _OrganizationThrottle(_RateFromSettings):
    """One organization's budget in a scope, for callers outside DRF (the studio pages)."""

    def __init__(self, scope: str, organization_id: int) -> None:
        self.scope = scope
        self.organization_id = organization_id
        super().__init__()

    def get_cache_key(self, request: Any, view: Any) -> str:
        # The same key VerifyThrottle uses for the organization's API keys: pages and keys share one budget.
        return self.cache_format % {"scope": self.scope, "ident": self.organization_id}


def organization_wait(scope: str, organization_id: int, request: Any) -> int | None:
    """Count one request against the organization's ``scope`` rate: None if allowed, else seconds to wait."""
    throttle = _OrganizationThrottle(scope, organization_id)
    if throttle.allow_request(request, None):
        return None
    return math.ceil(throttle.wait())  # rounded up, as the API's 429 answers are


def organization_charge(scope: str, organization_id: int, hits: int) -> int | None:
    """Charge ``hits`` at once to the organization's ``scope`` budget: None if allowed, else seconds to wait.

    Refused only when the window's budget was already spent before this charge; otherwise every
    hit is charged, even past the budget, so what follows waits for the next window. Refusing any
    batch larger than what is left would make a batch larger than the whole budget impossible
    while letting the same checks through one by one.
    """
    throttle = _OrganizationThrottle(scope, organization_id)
    if throttle.rate is None or hits <= 0:
        return None
    limit = throttle.limit()
    if limit is None:
        return None
    num_requests, duration = limit
    now = throttle.timer()
    window = int(now // duration)
    key = f"{throttle.get_cache_key(None, None)}:{window}"
    try:
        count = _count_hit(key, duration + 1, hits)
    except Exception:  # as the throttles do: a counter that cannot be read never stops an answer
        logger.warning("Throttle %s: cache unavailable; %d hits not charged.", scope, hits, exc_info=True)
        return None
    if count - hits >= num_requests:
        return max(1, math.ceil((window + 1) * duration - now))
    return None
