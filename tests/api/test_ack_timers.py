"""Acknowledgement timers with an injected clock: overdue flags, automatic resends, limits."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.delivery.ack_timers import TimerRun, evaluate_ack_timers
from app.xml import XmlRenderer, XsdRegistry
from tests.api.helpers import post_plan
from tests.conftest import FROZEN_NOW
from tests.factories import HJALLESE_GP, ODENSE_HOSPITAL, ODENSE_KOMMUNE

Keys = dict[str, dict[str, str]]
TIMEOUT = timedelta(minutes=30)


@pytest.fixture
def plan(client: TestClient, keys: Keys) -> dict[str, Any]:
    response = post_plan(client, keys[ODENSE_HOSPITAL])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def run_timers(
    session: Session, *, after: timedelta, auto_resend: bool = False, max_resends: int = 2
) -> TimerRun:
    run = evaluate_ack_timers(
        session,
        XmlRenderer(XsdRegistry()),
        now=FROZEN_NOW + after,
        ack_timeout=TIMEOUT,
        auto_resend=auto_resend,
        max_resends=max_resends,
    )
    session.commit()
    return run


def delivery(client: TestClient, keys: Keys, plan: dict[str, Any], gln: str) -> dict[str, Any]:
    tracked = client.get(f"/v1/messages/{plan['message_id']}", headers=keys[ODENSE_HOSPITAL])
    found: dict[str, Any] = next(
        d for d in tracked.json()["deliveries"] if d["receiver_gln"] == gln
    )
    return found


def overdue_ids(client: TestClient, keys: Keys) -> list[str]:
    page = client.get("/v1/messages?status=ack_overdue", headers=keys[ODENSE_HOSPITAL]).json()
    return [message["message_id"] for message in page["items"]]


def test_nothing_is_overdue_before_the_timeout(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    run = run_timers(session, after=TIMEOUT - timedelta(seconds=1))

    assert run == TimerRun(flagged=0, resent=0)
    assert delivery(client, keys, plan, ODENSE_KOMMUNE)["ack_overdue"] is False


def test_a_delivery_without_a_receipt_after_the_timeout_is_flagged_overdue(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    run = run_timers(session, after=TIMEOUT)

    assert run == TimerRun(flagged=2, resent=0)
    flagged = delivery(client, keys, plan, ODENSE_KOMMUNE)
    assert flagged["ack_overdue"] is True
    assert flagged["status_history"][-1]["status"] == "ack_overdue"
    assert overdue_ids(client, keys) == [plan["message_id"]]


def test_an_acknowledged_delivery_is_never_overdue(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    kommune = delivery(client, keys, plan, ODENSE_KOMMUNE)
    client.post(
        f"/v1/inbox/{kommune['delivery_id']}/ack",
        json={"result": "positive"},
        headers=keys[ODENSE_KOMMUNE],
    )

    run = run_timers(session, after=TIMEOUT)

    assert run.flagged == 1  # the GP's copy only
    assert delivery(client, keys, plan, ODENSE_KOMMUNE)["ack_overdue"] is False


def test_a_flag_is_set_once(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    run_timers(session, after=TIMEOUT)

    assert run_timers(session, after=2 * TIMEOUT) == TimerRun(flagged=0, resent=0)


def test_a_receipt_clears_the_overdue_flag(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    run_timers(session, after=TIMEOUT)
    kommune = delivery(client, keys, plan, ODENSE_KOMMUNE)

    client.post(
        f"/v1/inbox/{kommune['delivery_id']}/ack",
        json={"result": "positive"},
        headers=keys[ODENSE_KOMMUNE],
    )

    assert delivery(client, keys, plan, ODENSE_KOMMUNE)["ack_overdue"] is False


def test_auto_resend_sends_again_with_a_new_envelope_instead_of_flagging(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    first = delivery(client, keys, plan, ODENSE_KOMMUNE)

    run = run_timers(session, after=TIMEOUT, auto_resend=True)

    assert run == TimerRun(flagged=0, resent=2)
    resent = delivery(client, keys, plan, ODENSE_KOMMUNE)
    assert resent["ack_overdue"] is False
    assert resent["resends"] == 1
    assert resent["envelope_id"] != first["envelope_id"]
    assert resent["sent_at"].startswith("2026-11-23T09:30")


def test_the_timer_runs_again_from_the_resend(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    run_timers(session, after=TIMEOUT, auto_resend=True)

    assert run_timers(session, after=TIMEOUT + timedelta(minutes=29), auto_resend=True) == (
        TimerRun(flagged=0, resent=0)
    )
    assert run_timers(session, after=2 * TIMEOUT, auto_resend=True).resent == 2


def test_auto_resend_stops_at_the_limit_and_flags_instead(
    client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
) -> None:
    for round in range(1, 3):
        assert run_timers(session, after=round * TIMEOUT, auto_resend=True).resent == 2

    run = run_timers(session, after=3 * TIMEOUT, auto_resend=True)

    assert run == TimerRun(flagged=2, resent=0)
    gp = delivery(client, keys, plan, HJALLESE_GP)
    assert (gp["resends"], gp["ack_overdue"]) == (2, True)
