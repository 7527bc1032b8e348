"""Liveness and readiness: /healthz answers while the process runs; /readyz only when the
database is reachable and at the revision this code expects."""

from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.migrate import head_revision
from tests.api.helpers import assert_problem


class TestHealthz:
    def test_answers_ok(self, client: TestClient) -> None:
        response = client.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


class TestReadyz:
    def test_a_migrated_database_is_ready_at_the_head_revision(self, client: TestClient) -> None:
        response = client.get("/readyz")

        assert response.status_code == 200
        assert response.json() == {"status": "ready", "database_revision": head_revision()}

    def test_a_database_without_schema_is_a_503_telling_to_migrate(
        self, blank_database_url: str
    ) -> None:
        app = create_app(Settings(database_url=blank_database_url))
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/readyz")

        problem = assert_problem(response, 503, "not_ready")
        assert "sektorbro migrate" in problem["detail"]
        assert head_revision() in problem["detail"]

    def test_an_unreachable_database_is_a_503(self, tmp_path: Path) -> None:
        missing = tmp_path / "no-such-folder" / "sektorbro.db"
        app = create_app(Settings(database_url=f"sqlite:///{missing}"))
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/readyz")

        problem = assert_problem(response, 503, "not_ready")
        assert "cannot be reached" in problem["detail"]
