"""Running a job every few seconds: as a task of the service's event loop, or in the
foreground of `sektorbro worker`. A failing run is logged and the next one tries again.
Imports nothing from `app`."""

import asyncio
import logging
import threading
from collections.abc import Callable

import anyio.to_thread

__all__ = ["Periodic"]

logger = logging.getLogger("sektorbro.timers")


class Periodic:
    """`job` every `interval` seconds, the first run at once."""

    def __init__(self, name: str, job: Callable[[], object], *, interval: float) -> None:
        self.name = name
        self.job = job
        self.interval = interval

    def run_once(self) -> bool:
        """Runs the job; False if it failed (logged, never raised: the timer keeps going)."""
        try:
            self.job()
        except Exception:
            logger.exception("%s failed; it runs again in %.0f s", self.name, self.interval)
            return False
        return True

    async def run_in_background(self) -> None:
        """Runs until cancelled; the job runs in a worker thread, off the event loop."""
        while True:
            await anyio.to_thread.run_sync(self.run_once)
            await asyncio.sleep(self.interval)

    def run_in_foreground(self, stop: threading.Event) -> None:
        """Runs until `stop` is set."""
        while not stop.is_set():
            self.run_once()
            stop.wait(self.interval)
