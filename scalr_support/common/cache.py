"""A Redis cache that treats an unreachable Redis as a miss (production's backend).

The cache only ever holds copies (sessions and the outbox live in PostgreSQL), so
when Redis is down a read misses, a write is skipped, and the request goes on; the
short socket timeouts in ``settings.production`` keep each attempt cheap.
"""

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _unavailable(operation: str) -> None:
    logger.warning("cache unavailable (%s); carrying on without it", operation)


class _SharedClient(RedisCacheClient):
    """Django's Redis client, with one ``redis.Redis`` per connection pool.

    Django builds a ``redis.Redis`` for every operation, which fills its table of
    response callbacks each time (about a tenth of a millisecond, more than a
    small ``GET`` takes); the object holds no connection of its own (it takes one
    from the pool per command) and is safe to share between threads.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class ResilientRedisCache(RedisCache):
    """``RedisCache`` whose reads miss and writes are skipped while Redis is down."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClient

    def validate_key(self, key: str) -> None:
        """Accept any key, as Redis does: the base class warns, character by
        character, about what memcached would refuse (a few microseconds a key,
        and the queue reads some fifty keys a page). Other backends (tests,
        development) still warn."""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError:
            _unavailable("get")
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError:
            _unavailable("get_many")
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except RedisError:
            _unavailable("has_key")
            return False

    def set(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError:
            _unavailable("set")

    def add(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            _unavailable("add")
            return False

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except RedisError:
            _unavailable("set_many")
            return list(data)

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        try:
            return super().touch(key, timeout, version)
        except RedisError:
            _unavailable("touch")
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError:
            _unavailable("delete")
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except RedisError:
            _unavailable("delete_many")

    def clear(self) -> None:
        try:
            super().clear()
        except RedisError:
            _unavailable("clear")
