"""Token buckets in Redis, shared by every worker and replica: the GCRA step of
buckets.py as one Lua script, so concurrent requests cannot read the same old state."""

from __future__ import annotations

from typing import Any

from service.throttle.buckets import Decision, Rate

PREFIX = "faqbot:rate:"
# KEYS[1]: the bucket; ARGV: now, interval, tolerance (seconds). Returns {allowed, retry}
# as strings (Redis turns Lua numbers into integers).
_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local early = tat - now
if early > tolerance then
  return {'0', tostring(early - tolerance)}
end
local new = tat + interval
redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil((new - now) * 1000) + 1000)
return {'1', '0'}
"""


class RedisBuckets:
    def __init__(self, client: Any) -> None:
        self._redis = client
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str, timeout_s: float) -> RedisBuckets:
        import redis

        return cls(
            redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        )

    def take(self, key: str, rate: Rate, now: float) -> Decision:
        import redis

        try:
            allowed, retry = self._script(
                keys=[PREFIX + key],
                args=[repr(now), repr(rate.interval_s), repr(rate.tolerance_s)],
            )
        except redis.RedisError as exc:
            # As an OSError, the guard in front counts it towards its breaker.
            raise ConnectionError(f"redis: {type(exc).__name__}: {exc}") from exc
        if int(allowed) == 1:
            return Decision(True)
        return Decision(False, max(0.0, float(retry)))
