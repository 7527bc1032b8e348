"""The `sektorbro` command: serve, worker, migrate, directory import and secret, keys, demo.

Each command reads the settings from the environment (SEKTORBRO_*), opens the database, and on
the embedded SQLite default brings its schema up to date first, so a new user needs no extra
step. A PostgreSQL database is only ever migrated by `sektorbro migrate`.
"""

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import __version__, orm
from app.clock import SystemClock
from app.config import Settings
from app.db import make_engine, make_session_factory
from app.delivery.ack_timers import ack_timer_job
from app.delivery.periodic import Periodic
from app.errors import SektorbroError
from app.migrate import current_revision, head_revision, upgrade_to_head
from app.services import api_keys, directory
from app.services.demo import set_up_demo
from app.xml import XmlRenderer, XsdRegistry

__all__ = ["main"]


class CliError(Exception):
    """A failure to report on stderr with a non-zero exit code."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one `sektorbro` command; returns the exit code."""
    args = _parser().parse_args(argv)
    settings = Settings()
    try:
        args.run(args, settings)
    except directory.DirectoryFileRejected as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        for problem in exc.problems:
            where = f"line {problem.line}" + (f", {problem.column}" if problem.column else "")
            print(f"  {where}: {problem.message} [{problem.rule}]", file=sys.stderr)
        return 1
    except (CliError, SektorbroError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sektorbro", description="Message exchange for cross-sector rehabilitation."
    )
    parser.add_argument("--version", action="version", version=f"sektorbro {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    _add_listen_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker",
        help="evaluate the acknowledgement timers (flag overdue receipts, resend), for "
        "deployments that run them outside the service (SEKTORBRO_RUN_TIMERS=false)",
    )
    worker.add_argument("--once", action="store_true", help="one evaluation, then exit")
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to this version")
    migrate.set_defaults(run=_migrate)

    directory_cmd = commands.add_parser("directory", help="the organisation directory")
    directory_sub = directory_cmd.add_subparsers(required=True, metavar="ACTION")
    import_cmd = directory_sub.add_parser("import", help="upsert organisations from a CSV file")
    import_cmd.add_argument("file", type=Path, help="CSV in the organisations-demo.csv format")
    import_cmd.set_defaults(run=_import_directory)
    secret_cmd = directory_sub.add_parser(
        "secret",
        help="give an organisation a new push signing secret; it is printed on the last line",
    )
    secret_cmd.add_argument("gln", metavar="GLN")
    secret_cmd.set_defaults(run=_rotate_signing_secret)

    keys = commands.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(required=True, metavar="ACTION")
    create = keys_sub.add_parser("create", help="create a key; it is printed on the last line")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--org", metavar="GLN", help="the organisation the key acts for")
    owner.add_argument(
        "--scope",
        action="append",
        metavar="SCOPE[,SCOPE]",
        help="a key without an organisation, for these scopes (repeatable): "
        + ", ".join(scope.value for scope in api_keys.Scope),
    )
    owner.add_argument("--admin", action="store_true", help="the same as --scope directory,metrics")
    create.add_argument("--label", help="a note on what the key is for")
    create.set_defaults(run=_create_key)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_revoke_key)
    list_cmd = keys_sub.add_parser("list", help="list keys (ids and owners, never the keys)")
    list_cmd.set_defaults(run=_list_keys)

    demo = commands.add_parser(
        "demo", help="set up the demo directory and keys in ./sektorbro.db, then serve"
    )
    _add_listen_options(demo)
    demo.set_defaults(run=_demo)
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")


def _display_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _open_database(settings: Settings) -> Engine:
    """The engine, on a schema this version can use (SQLite is upgraded in place)."""
    engine = make_engine(settings.database_url)
    try:
        if settings.is_sqlite:
            upgrade_to_head(engine)
            return engine
        with engine.connect() as connection:
            revision = current_revision(connection)
    except BaseException:
        engine.dispose()
        raise
    if revision != head_revision():
        engine.dispose()
        raise CliError(
            f"the database {_display_url(settings)} is at schema revision "
            f"{revision or 'none'}, but this version needs {head_revision()}. "
            f"Run `sektorbro migrate` first."
        )
    return engine


@contextmanager
def _transaction(settings: Settings) -> Iterator[Session]:
    """One session in one transaction: committed if the block succeeds, else rolled back."""
    engine = _open_database(settings)
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    if settings.uses_development_patient_key:
        if not settings.is_sqlite:
            raise CliError(
                "set SEKTORBRO_PATIENT_HASH_KEY to a secret of your own: on PostgreSQL the "
                "built-in development key would make CPR hashes guessable."
            )
        # Fine for trying Sektorbro out; with real patients the hashes must not be guessable.
        print(
            "warning: SEKTORBRO_PATIENT_HASH_KEY is not set; CPR numbers are hashed with the "
            "built-in development key. Set it to a secret of your own before real patients.",
            file=sys.stderr,
            flush=True,
        )
    _open_database(settings).dispose()
    if args.workers > 1 and settings.prometheus_multiproc_dir is None:
        # prometheus_client aggregates worker processes through files in this directory; the
        # workers inherit the variable (app/metrics.py).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sektorbro-metrics-")
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Our own access log (app/middleware.py) names route templates, never query strings,
        # which may hold CPR numbers.
        access_log=False,
        log_level=settings.log_level.lower(),
    )


