"""Benchmark of `POST /v1/plans` on PostgreSQL, against a trivial JSON echo of the same app.

One run:

1. creates a fresh PostgreSQL database on the server of --database-url, runs `sektorbro
   migrate`, imports the demo directory and creates an API key for Odense Universitetshospital
   (GLN 5790001354145);
2. starts the service as a real process on 127.0.0.1: `uvicorn --factory
   bench.echo_app:create_bench_app --workers N` (the app plus `POST /bench/echo`);
3. measures the echo route (the ceiling), then the plans route, the same way: a warm-up, then a
   fixed time of closed-loop load at concurrency C from K client processes (asyncio + httpx),
   posting the reference plan `tests/data/plan-almen.json` with a new `letter_id` on every
   request, and recording the latency of each;
4. prints requests/s, p50/p99/max latency and errors for both, the ratio plans/echo, where the
   CPU went (client, server, PostgreSQL), how many plans the database holds, and whether the
   targets were met (1,000 plans/s and p99 < 50 ms on a 2-core machine) -- printed, never
   asserted;
5. stops the server and drops the database, also after an error, Ctrl-C or SIGTERM.

Client and server share the machine, so the CPU each used is printed (client, server,
PostgreSQL, the rest), and the server's CPU time per request. If one client process nears a
full core, try `--client-processes 2`. The client gives each sender an `httpx.AsyncClient` of
its own (`--shared-pool`: one per process, much costlier; see `_run_client`) and opens the
connections a little apart, so that they spread over the server's workers; the split is
printed, since keep-alive keeps each connection on one worker for the whole run.

Run it from the project root with the project's venv active:

    python bench/plans.py [--seconds 20] [--concurrency 32] [--workers 2]
        [--client-processes 1] [--shared-pool] [--warmup 3]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

import argparse
import asyncio
import contextvars
import importlib.util
import itertools
import json
import math
import multiprocessing
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import types
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import cast

import httpx
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
TARGET_PLANS_PER_SECOND = 1_000
TARGET_P99_MS = 50.0
# A client process using more than this share of a core may be holding the numbers back.
CLIENT_SATURATION = 0.8

LETTER_ID_PLACEHOLDER = "@@LETTER_ID@@"
CONNECT_STAGGER = 0.02  # seconds between the first requests of the senders of a client process


class BenchError(Exception):
    """A step of the set-up failed; the message says which and why."""


# --------------------------------------------------------------------------------------------
# Load generation (runs in the client processes)


@dataclass(frozen=True, slots=True)
class Load:
    """What one client process sends: `body_head + letter_id + body_tail` to `url`."""

    url: str
    headers: dict[str, str]
    body_head: bytes
    body_tail: bytes
    concurrency: int
    warmup_seconds: float
    seconds: float
    # "B" and the client process's number (at most 9 processes), then a counter: every
    # letter_id of the run is new, and within MedCom's 14 characters below 10**12 requests.
    letter_prefix: str
    shared_pool: bool  # one AsyncClient for all senders, rather than one each


@dataclass(slots=True)
class ClientResult:
    """What one client process saw while measuring (the warm-up only counts statuses)."""

    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    outcomes: Counter[str] = field(default_factory=Counter)  # HTTP status or exception name
    warmup_outcomes: Counter[str] = field(default_factory=Counter)
    first_error: str | None = None  # a sample of an unexpected answer, for the report
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's own CPU time while measuring


def client_process(load: Load, start: Barrier, results: "Queue[ClientResult | str]") -> None:
    """Entry point of a client process: warm up, wait for the others, measure, report."""
    _stand_in_for_sniffio()
    try:
        results.put(asyncio.run(_run_client(load, start)))
    except KeyboardInterrupt:
        pass
    except BaseException:
        results.put(traceback.format_exc())


def _stand_in_for_sniffio() -> None:
    """httpcore runs `import sniffio` for each lock it creates, several times per request.
    sniffio is not installed here (anyio no longer needs it), so each is a failed import that
    searches sys.path: about 0.3 ms of client CPU per request on the reference machine. A
    stand-in that answers "asyncio" -- what httpcore assumes when the import fails -- keeps the
    load generator out of the way. Only in client processes; the server never sees it."""
    if importlib.util.find_spec("sniffio") is not None:
        return
    stand_in = types.ModuleType("sniffio", "Stand-in for sniffio: always asyncio (bench/plans.py)")

    class AsyncLibraryNotFoundError(RuntimeError):
        pass

    vars(stand_in).update(
        current_async_library=lambda: "asyncio",
        current_async_library_cvar=contextvars.ContextVar(
            "current_async_library_cvar", default=None
        ),
        AsyncLibraryNotFoundError=AsyncLibraryNotFoundError,
    )
    sys.modules["sniffio"] = stand_in


async def _run_client(load: Load, start: Barrier) -> ClientResult:
    """Warm-up, then the measured run, with `load.concurrency` senders.

    By default each sender has an AsyncClient of its own (a pool of one connection): httpcore's
    pool scans every connection it holds on each request, so one pool of 32 connections costs
    the client ~3 ms of CPU per request, five times the whole rest of the request. Either way
    there are exactly `load.concurrency` connections; `--shared-pool` shows the difference.
    """
    if load.shared_pool:
        pool_size, pools = load.concurrency, 1
    else:
        pool_size, pools = 1, load.concurrency
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    result = ClientResult()
    letter_ids = (f"{load.letter_prefix}{n}" for n in itertools.count())
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=30.0))
            for _ in range(pools)
        ]
        await _closed_loop(clients, load, load.warmup_seconds, letter_ids, result, measure=False)
        # Every client process starts measuring at the same moment; the parent samples the
        # server's CPU at the same barrier.
        start.wait(timeout=120)
        cpu_before = time.process_time()
        result.wall_seconds = await _closed_loop(
            clients, load, load.seconds, letter_ids, result, measure=True
        )
        result.cpu_seconds = time.process_time() - cpu_before
    return result


async def _closed_loop(
    clients: list[httpx.AsyncClient],
    load: Load,
    seconds: float,
    letter_ids: Iterator[str],
    result: ClientResult,
    *,
    measure: bool,
) -> float:
    """`load.concurrency` senders, each posting again as soon as it has its answer, until
    `seconds` have passed. Returns the wall time until the last answer came in."""
    outcomes = result.outcomes if measure else result.warmup_outcomes
    started = time.perf_counter()
    deadline = started + seconds

    async def sender(index: int, client: httpx.AsyncClient) -> None:
        if not measure:
            # Connections opened all at once tend to land on one server worker (whichever
            # wakes first accepts them all), and keep-alive keeps them there: open them apart.
            await asyncio.sleep(index * CONNECT_STAGGER)
        while time.perf_counter() < deadline:
            letter_id = next(letter_ids)
            body = load.body_head + letter_id.encode("ascii") + load.body_tail
            sent = time.perf_counter()
            try:
                response = await client.post(load.url, content=body, headers=load.headers)
                outcome = str(response.status_code)
                if response.status_code >= 300 and result.first_error is None:
                    result.first_error = f"{outcome}: {response.text[:500]}"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
                if result.first_error is None:
                    result.first_error = f"{outcome}: {exc}"
            if measure:
                result.latencies.append(time.perf_counter() - sent)
            outcomes[outcome] += 1

    await asyncio.gather(*(sender(i, clients[i % len(clients)]) for i in range(load.concurrency)))
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc; "n/a" elsewhere)


@dataclass(frozen=True, slots=True)
class CpuSample:
    at: float  # time.monotonic()
    server: float | None  # CPU seconds of the uvicorn process and its workers
    postgres: float | None  # CPU seconds of the local processes named "postgres"
    machine_busy: float | None  # busy CPU seconds of the whole machine, all cores


def take_cpu_sample(server_pid: int) -> CpuSample:
    return CpuSample(
        at=time.monotonic(),
        server=_tree_cpu_seconds(server_pid),
        postgres=_cpu_seconds_named("postgres"),
        machine_busy=_machine_busy_seconds(),
    )


def _proc_stats() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, user + system CPU seconds) of every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # After "pid (comm) ": state, ppid, ..., utime (11th), stime (12th).
        stats[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return stats


def _process_tree(root: int, stats: dict[int, tuple[str, int, float]]) -> set[int]:
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, (_, ppid, _) in stats.items() if ppid in frontier} - tree
    return tree & stats.keys()


def _tree_cpu_seconds(root: int) -> float | None:
    if not Path("/proc/self/stat").exists():
        return None
    stats = _proc_stats()
    return sum(stats[pid][2] for pid in _process_tree(root, stats))


def connections_per_worker(root: int, port: int) -> list[int] | None:
    """How many of the established connections to `port` each server worker holds, most first.

    The kernel hands each new connection to one worker, and keep-alive keeps it there for the
    whole run, so an uneven split (say 6 + 2) leaves a worker idle while another queues."""
    try:
        sockets: dict[str, set[str]] = {"01": set(), "0A": set()}  # established, listening
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in sockets:
                    sockets[fields[3]].add(fields[9])  # the socket's inode
        held: dict[int, tuple[int, bool]] = {}  # pid -> (established, listens)
        for pid in _process_tree(root, _proc_stats()):
            inodes = set()
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
            held[pid] = (len(inodes & sockets["01"]), bool(inodes & sockets["0A"]))
    except OSError:
        return None
    # Workers listen; with --workers > 1 so does their supervisor, which serves nothing.
    listeners = [pid for pid, (_, listens) in held.items() if listens]
    workers = [pid for pid in listeners if pid != root] or listeners
    return sorted((held[pid][0] for pid in workers), reverse=True)


def _cpu_seconds_named(name: str) -> float | None:
    if not Path("/proc/self/stat").exists():
        return None
    found = [cpu for command, _, cpu in _proc_stats().values() if command == name]
    return sum(found) if found else None


def _machine_busy_seconds() -> float | None:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal ...
    busy = sum(int(first[i]) for i in (1, 2, 3, 6, 7, 8))
    return busy / os.sysconf("SC_CLK_TCK")


def _cores(before: float | None, after: float | None, wall: float) -> float | None:
    """CPU seconds spent between two samples, as cores kept busy."""
    if before is None or after is None or wall <= 0:
        return None
    return (after - before) / wall


# --------------------------------------------------------------------------------------------
# Measuring one endpoint (runs in the parent)


@dataclass(frozen=True, slots=True)
class Measurement:
    """The merged result of all client processes for one endpoint."""

    name: str
    expected_status: int
    latencies: list[float]
    outcomes: Counter[str]
    warmup_outcomes: Counter[str]
    first_error: str | None
    wall_seconds: float
    client_cores: float
    client_cores_per_process: list[float]
    server_cores: float | None
    postgres_cores: float | None
    machine_cores: float | None
    connections_per_worker: list[int] | None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k != str(self.expected_status))

    @property
    def server_ms_per_request(self) -> float | None:
        """Server CPU time per answered request, in milliseconds."""
        if self.server_cores is None or not self.per_second:
            return None
        return self.server_cores / self.per_second * 1000

    @property
    def other_cores(self) -> float | None:
        """Busy cores not accounted to client, server or PostgreSQL: the kernel's share of
        the network, and anything else running on the machine (which skews the figures)."""
        known = (self.server_cores, self.postgres_cores, self.machine_cores)
        if any(x is None for x in known):
            return None
        server, postgres, machine = cast(tuple[float, float, float], known)
        return machine - self.client_cores - server - postgres

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..1) of the latencies, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


def measure(
    name: str,
    load: Load,
    *,
    processes: int,
    expected_status: int,
    server_pid: int,
    server_port: int,
) -> Measurement:
    """Runs `load` from `processes` client processes that share its concurrency."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    results: Queue[ClientResult | str] = context.Queue()
    shares = [
        load.concurrency // processes + (i < load.concurrency % processes) for i in range(processes)
    ]
    clients = [
        context.Process(
            target=client_process,
            args=(
                replace(load, concurrency=share, letter_prefix=f"{load.letter_prefix}{i}"),
                start,
                results,
            ),
            name=f"bench-client-{i}",
        )
        for i, share in enumerate(shares)
    ]
    for client in clients:
        client.start()
    try:
        try:
            start.wait(timeout=load.warmup_seconds + 120)
        except Exception:
            reason = _drain(results)
            raise BenchError(f"a client process failed during the warm-up: {reason}") from None
        before = take_cpu_sample(server_pid)
        connections = connections_per_worker(server_pid, server_port)
        collected = [results.get(timeout=load.seconds + 120) for _ in clients]
        after = take_cpu_sample(server_pid)
        for client in clients:
            client.join(timeout=30)
    finally:
        for client in clients:
            if client.is_alive():
                client.terminate()
                client.join()

    failures = [r for r in collected if isinstance(r, str)]
    if failures:
        raise BenchError(f"a client process failed:\n{failures[0]}")
    parts = [r for r in collected if isinstance(r, ClientResult)]
    wall = max(p.wall_seconds for p in parts)
    sampled = after.at - before.at
    return Measurement(
        name=name,
        expected_status=expected_status,
        latencies=[x for p in parts for x in p.latencies],
        outcomes=sum((p.outcomes for p in parts), Counter()),
        warmup_outcomes=sum((p.warmup_outcomes for p in parts), Counter()),
        first_error=next((p.first_error for p in parts if p.first_error), None),
        wall_seconds=wall,
        client_cores=sum(p.cpu_seconds for p in parts) / wall,
        client_cores_per_process=[p.cpu_seconds / p.wall_seconds for p in parts],
        server_cores=_cores(before.server, after.server, sampled),
        postgres_cores=_cores(before.postgres, after.postgres, sampled),
        machine_cores=_cores(before.machine_busy, after.machine_busy, sampled),
        connections_per_worker=connections,
    )


