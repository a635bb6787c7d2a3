"""The Redis broker: pub/sub fan-out, stream history with contiguous offsets, shared presence.

The only module that imports redis. One Lua script publishes atomically: it bumps the
channel's offset counter, appends to a bounded stream (the history) and publishes
``epoch \\n offset \\n payload``. The epoch is stored in Redis, so a Redis that lost its
data starts a new epoch and clients learn that recovery is impossible.

Presence entries are keyed ``process:connection`` and each process keeps a heartbeat key
with a TTL; entries of a process whose heartbeat expired are dropped on read, so members
of a dead process disappear within ``presence_ttl`` seconds on every node.

After a lost connection the subscriber reconnects by itself; it then replays each
channel's history after the last offset it delivered, so nothing published while it was
reconnecting is lost and nothing is delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from livepy.broker.base import BrokerBackend, BrokerError, Deliver, Delivery

__all__ = ["RedisBackend"]

logger = logging.getLogger("livepy.broker")

_PUBLISH = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[2], '*', 'n', n, 'p', ARGV[3])
redis.call('PUBLISH', KEYS[4], epoch .. '\\n' .. n .. '\\n' .. ARGV[3])
return {epoch, n}
"""


class RedisBackend(BrokerBackend):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "livepy:",
        history_size: int = 100,
        presence_ttl: float = 20.0,
        publish_timeout: float = 2.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.history_size = history_size
        self.presence_ttl = presence_ttl
        self.publish_timeout = publish_timeout
        self.process_id = secrets.token_hex(6)
        self._deliver: Deliver | None = None
        self._client: aioredis.Redis | None = None
        self._subscriber: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._script: Any = None
        self._channels: set[str] = set()
        self._last: dict[str, tuple[str, int]] = {}  # channel -> (epoch, last delivered offset)
        self._lost = False
        self._watching = False

    def _key(self, kind: str, channel: str) -> str:
        return f"{self.prefix}{kind}:{channel}"

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        # Publishes fail fast during an outage; the subscriber retries for ever.
        self._client = aioredis.Redis.from_url(
            self.url,
            socket_timeout=self.publish_timeout,
            socket_connect_timeout=self.publish_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._subscriber = aioredis.Redis.from_url(
            self.url,
            retry=Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.05), 3),
        )
        self._script = self._client.register_script(_PUBLISH)
        self._pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> None:
        for task in (self._reader, self._heartbeat):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.delete(self._key("proc", self.process_id))
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        for client in (self._client, self._subscriber):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
        self._deliver = None

    # -- publishing ------------------------------------------------------------------

    async def publish(self, channel: str, payload: bytes) -> tuple[str, str]:
        keys = [
            self._key("epoch", channel),
            self._key("n", channel),
            self._key("h", channel),
            self._key("c", channel),
        ]
        try:
            epoch, offset = await asyncio.wait_for(
                self._script(keys=keys, args=[secrets.token_hex(4), self.history_size, payload]),
                self.publish_timeout,
            )
        except (RedisError, OSError, TimeoutError) as exc:
            raise BrokerError(
                f"publish to {channel!r} failed: Redis is unreachable ({exc})"
            ) from exc
        return _text(epoch), str(int(offset))

    # -- subscribing -----------------------------------------------------------------

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        with contextlib.suppress(RedisError, OSError):  # the reader re-subscribes after a loss
            await self._pubsub.subscribe(self._key("c", channel))
            if not self._watching and self._pubsub.connection is not None:
                # redis-py reconnects and re-subscribes on its own; this tells us it did.
                self._pubsub.connection.register_connect_callback(self._on_reconnect)
                self._watching = True
            if channel not in self._last:
                self._last[channel] = await self._position(channel)

    async def _on_reconnect(self, connection: Any) -> None:
        self._lost = True

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        self._last.pop(channel, None)
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.unsubscribe(self._key("c", channel))

    async def _position(self, channel: str) -> tuple[str, int]:
        assert self._subscriber is not None
        epoch, n = await self._subscriber.mget(self._key("epoch", channel), self._key("n", channel))
        return (_text(epoch) if epoch else ""), int(n or 0)

    async def _read(self) -> None:
        while True:
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)  # nothing subscribed yet: get_message would fail
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
                if self._lost:
                    await self._recover()
                    self._lost = False
                if message is not None and message["type"] == "message":
                    await self._on_message(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, BrokerError) as exc:
                if not self._lost:
                    logger.warning("event=broker_lost url=%s error=%s", _redacted(self.url), exc)
                self._lost = True
                await asyncio.sleep(0.25)  # retry pacing while Redis is down
                with contextlib.suppress(RedisError, OSError):
                    channels = [self._key("c", ch) for ch in self._channels]
                    if channels:
                        await self._pubsub.subscribe(*channels)
            except Exception:
                logger.exception("event=broker_reader_error")
                await asyncio.sleep(0.25)

    async def _on_message(self, raw_channel: bytes, data: bytes) -> None:
        channel = _text(raw_channel)[len(self.prefix) + 2 :]
        epoch, offset_text, payload = data.split(b"\n", 2)
        await self._accept(Delivery(channel, payload, _text(epoch), _text(offset_text)))

    async def _accept(self, delivery: Delivery) -> None:
        """Deliver once, in order: skip what was already delivered (replays overlap)."""
        if delivery.channel not in self._channels:
            return
        offset = int(delivery.offset)
        last_epoch, last = self._last.get(delivery.channel, (delivery.epoch, offset - 1))
        if last_epoch == delivery.epoch and offset <= last:
            return
        self._last[delivery.channel] = (delivery.epoch, offset)
        if self._deliver is not None:
            await self._deliver(delivery)

    async def _recover(self) -> None:
        """After a reconnect: replay what each channel missed while the link was down."""
        logger.info(
            "event=broker_recovered url=%s channels=%d", _redacted(self.url), len(self._channels)
        )
        for channel in list(self._channels):
            epoch, last = self._last.get(channel, ("", 0))
            missed = await self.history(channel, epoch, str(last)) if epoch else None
            if missed is None:
                missed = await self.history(channel, (await self._position(channel))[0], "0")
            for delivery in missed or []:
                await self._accept(delivery)

    # -- history and presence ------------------------------------------------------------

    async def history(self, channel: str, epoch: str, after: str) -> list[Delivery] | None:
        assert self._subscriber is not None
        try:
            current, top = await self._position(channel)
            if not after.isdigit() or current != epoch or int(after) > top:
                return None
            entries: Any = await self._subscriber.xrange(self._key("h", channel))
        except (RedisError, OSError) as exc:
            raise BrokerError(f"history of {channel!r} is unavailable: {exc}") from exc
        kept = [(int(fields[b"n"]), fields[b"p"]) for _, fields in entries]
        last = int(after)
        if kept and kept[0][0] > last + 1:
            return None
        if not kept and top > last:
            return None
        return [Delivery(channel, p, epoch, str(n)) for n, p in kept if n > last]

    async def recent(self, channel: str, limit: int) -> list[Delivery]:
        assert self._client is not None
        try:
            epoch, _ = await self._position(channel)
            entries: Any = await self._client.xrevrange(self._key("h", channel), count=limit)
        except (RedisError, OSError) as exc:
            raise BrokerError(f"history of {channel!r} is unavailable: {exc}") from exc
        newest_first = [Delivery(channel, f[b"p"], epoch, str(int(f[b"n"]))) for _, f in entries]
        return newest_first[::-1]

    async def _beat(self) -> None:
        while True:
            with contextlib.suppress(RedisError, OSError):
                assert self._client is not None
                await self._client.set(
                    self._key("proc", self.process_id), b"1", px=int(self.presence_ttl * 1000)
                )
            await asyncio.sleep(self.presence_ttl / 3)

    async def presence_set(self, channel: str, key: str, member: bytes) -> None:
        assert self._client is not None
        try:
            await self._client.hset(self._key("p", channel), f"{self.process_id}:{key}", member)
        except (RedisError, OSError) as exc:
            raise BrokerError(f"presence on {channel!r} failed: {exc}") from exc

    async def presence_remove(self, channel: str, key: str) -> None:
        assert self._client is not None
        with contextlib.suppress(RedisError, OSError):
            await self._client.hdel(self._key("p", channel), f"{self.process_id}:{key}")

    async def presence_members(self, channel: str) -> dict[str, bytes]:
        assert self._client is not None
        try:
            entries: Any = await self._client.hgetall(self._key("p", channel))
            processes = sorted({k.split(b":", 1)[0] for k in entries})
            alive_flags = (
                await self._client.mget([self._key("proc", _text(p)) for p in processes])
                if processes
                else []
            )
        except (RedisError, OSError) as exc:
            raise BrokerError(f"presence on {channel!r} is unavailable: {exc}") from exc
        alive = {p for p, flag in zip(processes, alive_flags, strict=True) if flag is not None}
        dead = [k for k in entries if k.split(b":", 1)[0] not in alive]
        if dead:
            with contextlib.suppress(RedisError, OSError):
                await self._client.hdel(self._key("p", channel), *dead)
        return {_text(k): v for k, v in entries.items() if k.split(b":", 1)[0] in alive}


def _redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
