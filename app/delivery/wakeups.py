"""Wakes long polls (`GET /v1/inbox?wait=`) when a delivery for their receiver commits.

A waiting poll holds no thread and no database connection: it awaits an `asyncio.Event` on
the event loop. What sets the event:
- in this process, `Database.transaction()` after a commit that filled an inbox (`notify`);
- on PostgreSQL, a `LISTEN sektorbro_inbox` connection per process, which hears the NOTIFY
  that a trigger on `deliveries` sends when the transaction of any process commits (migration
  0006: the receiver's GLN is the payload);
- as a safety net, the poll looks at the database again every `recheck_seconds` (SQLite: a
  commit by another process, e.g. `sektorbro worker`, is only seen that way; PostgreSQL: a
  notification lost while the LISTEN connection was down).
Imports nothing from `app`.
"""

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress

import psycopg

__all__ = ["INBOX_CHANNEL", "InboxWakeups", "Subscription"]

log = logging.getLogger("sektorbro.wakeups")

INBOX_CHANNEL = "sektorbro_inbox"
_RECONNECT_SECONDS = (1, 2, 5, 10, 30)


class Subscription:
    """One waiting poll's doorbell."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def wait(self, timeout: float) -> bool:
        """True if woken within `timeout` seconds (and ready to be woken again)."""
        try:
            async with asyncio.timeout(timeout):
                await self._rung.wait()
        except TimeoutError:
            return False
        self._rung.clear()
        return True


class InboxWakeups:
    """The doorbells of one process's waiting polls, by receiver GLN."""

    def __init__(self, *, listen_conninfo: str | None, recheck_seconds: float) -> None:
        self.listen_conninfo = listen_conninfo
        self.recheck_seconds = recheck_seconds
        self._waiting: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Binds to the running event loop; on PostgreSQL starts listening."""
        self._loop = asyncio.get_running_loop()
        if self.listen_conninfo is not None:
            self._listener = asyncio.create_task(self._listen(self.listen_conninfo))

    async def stop(self) -> None:
        """Stops listening."""
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener

    @contextmanager
    def subscription(self, gln: str) -> Iterator[Subscription]:
        """A doorbell for `gln`, rung by every delivery to it from now until the block ends.
        Subscribe before looking at the inbox, so that nothing committed in between is missed.
        """
        subscription = Subscription()
        self._waiting[gln].add(subscription)
        try:
            yield subscription
        finally:
            waiting = self._waiting[gln]
            waiting.discard(subscription)
            if not waiting:
                del self._waiting[gln]

    def recheck_after(self, remaining: float) -> float:
        """Seconds to wait before looking again: the re-check interval, spread by ±20 % so
        that many polls do not look all at once, and never past the poll's own end."""
        return min(remaining, self.recheck_seconds * random.uniform(0.8, 1.2))

    def notify(self, glns: Collection[str]) -> None:
        """Wakes the polls of these receivers; safe to call from any thread."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._ring, tuple(glns))

    def _ring(self, glns: Collection[str]) -> None:
        for gln in glns:
            for subscription in self._waiting.get(gln, ()):
                subscription.ring()

    async def _listen(self, conninfo: str) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {INBOX_CHANNEL}")
                    failures = 0
                    async for notification in connection.notifies():
                        self._ring((notification.payload,))
            except psycopg.Error as exc:
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning(
                    "inbox notifications interrupted (%s); polls re-check every %.0f s, "
                    "listening again in %d s",
                    type(exc).__name__,
                    self.recheck_seconds,
                    delay,
                )
                await asyncio.sleep(delay)