def _drain(results: "Queue[ClientResult | str]") -> str:
    try:
        return str(results.get(timeout=5))
    except Exception:
        return "(no report; see above)"


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


def plan_body_parts() -> tuple[bytes, bytes]:
    """The reference plan as compact JSON, split where its letter_id goes."""
    plan = json.loads(PLAN_FILE.read_text(encoding="utf-8"))
    plan["letter_id"] = LETTER_ID_PLACEHOLDER
    encoded = json.dumps(plan, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head, tail = encoded.split(LETTER_ID_PLACEHOLDER.encode("ascii"))
    return head, tail


# --------------------------------------------------------------------------------------------
# Report


def report(
    echo: Measurement,
    plans: Measurement,
    *,
    args: argparse.Namespace,
    body_bytes: int,
    database: str,
    stored: int | str,
) -> None:
    cpus = os.cpu_count() or 0
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
        f"  client        {args.client_processes} process(es), asyncio + httpx "
        f"{httpx.__version__}, concurrency {args.concurrency} in total, "
        + ("one shared pool per process" if args.shared_pool else "one AsyncClient per sender")
    )
    print(f"  duration      {args.seconds:g} s per endpoint, after a {args.warmup:g} s warm-up")
    print(
        f"  body          {PLAN_FILE.relative_to(ROOT)}, {body_bytes:,} bytes, new letter_id each"
    )
    print()
    header = (
        f"{'endpoint':<18}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in (echo, plans):
        print(
            f"{m.name:<18}{m.requests:>9,}{m.per_second:>9,.0f}{m.percentile_ms(0.50):>9.1f}"
            f"{m.percentile_ms(0.99):>9.1f}{m.percentile_ms(1.0):>9.1f}{m.errors:>8,}"
        )
    ratio = plans.per_second / echo.per_second if echo.per_second else math.nan
    print(f"\nplans/echo throughput: {ratio:.2f}  (the echo is the ceiling of this app here)")

    print(f"\nCPU while measuring, in cores kept busy (of the machine's {cpus}):")
    header = (
        f"{'endpoint':<18}{'client':>9}{'server':>9}{'postgres':>10}{'other':>9}{'machine':>9}"
        f"{'server ms/req':>15}"
    )
    print(header)
    print("-" * len(header))
    for m in (echo, plans):
        print(
            f"{m.name:<18}{_fmt(m.client_cores):>9}{_fmt(m.server_cores):>9}"
            f"{_fmt(m.postgres_cores):>10}{_fmt(m.other_cores):>9}{_fmt(m.machine_cores):>9}"
            f"{_fmt(m.server_ms_per_request):>15}"
        )
    for m in (echo, plans):
        if m.connections_per_worker is not None:
            split = " + ".join(str(n) for n in m.connections_per_worker)
            print(f"connections per server worker during {m.name}: {split}")
    for m in (echo, plans):
        busiest = max(m.client_cores_per_process)
        if busiest > CLIENT_SATURATION:
            print(
                f"note: a client process used {busiest:.2f} of a core during {m.name}; the "
                f"load generator may be holding the numbers back (try --client-processes "
                f"{args.client_processes + 1})."
            )

    for m in (echo, plans):
        unexpected = {k: n for k, n in m.outcomes.items() if k != str(m.expected_status)}
        if unexpected:
            print(f"\n{m.name} errors: {unexpected}; first: {m.first_error}")

    created = plans.outcomes["201"] + plans.warmup_outcomes["201"]
    print(
        f"\nstored: select count(*) from messages = {_count(stored)} "
        f"(201 answers, warm-up included: {created:,})"
        + ("" if stored == created else "  <-- MISMATCH")
    )

    p99 = plans.percentile_ms(0.99)
    throughput_met = plans.per_second >= TARGET_PLANS_PER_SECOND
    latency_met = p99 < TARGET_P99_MS
    print(f"\nverdict (targets for a 2-core machine; this one has {cpus}):")
    print(
        f"  {TARGET_PLANS_PER_SECOND:,} plans/s: {'met' if throughput_met else 'NOT met'} "
        f"({plans.per_second:,.0f}/s)"
    )
    print(f"  p99 < {TARGET_P99_MS:g} ms: {'met' if latency_met else 'NOT met'} ({p99:.1f} ms)")
    if not latency_met:
        # Little's law: in a closed loop the mean latency is concurrency / throughput.
        needed = args.concurrency / (TARGET_P99_MS / 1000)
        print(
            f"  (at concurrency {args.concurrency} the mean latency is {args.concurrency} / "
            f"throughput, so a p99 under {TARGET_P99_MS:g} ms needs well over {needed:,.0f}/s)"
        )
    if plans.errors:
        print(f"  ({plans.errors:,} plans were not answered 201; see above)")


def _count(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="POST /v1/plans on PostgreSQL at fixed concurrency, against a JSON echo."
    )
    parser.add_argument("--seconds", type=float, default=20, help="per endpoint (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each (default 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (32)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="client processes sharing the concurrency (default 1)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="a PostgreSQL database whose server gets the bench database (default %(default)s)",
    )
    parser.add_argument(
        "--shared-pool",
        action="store_true",
        help="one httpx.AsyncClient per client process instead of one per sender (costlier)",
    )
    args = parser.parse_args()
    if not 1 <= args.client_processes <= min(9, args.concurrency):
        parser.error("--client-processes must be between 1 and min(9, --concurrency)")
    return args


def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server_url = psycopg_url(args.database_url)
    head, tail = plan_body_parts()
    try:
        with ExitStack() as stack:
            database_url = stack.enter_context(fresh_database(server_url))
            env = {k: v for k, v in os.environ.items() if not k.startswith("SEKTORBRO_")}
            env |= {
                "SEKTORBRO_DATABASE_URL": database_url,
                "SEKTORBRO_PATIENT_HASH_KEY": "bench-secret",
                "SEKTORBRO_LOG_LEVEL": "WARNING",
            }
            if args.workers > 1:  # as `sektorbro serve --workers N` does (app/cli.py)
                metrics_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))
                env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
            print(f"setting up {make_url(database_url).database} ...", flush=True)
            key = set_up(env)
            engine = create_engine(database_url, poolclass=NullPool)
            stack.callback(engine.dispose)
            database = postgres_description(engine)

            port = free_port()
            log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))) / "log"
            server = stack.enter_context(
                running_server(env, workers=args.workers, port=port, log=log)
            )
            base = f"http://127.0.0.1:{port}"
            load = Load(
                url=base + ECHO_PATH,
                headers={"content-type": "application/json"},
                body_head=head,
                body_tail=tail,
                concurrency=args.concurrency,
                warmup_seconds=args.warmup,
                seconds=args.seconds,
                letter_prefix="B",
                shared_pool=args.shared_pool,
            )

            print(f"measuring {ECHO_PATH} ...", flush=True)
            echo = measure(
                f"POST {ECHO_PATH}",
                load,
                processes=args.client_processes,
                expected_status=200,
                server_pid=server.pid,
                server_port=port,
            )
            print(f"measuring {PLANS_PATH} ...", flush=True)
            plans = measure(
                f"POST {PLANS_PATH}",
                replace(
                    load,
                    url=base + PLANS_PATH,
                    headers=load.headers | {"authorization": f"Bearer {key}"},
                ),
                processes=args.client_processes,
                expected_status=201,
                server_pid=server.pid,
                server_port=port,
            )
            stored = count_messages(engine)
            report(
                echo,
                plans,
                args=args,
                body_bytes=len(head) + len(tail) + len("B0123456"),
                database=database,
                stored=stored,
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
