"""Benchmark of `POST /v1/plans` on PostgreSQL against a trivial JSON echo of the same app,
with `wrk` as the load generator.

One run:

1. creates a fresh PostgreSQL database on the server of --database-url, runs `sektorbro
   migrate`, imports the demo directory and creates an API key for Odense Universitetshospital
   (GLN 5790001354145);
2. starts the service as a real process on 127.0.0.1: `uvicorn --factory
   bench.echo_app:create_bench_app --workers N` (the app plus `POST /bench/echo`);
3. measures, each after an unmeasured warm-up (--warmup) and for --seconds, with wrk
   (bench/loadgen.py, bench/post_plan.lua): (a) `POST /bench/echo` at the highest
   --concurrency, the ceiling; (b) `POST /v1/plans` at each --concurrency in turn (default 32,
   then 8). Every request posts the reference plan `tests/data/plan-almen.json` as compact
   JSON with a letter_id of its own (a random prefix per wrk run, wrk's thread, a counter: 14
   characters). Each of the C connections posts again as soon as it has its answer; when the
   time is up no new request is sent and those in flight are awaited, so every request sent
   is answered and counted;
4. prints requests/s, p50/p90/p99/max latency and errors (any status but 200 for the echo and
   201 for plans, and socket errors), the ratio plans/echo, the CPU milliseconds per request of
   the server (the uvicorn process tree), of PostgreSQL (the local `postgres` processes) and of
   wrk, the connections per server worker, `select count(*) from messages` against the 201s
   counted, and the targets, printed as met / NOT met, never asserted: server CPU <= 3 ms per
   plan; plans/s >= 0.08 x the echo at the same concurrency; p99 < 50 ms at concurrency 8;
5. with --profile SECONDS, records the server worker holding the most connections with
   `py-spy record --nonblocking --format raw` (collapsed stacks, for flamegraph.pl or
   speedscope) while plans are measured at the highest concurrency, and prints the file's path.
   py-spy costs some CPU itself, on the same cores, while it samples;
6. stops the server and drops the database, also after an error, Ctrl-C or SIGTERM.

wrk and the server share the machine: wrk's CPU is printed, in milliseconds per request and in
cores. Keep-alive keeps each connection on the server worker that accepted it, and wrk opens
them all at once, so wrk is started again (before it has sent anything) until they are split
about evenly over the workers; the split is printed (e.g. `17 + 15`), see bench/loadgen.py.

Run it from the project root with the project's venv active (wrk on the PATH):

    python bench/plans.py [--seconds 20] [--warmup 3] [--concurrency 32,8] [--workers 2]
        [--profile SECONDS]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

import argparse
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from loadgen import BenchError, Load, WrkRun, run_wrk, wrk_version
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
PLAN_FILE = ROOT / "tests" / "data" / "plan-almen.json"
DIRECTORY_FILE = ROOT / "app" / "data" / "organisations-demo.csv"
SEKTORBRO = Path(sys.executable).parent / "sektorbro"
HOSPITAL_GLN = "5790001354145"  # Odense Universitetshospital, the sender of the reference plan
DEFAULT_DATABASE_URL = os.environ.get(
    "SEKTORBRO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

PLANS_PATH = "/v1/plans"
ECHO_PATH = "/bench/echo"  # bench/echo_app.py
PLAN_SCRIPT = "post_plan.lua"  # in bench/, for both routes

# Targets (issue), for a 2-core machine. Printed, never asserted.
TARGET_SERVER_MS_PER_PLAN = 3.0
TARGET_SHARE_OF_ECHO = 0.08  # plans/s at least this share of the echo's requests/s
TARGET_P99_MS = 50.0
TARGET_P99_CONNECTIONS = 8


@dataclass(frozen=True, slots=True)
class Measurement:
    """One route at one concurrency: the measured wrk run and its warm-up."""

    name: str  # e.g. "POST /v1/plans"
    run: WrkRun
    warmup: WrkRun | None

    @property
    def connections(self) -> int:
        return self.run.connections


def measure(
    name: str,
    load: Load,
    *,
    args: argparse.Namespace,
    server_pid: int,
    port: int,
    on_running: Callable[[dict[int, int] | None], None] | None = None,
) -> Measurement:
    """A warm-up of --warmup seconds (unmeasured), then --seconds measured, each a wrk run."""
    print(f"measuring {name} at {load.connections} connections ...", flush=True)
    warmup = None
    if args.warmup > 0:
        warmup = run_wrk(load, seconds=args.warmup, server_pid=server_pid, server_port=port)
    run = run_wrk(
        load, seconds=args.seconds, server_pid=server_pid, server_port=port, on_running=on_running
    )
    return Measurement(name, run, warmup)


# --------------------------------------------------------------------------------------------
# Profiling


class Profiler:
    """`py-spy record` of one server worker, started while a measurement runs."""

    def __init__(self, py_spy: Path, seconds: int, log: Path) -> None:
        self.py_spy = py_spy
        self.seconds = seconds
        self.log = log
        self.pid: int | None = None
        self.output: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, server_pid: int, connections: dict[int, int] | None) -> None:
        """Samples the worker holding the most connections (the server if there is none)."""
        self.pid = max(connections, key=lambda p: connections[p]) if connections else server_pid
        self.output = Path(tempfile.gettempdir()) / (
            f"sektorbro-plans-{time.strftime('%Y%m%d-%H%M%S')}-pid{self.pid}.txt"
        )
        command = [
            str(self.py_spy), "record", "--nonblocking", "--format", "raw",
            "--duration", str(self.seconds), "--output", str(self.output), "--pid", str(self.pid),
        ]  # fmt: skip
        with self.log.open("wb") as log_file:
            self.process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )

    def finish(self) -> str:
        """Waits for py-spy; says where its output is, or why there is none."""
        if self.process is None:
            return "py-spy was not started"
        try:
            self.process.wait(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired:
            self.stop()
            return f"py-spy did not finish within {self.seconds + 60} s:\n{self.log.read_text()}"
        if self.process.returncode != 0 or self.output is None or not self.output.exists():
            return f"py-spy exited with {self.process.returncode}:\n{self.log.read_text()}"
        return str(self.output)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def find_py_spy() -> Path:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return beside
    found = shutil.which("py-spy")
    if found is None:
        raise BenchError("--profile needs py-spy (pip install py-spy, in the venv)")
    return Path(found)


# --------------------------------------------------------------------------------------------
# Database, set-up and server


def psycopg_url(url: str) -> str:
    """The URL with SQLAlchemy's psycopg 3 driver, as app/config.py normalises it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Creates `sektorbro_bench_<random>` next to the database of `server_url`; yields its URL
    and drops it afterwards, whatever happened."""
    name = f"sektorbro_bench_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except DBAPIError as exc:
            where = make_url(server_url).render_as_string(hide_password=True)
            raise BenchError(f"cannot create a database on {where}: {exc.orig}") from None
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def count_messages(engine: Engine) -> int | str:
    """`select count(*) from messages`: the plans committed (or why they could not be counted)."""
    try:
        with engine.connect() as connection:
            count: int = connection.execute(text("select count(*) from messages")).scalar_one()
            return count
    except SQLAlchemyError as exc:
        return f"n/a ({type(exc).__name__}: {str(exc).splitlines()[0]})"


def postgres_description(engine: Engine) -> str:
    with engine.connect() as connection:
        version = connection.execute(text("show server_version")).scalar_one()
        sync = connection.execute(text("show synchronous_commit")).scalar_one()
        fsync = connection.execute(text("show fsync")).scalar_one()
    return f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync})"


def sektorbro(args: list[str], env: dict[str, str]) -> str:
    """Runs `sektorbro ARGS`; returns its stdout, or raises with its stderr."""
    done = subprocess.run(
        [str(SEKTORBRO), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"`sektorbro {' '.join(args)}` failed:\n{done.stderr}")
    return done.stdout


def set_up(env: dict[str, str]) -> str:
    """Schema, demo directory and the hospital's API key (returned)."""
    sektorbro(["migrate"], env)
    sektorbro(["directory", "import", str(DIRECTORY_FILE)], env)
    created = sektorbro(["keys", "create", "--org", HOSPITAL_GLN, "--label", "bench"], env)
    return created.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(
    env: dict[str, str], *, workers: int, port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts uvicorn in a session of its own (Ctrl-C reaches only us; we stop it), waits for
    /healthz, and stops it and every process it started afterwards."""
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "bench.echo_app:create_bench_app",
        "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_until_up(process, f"http://127.0.0.1:{port}/healthz", log)
        yield process
    finally:
        process.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with suppress(ProcessLookupError):  # whatever is left in its session (process group)
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BenchError(f"the server did not answer on {url} within 60 s:\n{log.read_text()}")


def write_plan_body(path: Path) -> int:
    """The reference plan as compact JSON (post_plan.lua puts a new letter_id in it for each
    request); returns the size of a request's body."""
    plan = json.loads(PLAN_FILE.read_text(encoding="utf-8"))
    plan["letter_id"] = "0" * 14  # as long as the letter_ids post_plan.lua makes
    encoded = json.dumps(plan, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(encoded)
    return len(encoded)


# --------------------------------------------------------------------------------------------
# Report


def report(
    echo: Measurement,
    plans: list[Measurement],
    *,
    args: argparse.Namespace,
    body_bytes: int,
    database: str,
    load_generator: str,
    stored: int | str,
    profile: str | None,
) -> None:
    cpus = os.cpu_count() or 0
    measured = [echo, *plans]
    print()
    print("Sektorbro bench: POST /v1/plans on PostgreSQL, against POST /bench/echo (ceiling)")
    print(f"  date          {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"  machine       {cpus} CPUs (os.cpu_count()), {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print(f"  database      {database}, same machine")
    print(f"  server        uvicorn --workers {args.workers}")
    print(
        f"  load          {load_generator}, bench/{PLAN_SCRIPT}, closed loop, "
        f"{', '.join(f'-c{m.connections} -t{m.run.threads}' for m in measured)}"
    )
    print(
        f"  duration      {args.seconds:g} s per route and concurrency, after a {args.warmup:g} s "
        f"warm-up, then the requests in flight are awaited"
    )
    print(
        f"  body          {PLAN_FILE.relative_to(ROOT)}, {body_bytes:,} bytes (compact), "
        f"new letter_id each"
    )
    print()
    header = (
        f"{'endpoint':<18}{'conn.':>6}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in measured:
        r, lat = m.run, m.run.latency_ms
        print(
            f"{m.name:<18}{m.connections:>6}{r.requests:>10,}{r.per_second:>9,.0f}"
            f"{lat['p50']:>9.1f}{lat['p90']:>9.1f}{lat['p99']:>9.1f}{lat['max']:>9.1f}"
            f"{r.errors:>8,}"
        )
    same = next((p for p in plans if p.connections == echo.connections), None)
    if same is not None:
        ratio = same.run.per_second / echo.run.per_second if echo.run.per_second else math.nan
        print(
            f"\nplans/echo throughput at {echo.connections} connections: {ratio:.3f}  "
            f"(the echo is the ceiling of this app here)"
        )

    print(
        f"\nCPU while measuring: milliseconds per request, and cores kept busy (of the "
        f"machine's {cpus}; 'other' is the kernel, this script and the rest of the machine):"
    )
    header = (
        f"{'endpoint':<18}{'conn.':>6}{'server ms':>11}{'pg ms':>8}{'wrk ms':>8}"
        f"   {'server':>7}{'postgres':>9}{'wrk':>6}{'other':>7}{'machine':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in measured:
        r = m.run
        print(
            f"{m.name:<18}{m.connections:>6}{_fmt(r.ms_per_request(r.server_cpu)):>11}"
            f"{_fmt(r.ms_per_request(r.postgres_cpu)):>8}{_fmt(r.ms_per_request(r.wrk_cpu)):>8}"
            f"   {_fmt(r.cores(r.server_cpu)):>7}{_fmt(r.cores(r.postgres_cpu)):>9}"
            f"{_fmt(r.cores(r.wrk_cpu)):>6}{_fmt(r.cores(r.other_cpu)):>7}"
            f"{_fmt(r.cores(r.machine_cpu)):>8}"
        )
    print(
        "connections per server worker: "
        + "; ".join(f"{m.name} at {m.connections}: {m.run.split}" for m in measured)
    )

    for m in measured:
        for phase, run in (("", m.run), (" (warm-up)", m.warmup)):
            if run is not None and (problem := run.describe_errors()):
                print(f"\n{m.name} at {m.connections}{phase}: {problem}")

    runs = [r for p in plans for r in (p.run, p.warmup) if r is not None]
    created = sum(r.statuses["201"] for r in runs)
    unanswered = sum(r.unanswered for r in runs)
    verdict = "equal" if stored == created else "MISMATCH"
    print(
        f"\nstored: select count(*) from messages = {_count(stored)}; 201 answers counted "
        f"(warm-ups included): {created:,}  -> {verdict}"
        + (f" ({unanswered:,} plans sent but unanswered)" if unanswered else "")
    )

    print(f"\ntargets (for a 2-core machine; this one has {cpus}), printed, never asserted:")
    for p in plans:
        ms = p.run.ms_per_request(p.run.server_cpu)
        met = ms is not None and ms <= TARGET_SERVER_MS_PER_PLAN
        print(
            f"  server CPU <= {TARGET_SERVER_MS_PER_PLAN:g} ms per plan at {p.connections} "
            f"connections: {_met(met)} ({_fmt(ms)} ms)"
        )
    if same is None:
        print(
            f"  plans/s >= {TARGET_SHARE_OF_ECHO:g} x echo: n/a (plans not measured at "
            f"{echo.connections} connections)"
        )
    else:
        needed = TARGET_SHARE_OF_ECHO * echo.run.per_second
        print(
            f"  plans/s >= {TARGET_SHARE_OF_ECHO:g} x echo at {echo.connections} connections: "
            f"{_met(same.run.per_second >= needed and not same.run.errors)} "
            f"({same.run.per_second:,.0f}/s; {TARGET_SHARE_OF_ECHO:g} x {echo.run.per_second:,.0f}"
            f"/s = {needed:,.0f}/s)"
        )
    at = next((p for p in plans if p.connections == TARGET_P99_CONNECTIONS), None)
    if at is None:
        print(
            f"  p99 < {TARGET_P99_MS:g} ms at {TARGET_P99_CONNECTIONS} connections: n/a "
            f"(not measured; --concurrency {','.join(map(str, args.concurrency))})"
        )
    else:
        p99 = at.run.latency_ms["p99"]
        print(
            f"  p99 < {TARGET_P99_MS:g} ms at {TARGET_P99_CONNECTIONS} connections: "
            f"{_met(p99 < TARGET_P99_MS and not at.run.errors)} ({p99:.1f} ms)"
        )
    if any(p.run.errors for p in plans):
        print("  (plans had errors, see above: a target with errors is not met)")
    if profile is not None:
        print(f"\nprofile: {profile}")


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


def _count(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="POST /v1/plans on PostgreSQL under wrk, against a JSON echo."
    )
    parser.add_argument("--seconds", type=float, default=20, help="per measurement (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each (default 3)")
    parser.add_argument(
        "--concurrency",
        default="32,8",
        help="connections, comma-separated; plans are measured at each, the echo at the "
        "highest (%(default)s)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SEKTORBRO_NAME=VALUE",
        help="a setting for the server (repeatable), e.g. SEKTORBRO_DB_POOL_SIZE=4",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="SECONDS",
        help="record a server worker with py-spy for this long, while plans are measured at "
        "the highest concurrency",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="a PostgreSQL database whose server gets the bench database (default %(default)s)",
    )
    args = parser.parse_args()
    try:
        args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        parser.error("--concurrency takes whole numbers separated by commas, e.g. 32,8")
    if not args.concurrency or min(args.concurrency) < 1:
        parser.error("--concurrency must be at least 1 each")
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be positive and --warmup not negative")
    if args.profile is not None and args.profile < 1:
        parser.error("--profile takes a whole number of seconds, at least 1")
    return args


def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server_url = psycopg_url(args.database_url)
    try:
        load_generator = wrk_version()
        py_spy = find_py_spy() if args.profile else None
        with ExitStack() as stack:
            database_url = stack.enter_context(fresh_database(server_url))
            env = {k: v for k, v in os.environ.items() if not k.startswith("SEKTORBRO_")}
            env |= {
                "SEKTORBRO_DATABASE_URL": database_url,
                "SEKTORBRO_PATIENT_HASH_KEY": "bench-secret",
                "SEKTORBRO_LOG_LEVEL": "WARNING",
            }
            env |= dict(setting.split("=", 1) for setting in args.set)
            if args.workers > 1:  # as `sektorbro serve --workers N` does (app/cli.py)
                metrics_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))
                env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
            print(f"setting up {make_url(database_url).database} ...", flush=True)
            key = set_up(env)
            engine = create_engine(database_url, poolclass=NullPool)
            stack.callback(engine.dispose)
            database = postgres_description(engine)

            port = free_port()
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            log = work / "log"
            body = work / "plan.json"
            body_bytes = write_plan_body(body)
            server = stack.enter_context(
                running_server(env, workers=args.workers, port=port, log=log)
            )
            base = f"http://127.0.0.1:{port}"
            top = max(args.concurrency)
            echo_load = Load(
                script=PLAN_SCRIPT,
                url=base + ECHO_PATH,
                connections=top,
                headers=("Content-Type: application/json",),
                options=(("body", str(body)),),
                expected_status=200,
            )
            plans_load = replace(
                echo_load,
                url=base + PLANS_PATH,
                headers=(*echo_load.headers, f"Authorization: Bearer {key}"),
                expected_status=201,
            )
            profiler = None
            if py_spy is not None and args.profile is not None:
                profiler = Profiler(py_spy, args.profile, work / "py-spy.log")
                stack.callback(profiler.stop)

            echo = measure(
                f"POST {ECHO_PATH}", echo_load, args=args, server_pid=server.pid, port=port
            )
            plans = []
            for connections in args.concurrency:
                start_profile = None
                if profiler is not None and profiler.process is None and connections == top:

                    def start_profile(found: dict[int, int] | None, p: Profiler = profiler) -> None:
                        p.start(server.pid, found)

                plans.append(
                    measure(
                        f"POST {PLANS_PATH}",
                        replace(plans_load, connections=connections),
                        args=args,
                        server_pid=server.pid,
                        port=port,
                        on_running=start_profile,
                    )
                )
            profile = None
            if profiler is not None:
                where = profiler.finish()
                profile = (
                    f"py-spy record --nonblocking --format raw, {args.profile} s of worker "
                    f"{profiler.pid} during POST {PLANS_PATH} at {top} connections: {where}"
                )
                if args.profile > args.seconds:
                    profile += "\n  (longer than --seconds: it also sampled what came after)"
            stored = count_messages(engine)
            report(
                echo,
                plans,
                args=args,
                body_bytes=body_bytes,
                database=database,
                load_generator=load_generator,
                stored=stored,
                profile=profile,
            )
            if server.poll() is not None:
                print(f"\nthe server exited early:\n{log.read_text()}")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the server is stopped and the database dropped", file=sys.stderr)
        return 130
    return 0


def _exit_on_signal(signum: int, _frame: types.FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
