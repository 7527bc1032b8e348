"""The application's state, typed: what `create_app` builds once and every request uses.

`create_app` builds it and stores it on the app; its lifespan opens the database and the
inbox wake-ups. Read it with `app_state(app)`, never through untyped `app.state` attributes.
"""

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.datastructures import State

from app.clock import Clock
from app.config import Settings
from app.db import Database
from app.delivery.wakeups import InboxWakeups
from app.metrics import HttpMetrics
from app.services.api_keys import CallerCache
from app.xml import XmlRenderer

__all__ = ["AppState", "app_state"]


@dataclass(slots=True)
class AppState:
    settings: Settings
    clock: Clock
    metrics: HttpMetrics
    xml: XmlRenderer
    callers: CallerCache
    wakeups: InboxWakeups
    expected_revision: str
    database: Database | None = None  # set by the lifespan while the app runs

    @property
    def db(self) -> Database:
        """The open database; outside the lifespan there is none."""
        if self.database is None:
            raise RuntimeError("the database is opened by the app's lifespan")
        return self.database


def app_state(app: Starlette) -> AppState:
    """The state `create_app` stored on this app."""
    state: State = app.state
    sektorbro = state.sektorbro
    assert isinstance(sektorbro, AppState)
    return sektorbro