def _worker(args: argparse.Namespace, settings: Settings) -> None:
    engine = _open_database(settings)
    renderer = XmlRenderer(XsdRegistry())
    job = ack_timer_job(make_session_factory(engine), renderer, SystemClock(), settings)
    try:
        if args.once:
            run = job()
            print(f"Acknowledgement timers: {run.flagged} flagged overdue, {run.resent} resent.")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        print(f"Evaluating acknowledgement timers every {settings.timer_interval:g} s.", flush=True)
        Periodic("ack timers", job, interval=settings.timer_interval).run_in_foreground(stop)
    finally:
        engine.dispose()


def _migrate(args: argparse.Namespace, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    print(f"{_display_url(settings)} is at schema revision {head_revision()}.")


def _import_directory(args: argparse.Namespace, settings: Settings) -> None:
    try:
        text = args.file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{args.file} is not UTF-8 text") from None
    with _transaction(settings) as session:
        summary = directory.import_directory(session, text, now=SystemClock().now())
    print(
        f"Imported {summary.created + summary.updated + summary.unchanged} organisations: "
        f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged."
    )


def _rotate_signing_secret(args: argparse.Namespace, settings: Settings) -> None:
    with _transaction(settings) as session:
        secret = directory.rotate_signing_secret(session, gln=args.gln, now=SystemClock().now())
    # Printed, never logged: stdout goes to the admin's terminal, logs go to shared systems.
    print(
        f"New signing secret for {args.gln}; the old one no longer verifies. It is shown only "
        "now; give it to the receiver."
    )
    print(secret)


def _create_key(args: argparse.Namespace, settings: Settings) -> None:
    scopes = _scopes(args.scope) if args.scope else api_keys.ADMIN_SCOPES
    with _transaction(settings) as session:
        row, key = api_keys.create_key(
            session,
            organisation_gln=args.org,
            scopes=scopes,
            label=args.label,
            now=SystemClock().now(),
        )
    owner = _owner(row)
    print(f"Created API key {row.key_id} for {owner}. It is shown only now; store it safely.")
    print(key)


def _scopes(values: list[str]) -> frozenset[api_keys.Scope]:
    names = {name.strip() for value in values for name in value.split(",") if name.strip()}
    try:
        return frozenset(api_keys.Scope(name) for name in names)
    except ValueError:
        known = ", ".join(scope.value for scope in api_keys.Scope)
        unknown = ", ".join(sorted(n for n in names if n not in set(api_keys.Scope)))
        raise CliError(f"unknown scope {unknown}; the scopes are {known}") from None


def _owner(row: orm.ApiKey) -> str:
    if row.is_admin:
        return "the scopes " + row.scopes.replace(",", ", ")
    return f"organisation {row.organisation_gln}"


def _revoke_key(args: argparse.Namespace, settings: Settings) -> None:
    with _transaction(settings) as session:
        row = api_keys.revoke_key(session, key_id=args.key_id, now=SystemClock().now())
    print(f"API key {row.key_id} is revoked (since {row.revoked_at:%Y-%m-%d %H:%M:%S} UTC).")


def _list_keys(args: argparse.Namespace, settings: Settings) -> None:
    with _transaction(settings) as session:
        rows = api_keys.list_keys(session)
    for row in rows:
        owner = row.scopes if row.is_admin else row.organisation_gln
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        print(f"{row.key_id}  {owner:<13}  {state:<18}  {row.label or ''}")


def _demo(args: argparse.Namespace, settings: Settings) -> None:
    with _transaction(settings) as session:
        setup = set_up_demo(session, now=SystemClock().now())
    base = f"http://{args.host}:{args.port}"
    some_key = setup.organisation_keys[0][1]
    lines = [
        f"Sektorbro demo on {_display_url(settings)}",
        f"Directory: {setup.directory.created} organisations added, "
        f"{setup.directory.updated} updated, {setup.directory.unchanged} unchanged.",
        "",
        "API keys (shown once; earlier demo keys are revoked):",
        f"  {'admin':<13}  {'':<35}  {setup.admin_key}",
        *(f"  {org.gln:<13}  {org.name:<35}  {key}" for org, key in setup.organisation_keys),
        "",
        "Try:",
        f"  curl -H 'Authorization: Bearer {some_key}' '{base}/v1/organisations?kind=kommune'",
        f"  curl -H 'Authorization: Bearer {some_key}' {base}/v1/organisations/5790000121441",
        f"  curl -H 'Authorization: Bearer {setup.admin_key}' {base}/metrics",
        f"API documentation: {base}/docs",
        "",
    ]
    print("\n".join(lines), flush=True)
    args.workers = 1
    _serve(args, settings)
