"""The `sektorbro` command, in process (migrate, directory import, keys) and as a real server
process (serve, demo)."""

import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import orm
from app.cli import main
from app.db import make_engine
from app.migrate import current_revision, head_revision, upgrade_to_head
from app.services.api_keys import authenticate
from tests.factories import DEMO_GLNS, DEMO_KOMMUNER, ODENSE_HOSPITAL, bearer, demo_directory_text
from tests.processes import SEKTORBRO, environment, free_port, running

DEMO_CSV = demo_directory_text()


@pytest.fixture
def database_url(blank_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A blank database that the CLI under test is pointed at."""
    monkeypatch.setenv("SEKTORBRO_DATABASE_URL", blank_database_url)
    return blank_database_url


@pytest.fixture
def migrated_url(database_url: str) -> str:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "organisations.csv"
    path.write_text(DEMO_CSV, encoding="utf-8")
    return path


def count_organisations(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(orm.Organisation)) or 0
    engine.dispose()
    return count


class TestMigrate:
    def test_brings_a_blank_database_to_the_head_revision(
        self, database_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["migrate"]) == 0
        engine = make_engine(database_url)
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
        engine.dispose()
        assert head_revision() in capsys.readouterr().out


class TestDirectoryImport:
    def test_imports_every_organisation_of_a_good_file(
        self, migrated_url: str, demo_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["directory", "import", str(demo_file)]) == 0
        assert f"{len(DEMO_GLNS)} created" in capsys.readouterr().out
        assert count_organisations(migrated_url) == len(DEMO_GLNS)

    def test_importing_the_same_file_again_changes_nothing(
        self, migrated_url: str, demo_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["directory", "import", str(demo_file)])
        capsys.readouterr()
        assert main(["directory", "import", str(demo_file)]) == 0
        assert f"0 created, 0 updated, {len(DEMO_GLNS)} unchanged" in capsys.readouterr().out
        assert count_organisations(migrated_url) == len(DEMO_GLNS)

    def test_a_file_with_bad_lines_imports_nothing_and_names_every_bad_line(
        self, migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        lines = DEMO_CSV.splitlines()
        lines[2] = lines[2].replace("5790009903017", "5790009903018")  # check digit
        lines[5] = lines[5].replace(",187,kommunenummer,187,", ",187,kommunenummer,999,")
        bad = tmp_path / "bad.csv"
        bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

        assert main(["directory", "import", str(bad)]) == 1

        errors = capsys.readouterr().err
        assert "line 3, gln" in errors
        assert "gln_check_digit" in errors
        assert "line 6, municipality_code" in errors
        assert "kommunekode_unknown" in errors
        assert count_organisations(migrated_url) == 0

    def test_a_file_that_is_not_utf8_is_refused(
        self, migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        latin1 = tmp_path / "latin1.csv"
        latin1.write_bytes(DEMO_CSV.encode("latin-1"))
        assert main(["directory", "import", str(latin1)]) == 1
        assert "not UTF-8" in capsys.readouterr().err


def stored_secret(url: str, gln: str) -> str | None:
    engine = make_engine(url)
    with engine.connect() as connection:
        secret = connection.scalar(
            select(orm.Organisation.signing_secret).where(orm.Organisation.gln == gln)
        )
    engine.dispose()
    return secret


class TestDirectorySecret:
    @pytest.fixture
    def directory(
        self, migrated_url: str, demo_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> str:
        main(["directory", "import", str(demo_file)])
        capsys.readouterr()
        return migrated_url

    def test_prints_the_new_secret_alone_on_the_last_line_and_stores_it(
        self, directory: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["directory", "secret", ODENSE_HOSPITAL]) == 0

        secret = capsys.readouterr().out.splitlines()[-1]
        assert secret.startswith("whsec_")
        assert stored_secret(directory, ODENSE_HOSPITAL) == secret

    def test_prints_the_secret_once_and_logs_it_nowhere(
        self,
        directory: str,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        main(["directory", "secret", ODENSE_HOSPITAL])

        out, err = capsys.readouterr()
        secret = out.splitlines()[-1]
        assert out.count(secret) == 1
        assert secret not in err
        assert secret not in caplog.text

    def test_a_rotation_replaces_the_old_secret(
        self, directory: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["directory", "secret", ODENSE_HOSPITAL])
        old = capsys.readouterr().out.splitlines()[-1]

        main(["directory", "secret", ODENSE_HOSPITAL])

        new = capsys.readouterr().out.splitlines()[-1]
        assert new != old
        assert stored_secret(directory, ODENSE_HOSPITAL) == new

    def test_an_organisation_not_in_the_directory_fails_naming_it(
        self, directory: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        unknown = "5790000000005"

        assert main(["directory", "secret", unknown]) == 1

        out, err = capsys.readouterr()
        assert unknown in err
        assert "whsec_" not in out


class TestKeys:
    def test_create_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(
        self, migrated_url: str, demo_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["directory", "import", str(demo_file)])
        capsys.readouterr()

        assert main(["keys", "create", "--org", ODENSE_HOSPITAL]) == 0

        key = capsys.readouterr().out.splitlines()[-1]
        engine = make_engine(migrated_url)
        with Session(engine) as session:
            assert authenticate(session, key).organisation_gln == ODENSE_HOSPITAL
            stored = session.execute(text("SELECT * FROM api_keys")).one()
            assert key not in [str(value) for value in stored]
        engine.dispose()

    def test_create_admin_prints_an_admin_key(
        self, migrated_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["keys", "create", "--admin"]) == 0
        key = capsys.readouterr().out.splitlines()[-1]
        engine = make_engine(migrated_url)
        with Session(engine) as session:
            assert authenticate(session, key).is_admin
        engine.dispose()

    def test_create_for_an_organisation_not_in_the_directory_fails(
        self, migrated_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["keys", "create", "--org", ODENSE_HOSPITAL]) == 1
        assert ODENSE_HOSPITAL in capsys.readouterr().err

    def test_revoke_makes_the_key_unusable(
        self, migrated_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["keys", "create", "--admin"])
        output = capsys.readouterr().out.splitlines()
        key = output[-1]
        key_id = key.split("_")[1]

        assert main(["keys", "revoke", key_id]) == 0

        engine = make_engine(migrated_url)
        with Session(engine) as session, pytest.raises(Exception, match="revoked"):
            authenticate(session, key)
        engine.dispose()


class TestDatabaseBehind:
    """PostgreSQL is never migrated implicitly; SQLite (the embedded default) is."""

    def test_commands_refuse_a_postgresql_database_that_is_behind(
        self,
        blank_postgresql_url: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setenv("SEKTORBRO_DATABASE_URL", blank_postgresql_url)
        monkeypatch.setenv("SEKTORBRO_PATIENT_HASH_KEY", "a-deployment-secret")
        assert main(["serve", "--port", str(free_port())]) == 1
        assert "Run `sektorbro migrate`" in capsys.readouterr().err

    def test_serve_refuses_postgresql_with_the_development_patient_key(
        self,
        blank_postgresql_url: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setenv("SEKTORBRO_DATABASE_URL", blank_postgresql_url)
        monkeypatch.delenv("SEKTORBRO_PATIENT_HASH_KEY", raising=False)
        assert main(["serve", "--port", str(free_port())]) == 1
        assert "SEKTORBRO_PATIENT_HASH_KEY" in capsys.readouterr().err

    def test_commands_migrate_an_embedded_sqlite_database_themselves(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = f"sqlite:///{tmp_path / 'embedded.db'}"
        monkeypatch.setenv("SEKTORBRO_DATABASE_URL", url)
        assert main(["keys", "create", "--admin"]) == 0
        engine = make_engine(url)
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
        engine.dispose()


class TestKeyScopes:
    def test_a_key_is_created_with_the_scopes_given(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("SEKTORBRO_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
        assert main(["keys", "create", "--scope", "gateway,audit", "--scope", "metrics"]) == 0
        assert "the scopes audit, gateway, metrics" in capsys.readouterr().out

    def test_admin_is_the_directory_and_metrics_scopes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("SEKTORBRO_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
        assert main(["keys", "create", "--admin"]) == 0
        assert "the scopes directory, metrics" in capsys.readouterr().out

    def test_an_unknown_scope_is_refused_naming_the_scopes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("SEKTORBRO_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
        assert main(["keys", "create", "--scope", "root"]) == 1
        assert "unknown scope root; the scopes are directory, gateway, audit, metrics" in (
            capsys.readouterr().err
        )


class TestServe:
    def test_serves_a_new_sqlite_database_without_a_migrate_step(self, tmp_path: Path) -> None:
        port = free_port()
        env = environment(SEKTORBRO_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")
        with running(["serve"], env=env, cwd=tmp_path, port=port):
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 200
        assert ready.json()["database_revision"] == head_revision()

    def test_serve_on_sqlite_with_the_development_key_warns_once_naming_the_variable(
        self, tmp_path: Path
    ) -> None:
        env = environment(SEKTORBRO_DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}")
        with running(["serve"], env=env, cwd=tmp_path, port=free_port()):
            pass
        warnings = [
            line
            for line in (tmp_path / "sektorbro.log").read_text().splitlines()
            if "SEKTORBRO_PATIENT_HASH_KEY" in line
        ]
        assert len(warnings) == 1
        assert warnings[0].startswith("warning:")

    def test_serve_with_a_patient_hash_key_of_its_own_does_not_warn(self, tmp_path: Path) -> None:
        env = environment(
            SEKTORBRO_DATABASE_URL=f"sqlite:///{tmp_path / 'own.db'}",
            SEKTORBRO_PATIENT_HASH_KEY="a-deployment-secret",
        )
        with running(["serve"], env=env, cwd=tmp_path, port=free_port()):
            pass
        assert "SEKTORBRO_PATIENT_HASH_KEY" not in (tmp_path / "sektorbro.log").read_text()

    def test_metrics_add_up_the_requests_of_every_worker(self, tmp_path: Path) -> None:
        port = free_port()
        env = environment(SEKTORBRO_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
        created = subprocess.run(
            [SEKTORBRO, "keys", "create", "--admin"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        admin = bearer(created.stdout.splitlines()[-1])
        with (
            running(["serve", "--workers", "2"], env=env, cwd=tmp_path, port=port),
            httpx.Client(base_url=f"http://127.0.0.1:{port}") as http,
        ):
            for _ in range(20):
                # A new connection each time, so both workers get some of them.
                http.get("/healthz", headers={"Connection": "close"})
            metrics = http.get("/metrics", headers=admin).text
        healthz = [
            line
            for line in metrics.splitlines()
            if line.startswith("sektorbro_http_requests_total") and 'route="/healthz"' in line
        ]
        assert healthz
        assert sum(float(line.rsplit(" ", 1)[1]) for line in healthz) >= 20


class TestDemo:
    def test_sets_up_a_database_in_the_working_directory_and_serves_the_demo_directory(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        with running(["demo"], env=environment(), cwd=tmp_path, port=port) as process:
            assert process.stdout is not None
            printed = []
            while not (line := process.stdout.readline()).startswith("API documentation"):
                printed.append(line)
            hospital_key = next(
                line.split()[-1] for line in printed if line.strip().startswith(ODENSE_HOSPITAL)
            )
            answer = httpx.get(
                f"http://127.0.0.1:{port}/v1/organisations",
                params={"kind": "kommune"},
                headers=bearer(hospital_key),
            )
        assert (tmp_path / "sektorbro.db").exists()
        assert answer.status_code == 200
        assert len(answer.json()["items"]) == len(DEMO_KOMMUNER)
        assert any(line.strip().startswith("curl") for line in printed)


class TestWorker:
    def test_once_evaluates_the_timers_and_reports_what_it_did(
        self, migrated_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["worker", "--once"]) == 0
        assert "0 flagged overdue, 0 resent" in capsys.readouterr().out

    def test_refuses_a_database_that_is_behind(
        self, database_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        if database_url.startswith("sqlite"):
            pytest.skip("the embedded SQLite file is upgraded in place by every command")
        assert main(["worker", "--once"]) == 1
        assert "sektorbro migrate" in capsys.readouterr().err
