"""Several notices about one plan at once, on a real 2-worker server: each is checked against
the course as the others left it (the plan's row is locked), so a start is recorded once."""

import threading
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.factories import ODENSE_HOSPITAL, ODENSE_KOMMUNE, plan_fields
from tests.processes import (
    environment,
    free_port,
    key_for,
    migrate_with_demo_directory,
    running,
)

REPORTERS = 8  # two are not enough to overlap reliably without the lock


@pytest.mark.slow
def test_starts_reported_at_once_are_recorded_once(blank_database_url: str, tmp_path: Path) -> None:
    env = environment(
        SEKTORBRO_DATABASE_URL=blank_database_url,
        SEKTORBRO_PATIENT_HASH_KEY="test-secret",
        SEKTORBRO_RUN_TIMERS="false",
    )
    migrate_with_demo_directory(env=env, cwd=tmp_path)
    hospital = key_for(ODENSE_HOSPITAL, env=env, cwd=tmp_path)
    kommune = key_for(ODENSE_KOMMUNE, env=env, cwd=tmp_path)
    # The server runs on the real clock: dates around today, in the plan's order.
    today = date.today()
    plan = plan_fields(
        discharge_date=str(today - timedelta(days=3)),
        first_contact_deadline=str(today + timedelta(days=4)),
    )
    port = free_port()
    start = threading.Barrier(REPORTERS)
    statuses: list[int] = []

    with (
        running(["serve", "--workers", "2"], env=env, cwd=tmp_path, port=port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        sent = client.post("/v1/plans", json=plan, headers=hospital)
        assert sent.status_code == 201, sent.text
        plan_id = sent.json()["message_id"]

        def report(letter_id: str) -> None:
            start.wait()
            response = client.post(
                "/v1/notices",
                json={
                    "type": "started",
                    "letter_id": letter_id,
                    "plan_message_id": plan_id,
                    "date": str(today - timedelta(days=1)),
                    "form": "holdtraening",
                    "place": "center",
                },
                headers=kommune,
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=report, args=(f"ODK{i}",)) for i in range(REPORTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        timeline = client.get(f"/v1/plans/{plan_id}", headers=hospital).json()["timeline"]

    assert sorted(statuses) == [201] + [422] * (REPORTERS - 1)
    assert [entry["type"] for entry in timeline] == ["started"]
