"""Two pollers acknowledging the same delivery at once, on a real 2-worker server: one
receipt, and both answers name it."""

import threading
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

POLLERS = 2


@pytest.mark.slow
def test_two_pollers_acknowledging_one_delivery_make_one_receipt(
    blank_database_url: str, tmp_path: Path
) -> None:
    env = environment(
        SEKTORBRO_DATABASE_URL=blank_database_url,
        SEKTORBRO_PATIENT_HASH_KEY="test-secret",
        SEKTORBRO_RUN_TIMERS="false",
    )
    migrate_with_demo_directory(env=env, cwd=tmp_path)
    hospital = key_for(ODENSE_HOSPITAL, env=env, cwd=tmp_path)
    kommune = key_for(ODENSE_KOMMUNE, env=env, cwd=tmp_path)
    port = free_port()
    start = threading.Barrier(POLLERS)
    answers: list[tuple[int, str]] = []

    with (
        running(["serve", "--workers", "2"], env=env, cwd=tmp_path, port=port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        assert client.post("/v1/plans", json=plan_fields(), headers=hospital).status_code == 201
        [item] = client.get("/v1/inbox", headers=kommune).json()["items"]

        def acknowledge() -> None:
            start.wait()
            response = client.post(
                f"/v1/inbox/{item['delivery_id']}/ack",
                json={"result": "positive"},
                headers=kommune,
            )
            answers.append((response.status_code, response.json()["receipt"]["message_id"]))

        threads = [threading.Thread(target=acknowledge) for _ in range(POLLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        receipts = [
            i
            for i in client.get("/v1/inbox", headers=hospital).json()["items"]
            if i["type"] == "receipt"
        ]

    assert sorted(status for status, _ in answers) == [200, 201]
    assert len({receipt_id for _, receipt_id in answers}) == 1
    assert [r["message_id"] for r in receipts] == [answers[0][1]]
