"""The fuzzer finds nothing: schemathesis against a real server, for every kind of key.

Every operation of the served OpenAPI spec gets requests that schemathesis builds from the
spec: its examples, the boundary and invalid values of every parameter and body field
(the coverage phase), and generated cases, valid and invalid. It runs with an organisation's
key and with a key of each scope, on SQLite and on PostgreSQL. A run fails on any 5xx and on
any answer the spec does not describe: an undocumented status code, content type or header,
or a body that does not match the documented schema.

The run is bounded (`FUZZ_EXAMPLES` generated cases per operation, 10 by default) and
deterministic, so CI tries the same cases each time; set `FUZZ_EXAMPLES=200` for a deeper
search before a release.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.services.api_keys import Scope
from tests.conftest import Databases
from tests.factories import (
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    notice_fields,
    plan_fields,
)
from tests.processes import (
    environment,
    free_port,
    key_for,
    key_with_scope,
    migrate_with_demo_directory,
    running,
)

SCHEMATHESIS = str(Path(sys.executable).parent / "st")
ORGANISATION = "organisation"
CALLERS = [ORGANISATION, *(scope.value for scope in Scope)]
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "10")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


@dataclass
class Target:
    url: str
    authorization: str
    cwd: Path


@pytest.fixture(scope="module", params=CALLERS)
def target(
    request: pytest.FixtureRequest, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """A served app on a fresh database with the demo directory, and the caller's key.

    Each caller has a database of its own: a `directory` key's fuzzed PUTs must not change
    what the other callers see. There is a plan, and a notice in the hospital's inbox, so
    that answers with data are checked too and a poll with `wait` returns at once.
    """
    caller: str = request.param
    cwd = tmp_path_factory.mktemp(f"fuzz-{caller}")
    env = environment(
        SEKTORBRO_DATABASE_URL=databases.create(),
        SEKTORBRO_PATIENT_HASH_KEY="test-secret",
        SEKTORBRO_RUN_TIMERS="false",
        SEKTORBRO_LOG_LEVEL="WARNING",
    )
    migrate_with_demo_directory(env=env, cwd=cwd)
    hospital = key_for(ODENSE_HOSPITAL, env=env, cwd=cwd)
    kommune = key_for(ODENSE_KOMMUNE, env=env, cwd=cwd)
    headers = hospital if caller == ORGANISATION else key_with_scope(caller, env=env, cwd=cwd)
    port = free_port()
    with running(["serve"], env=env, cwd=cwd, port=port):
        url = f"http://127.0.0.1:{port}"
        plan = httpx.post(url + "/v1/plans", json=plan_fields(), headers=hospital, timeout=30)
        assert plan.status_code == 201, plan.text
        received = notice_fields("received", plan_message_id=plan.json()["message_id"])
        notice = httpx.post(url + "/v1/notices", json=received, headers=kommune, timeout=30)
        assert notice.status_code == 201, notice.text
        yield Target(url, headers["Authorization"], cwd)


@pytest.mark.slow
def test_every_answer_is_documented_and_none_is_a_server_error(target: Target) -> None:
    run = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            target.url + "/openapi.json",
            "--header",
            f"Authorization: {target.authorization}",
            # Invalid cases keep the key: otherwise each one would only test the 401.
            "--generation-with-security-parameters",
            "false",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "examples,coverage,fuzzing",  # the spec has no links for the stateful phase
            "--max-examples",
            EXAMPLES,
            "--generation-deterministic",
            # Above the longest poll (`wait` ≤ 30 s), so that a slow answer is a failure of
            # its own and not a timeout.
            "--request-timeout",
            "35",
            "--no-color",
        ],
        cwd=target.cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
