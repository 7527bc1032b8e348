"""The same plan posted by 10 threads at once to a real server: one message, ten equal answers.

The database's unique constraint on (sender, letter id) decides; the losers answer as the
duplicate they are (200 with the first message), never 409 or 500.
"""

import threading
from pathlib import Path

import httpx
import pytest

from tests.factories import ODENSE_HOSPITAL, plan_fields
from tests.processes import (
    environment,
    free_port,
    migrate_with_demo_directory,
    run_sektorbro,
    running,
)

THREADS = 10


@pytest.mark.slow
def test_ten_simultaneous_copies_of_a_plan_make_one_message(
    blank_database_url: str, tmp_path: Path
) -> None:
    env = environment(
        SEKTORBRO_DATABASE_URL=blank_database_url, SEKTORBRO_PATIENT_HASH_KEY="test-secret"
    )
    migrate_with_demo_directory(env=env, cwd=tmp_path)
    key = run_sektorbro("keys", "create", "--org", ODENSE_HOSPITAL, env=env, cwd=tmp_path)
    headers = {"Authorization": f"Bearer {key.splitlines()[-1]}"}
    port = free_port()
    start = threading.Barrier(THREADS)
    answers: list[tuple[int, str]] = []

    def post(client: httpx.Client) -> None:
        start.wait()
        response = client.post("/v1/plans", json=plan_fields(), headers=headers)
        answers.append((response.status_code, response.json().get("message_id", response.text)))

    with (
        running(["serve", "--workers", "2"], env=env, cwd=tmp_path, port=port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        threads = [threading.Thread(target=post, args=(client,)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = client.get("/v1/messages?direction=sent", headers=headers).json()["items"]

    assert sorted(status for status, _ in answers) == [200] * (THREADS - 1) + [201]
    assert len({message_id for _, message_id in answers}) == 1
    assert [m["message_id"] for m in sent] == [answers[0][1]]
