"""Benchmark of the receiver's inbox on PostgreSQL: `GET /v1/inbox?limit=50` and
`POST /v1/inbox/{delivery_id}/ack`, with a small and a large store of delivered messages, with
`wrk` as the load generator.

For each store size N (--sizes, default 100,000 and 1,000,000), one after the other:

1. creates a fresh PostgreSQL database (bench/plans.py `fresh_database`), runs `sektorbro
   migrate`, imports the demo directory and creates API keys for Odense Universitetshospital
   (5790001354145, the sender) and Odense Kommune (5790000121441, the receiver measured);
2. starts the service (bench/plans.py `running_server`, SEKTORBRO_RUN_TIMERS=false) and posts
   the reference plan `tests/data/plan-almen.json`: its stored body and its delivery to Odense
   Kommune (the rendered GGOP XML) are the template of every seeded row;
3. seeds N delivered plans with server-side SQL (INSERT ... SELECT FROM generate_series): one
   message, one delivery and its status events per plan, spread over a year and over the
   directory's kommuner in turn (Odense Kommune gets 1 in K). All deliveries are
   `acknowledged` except the newest --available of Odense Kommune's, which are `available`
   (its inbox). Then VACUUM ANALYZE;
4. measures with wrk (bench/loadgen.py), at each --concurrency (connections; default 1 and 4:
   one poller's latency, and four requests in flight on the machine's cores), for --seconds
   each after an unmeasured --warmup: (a) `GET /v1/inbox?limit=50` as Odense Kommune
   (bench/inbox_get.lua); (b) acks, `POST /v1/inbox/{id}/ack` with `{"result":"positive"}`
   (bench/inbox_ack.lua), every request a different `available` delivery of Odense Kommune's:
   before each wrk run they are read from the database in random order into a file, of which
   each wrk thread takes a disjoint slice. When the time is up no new request is sent and those
   in flight are awaited;
5. stops the server and drops the database, also after an error, Ctrl-C or SIGTERM.

Then prints, per store size and endpoint, requests, p50/p99/max latency and errors (any status
but 200 for a page and 201 for an ack, and socket errors), the seeding time, the CPU
milliseconds per request of the server (its process tree), of PostgreSQL (the local `postgres`
processes) and of wrk, the ratio large/small of p50 and p99 per endpoint, and the targets --
printed as met / NOT met, never asserted: server CPU <= 3 ms per inbox page and per ack; p99 <
20 ms at concurrency 1; the large store no more than 1.5x the small one (p99).

Run it from the project root with the project's venv active (wrk on the PATH):

    python bench/inbox.py [--sizes 100000,1000000] [--seconds 10] [--concurrency 1,4]
        [--workers 2] [--available 10000] [--warmup 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

import argparse
import json
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from loadgen import BenchError, Load, WrkRun, run_wrk, wrk_version
from plans import (
    DEFAULT_DATABASE_URL,
    PLAN_FILE,
    _exit_on_signal,
    free_port,
    fresh_database,
    postgres_description,
    psycopg_url,
    running_server,
    sektorbro,
    set_up,
)
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

KOMMUNE_GLN = "5790000121441"  # Odense Kommune, the bopælskommune of the reference plan
INBOX_PATH = "/v1/inbox?limit=50"
ACK_NAME = "POST /v1/inbox/{id}/ack"
TARGET_P99_MS = 20.0
TARGET_P99_CONCURRENCY = 1
TARGET_SERVER_MS = 3.0  # server CPU per inbox page and per ack
TARGET_RATIO = 1.5
SEED_SPAN_DAYS = 365  # the seeded plans' created_at is spread over this many days


@dataclass(frozen=True, slots=True)
class Measurement:
    """One endpoint on one store size at one concurrency: the measured wrk run."""

    size: int
    name: str
    concurrency: int
    run: WrkRun

    @property
    def requests(self) -> int:
        return self.run.requests

    @property
    def errors(self) -> int:
        return self.run.errors

    def percentile_ms(self, q: float) -> float:
        """The latency at q (0.5, 0.9, 0.99 or 1.0) from wrk's histogram, in milliseconds."""
        return self.run.latency_ms[{0.5: "p50", 0.9: "p90", 0.99: "p99", 1.0: "max"}[q]]

    def per_request_ms(self, cpu: float | None) -> float | None:
        return self.run.ms_per_request(cpu)


@dataclass(frozen=True, slots=True)
class Store:
    """What one store size's set-up produced."""

    size: int
    available: int  # Odense Kommune's available deliveries after seeding
    kommuner: int
    seed_seconds: float
    analyze_seconds: float
    messages: int
    deliveries: int
    events: int
    database_bytes: int
    xml_bytes: int


# --------------------------------------------------------------------------------------------
# Load


def measure(
    size: int,
    name: str,
    load: Callable[[], Load],
    *,
    args: argparse.Namespace,
    server_pid: int,
    port: int,
) -> Measurement:
    """A warm-up (unmeasured), then the measured run, each a wrk run of `load()` (called
    before each, outside the measurement: the acks read the deliveries left then)."""
    first = load()
    print(f"[{size:,}] measuring {name} at concurrency {first.connections} ...", flush=True)
    if args.warmup > 0:
        run_wrk(first, seconds=args.warmup, server_pid=server_pid, server_port=port)
        first = load()
    run = run_wrk(first, seconds=args.seconds, server_pid=server_pid, server_port=port)
    return Measurement(size, name, first.connections, run)


# --------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------
# Seeding


def post_template_plan(base: str, hospital_key: str) -> str:
    """Posts the reference plan; returns its message_id (its body and its delivery to Odense
    Kommune are the template of the seeded rows)."""
    plan = json.loads(PLAN_FILE.read_text(encoding="utf-8"))
    response = httpx.post(
        base + "/v1/plans",
        json=plan,
        headers={"authorization": f"Bearer {hospital_key}"},
        timeout=30,
    )
    if response.status_code != 201:
        raise BenchError(f"posting {PLAN_FILE.name} failed: {response.status_code} {response.text}")
    message_id: str = response.json()["message_id"]
    return message_id


SEED_MESSAGES = """
INSERT INTO messages (message_id, thread_id, type, sender_gln, letter_id, content_hash,
                      patient_ref, body, created_at, plan_type, municipality_code,
                      discharge_date, first_contact_deadline, deadline)
SELECT md5('bench-message-' || i)::uuid::text, md5('bench-message-' || i)::uuid::text, 'plan',
       t.sender_gln,
       'S' || lpad(i::text, 13, '0'),
       encode(sha256(convert_to('bench-content-' || i, 'UTF8')), 'hex'),
       encode(sha256(convert_to('bench-patient-' || (i % 50000), 'UTF8')), 'hex'),
       t.body, at, t.plan_type, (CAST(:codes AS text[]))[1 + i % :k], at::date, at::date + 7,
       at::date + 7
FROM generate_series(1, CAST(:n AS integer)) AS i
CROSS JOIN LATERAL (SELECT CAST(:t0 AS timestamptz) + make_interval(secs => i * :step)) AS a(at)
CROSS JOIN (SELECT * FROM messages WHERE message_id = :template) AS t
"""

# Odense Kommune is receiver 1 of K (i % K = 0); its newest `available` deliveries are open.
SEED_DELIVERIES = """
INSERT INTO deliveries (delivery_id, message_id, receiver_gln, role, format, envelope_id,
                        status, xml, created_at, updated_at, ack_requested, sent_at, resends,
                        ack_overdue, receipt_message_id)
SELECT md5('bench-delivery-' || i)::uuid::text, md5('bench-message-' || i)::uuid::text,
       (CAST(:glns AS text[]))[1 + i % :k], 'primary', t.format, lpad(i::text, 14, '0'),
       CASE WHEN i % :k = 0 AND i > :first_available THEN 'available'
            ELSE 'acknowledged' END,
       t.xml, at,
       CASE WHEN i % :k = 0 AND i > :first_available THEN at
            ELSE at + interval '10 minutes' END,
       true, at, 0, false, NULL
FROM generate_series(1, CAST(:n AS integer)) AS i
CROSS JOIN LATERAL (SELECT CAST(:t0 AS timestamptz) + make_interval(secs => i * :step)) AS a(at)
CROSS JOIN (SELECT format, xml FROM deliveries
            WHERE message_id = :template AND receiver_gln = :kommune) AS t
"""

# The transmission event of every seeded delivery, and the acknowledgement of the settled ones.
SEED_EVENTS = """
INSERT INTO delivery_events (delivery_id, status, at, envelope_id)
SELECT d.delivery_id, e.status, e.at, e.envelope_id
FROM deliveries AS d
CROSS JOIN LATERAL (
    VALUES ('available', d.created_at, d.envelope_id),
           ('acknowledged', d.updated_at, NULL)
) AS e(status, at, envelope_id)
WHERE d.message_id <> :template
  AND (e.status = 'available' OR d.status = 'acknowledged')
ORDER BY d.created_at, e.at
"""


def seed(engine: Engine, *, size: int, available: int, template: str) -> Store:
    """N delivered plans like the template one; see the module docstring."""
    with engine.connect() as connection:
        kommuner = connection.execute(
            text(
                "SELECT gln, municipality_code FROM organisations "
                "WHERE kind = 'kommune' AND is_active "
                "ORDER BY gln <> :kommune, gln"  # Odense Kommune first
            ),
            {"kommune": KOMMUNE_GLN},
        ).all()
    k = len(kommuner)
    available = min(available, size // k)
    span = SEED_SPAN_DAYS * 86400
    params = {
        "n": size,
        "k": k,
        "first_available": size - k * available,  # Odense's i = 0 (mod K) above this
        "template": template,
        "kommune": KOMMUNE_GLN,
        "glns": [gln for gln, _ in kommuner],
        "codes": [code for _, code in kommuner],
        # The newest seeded plan is an hour old; the template plan (now) stays the newest.
        "t0": f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(time.time() - 3600 - span))}+00",
        "step": span / size,
    }
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        connection.execute(text(SEED_MESSAGES), params)
        connection.execute(text(SEED_DELIVERIES), params)
        connection.execute(text(SEED_EVENTS), params)
    seeded = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    analyzed = time.perf_counter()
    with engine.connect() as connection:

        def scalar(sql: str) -> int:
            value: int = connection.execute(text(sql), params).scalar_one()
            return value

        return Store(
            size=size,
            available=scalar(
                "SELECT count(*) FROM deliveries "
                "WHERE receiver_gln = :kommune AND status = 'available'"
            ),
            kommuner=k,
            seed_seconds=seeded - started,
            analyze_seconds=analyzed - seeded,
            messages=scalar("SELECT count(*) FROM messages"),
            deliveries=scalar("SELECT count(*) FROM deliveries"),
            events=scalar("SELECT count(*) FROM delivery_events"),
            database_bytes=scalar("SELECT pg_database_size(current_database())"),
            xml_bytes=scalar(
                "SELECT length(xml) FROM deliveries "
                "WHERE message_id = :template AND receiver_gln = :kommune"
            ),
        )


def available_ids(engine: Engine) -> list[str]:
    """Odense Kommune's available deliveries, in random order: one per ack."""
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                text(
                    "SELECT delivery_id FROM deliveries "
                    "WHERE receiver_gln = :kommune AND status = 'available'"
                ),
                {"kommune": KOMMUNE_GLN},
            ).scalars()
        )
    random.shuffle(ids)
    return ids


# --------------------------------------------------------------------------------------------
# One store size


def run_size(
    size: int, args: argparse.Namespace, server_url: str
) -> tuple[Store, list[Measurement]]:
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(server_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKTORBRO_")}
        env |= {
            "SEKTORBRO_DATABASE_URL": database_url,
            "SEKTORBRO_PATIENT_HASH_KEY": "bench-secret",
            "SEKTORBRO_LOG_LEVEL": "WARNING",
            "SEKTORBRO_RUN_TIMERS": "false",
        }
        env |= dict(setting.split("=", 1) for setting in args.set)
        if args.workers > 1:  # as `sektorbro serve --workers N` does (app/cli.py)
            env["PROMETHEUS_MULTIPROC_DIR"] = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="bench-")
            )
        print(f"\n[{size:,}] setting up {make_url(database_url).database} ...", flush=True)
        hospital_key = set_up(env)
        created = sektorbro(["keys", "create", "--org", KOMMUNE_GLN, "--label", "bench"], env)
        kommune_key = created.strip().splitlines()[-1]
        engine = create_engine(database_url, poolclass=NullPool)
        stack.callback(engine.dispose)

        port = free_port()
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        log = work / "log"
        server = stack.enter_context(running_server(env, workers=args.workers, port=port, log=log))
        base = f"http://127.0.0.1:{port}"
        template = post_template_plan(base, hospital_key)

        print(f"[{size:,}] seeding {size:,} delivered plans ...", flush=True)
        store = seed(engine, size=size, available=args.available, template=template)
        print(
            f"[{size:,}] seeded in {store.seed_seconds:.1f} s (VACUUM ANALYZE "
            f"{store.analyze_seconds:.1f} s); Odense Kommune has {store.available:,} available",
            flush=True,
        )

        authorization = f"Authorization: Bearer {kommune_key}"
        ids_file = work / "delivery-ids"

        def inbox(concurrency: int) -> Callable[[], Load]:
            def load() -> Load:
                return Load(
                    script="inbox_get.lua",
                    url=base + INBOX_PATH,
                    connections=concurrency,
                    headers=(authorization,),
                    expected_status=200,
                )

            return load

        def acks(concurrency: int) -> Callable[[], Load]:
            def load() -> Load:
                # The deliveries still available, in random order: one per ack.
                ids_file.write_text("".join(f"{i}\n" for i in available_ids(engine)))
                return Load(
                    script="inbox_ack.lua",
                    url=base + "/v1/inbox",
                    connections=concurrency,
                    headers=(authorization, "Content-Type: application/json"),
                    options=(("ids", str(ids_file)),),
                    expected_status=201,
                )

            return load

        measured = []
        for concurrency in args.concurrency:
            for name, load in ((f"GET {INBOX_PATH}", inbox), (ACK_NAME, acks)):
                measured.append(
                    measure(
                        size,
                        name,
                        load(concurrency),
                        args=args,
                        server_pid=server.pid,
                        port=port,
                    )
                )
        if server.poll() is not None:
            print(f"\nthe server exited early:\n{log.read_text()}")
        return store, measured


# --------------------------------------------------------------------------------------------
# Report


def report(
    stores: list[Store],
    results: list[Measurement],
    args: argparse.Namespace,
    database: str,
    load_generator: str,
) -> None:
    cpus = os.cpu_count() or 0
    print()
    print("Sektorbro bench: the inbox on PostgreSQL, small and large store")
    print(f"  date          {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"  machine       {cpus} CPUs (os.cpu_count()), {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print(f"  database      {database}, same machine")
    print(f"  server        uvicorn --workers {args.workers}, SEKTORBRO_RUN_TIMERS=false")
    print(
        f"  load          {load_generator}, bench/inbox_get.lua and bench/inbox_ack.lua, closed "
        f"loop, concurrency (connections) {', '.join(map(str, args.concurrency))}, "
        f"{args.seconds:g} s per endpoint and concurrency after a {args.warmup:g} s warm-up"
    )
    print()
    header = (
        f"{'store':>10}{'seed s':>8}{'DB MB':>8}{'avail.':>8}  {'endpoint':<26}{'conc.':>6}"
        f"{'requests':>9}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'errors':>7}"
        f"{'srv ms/req':>11}{'pg ms/req':>10}{'wrk ms/req':>11}{'other':>7}"
    )
    print(header)
    print("-" * len(header))
    for store in stores:
        for m in (r for r in results if r.size == store.size):
            run = m.run
            print(
                f"{store.size:>10,}{store.seed_seconds:>8.1f}"
                f"{store.database_bytes / 2**20:>8,.0f}{store.available:>8,}  {m.name:<26}"
                f"{m.concurrency:>6}{m.requests:>9,}{run.per_second:>7.0f}"
                f"{m.percentile_ms(0.5):>8.1f}{m.percentile_ms(0.99):>8.1f}"
                f"{m.percentile_ms(1.0):>8.1f}{m.errors:>7,}"
                f"{_fmt(m.per_request_ms(run.server_cpu)):>11}"
                f"{_fmt(m.per_request_ms(run.postgres_cpu)):>10}"
                f"{_fmt(m.per_request_ms(run.wrk_cpu)):>11}{_fmt(run.cores(run.other_cpu)):>7}"
            )
    print(
        "(other: cores kept busy by neither server, PostgreSQL nor wrk -- the kernel, this "
        "script, anything else on the machine)"
    )
    for store in stores:
        print(
            f"store {store.size:,}: {store.messages:,} messages, {store.deliveries:,} "
            f"deliveries, {store.events:,} delivery events (counted after seeding), "
            f"{store.kommuner} kommuner, XML {store.xml_bytes:,} bytes per delivery"
        )
    print(
        "connections per server worker: "
        + "; ".join(
            f"{m.name.split()[0]} {m.size:,}/{m.concurrency}: {m.run.split}"
            for m in results
            if m.concurrency > 1
        )
    )
    for m in results:
        if problem := m.run.describe_errors():
            print(f"{m.name} at {m.size:,}, concurrency {m.concurrency}: {problem}")
        if m.run.ran_out:
            print(
                f"{m.name} at {m.size:,}, concurrency {m.concurrency}: ran out of available "
                f"deliveries after {m.run.wall_seconds:.1f} s (raise --available)"
            )

    print(
        f"\ntargets (printed, never asserted): server CPU <= {TARGET_SERVER_MS:g} ms per inbox "
        f"page and per ack; p99 < {TARGET_P99_MS:g} ms at concurrency {TARGET_P99_CONCURRENCY}; "
        f"large store <= {TARGET_RATIO:g}x the small (p99):"
    )
    for m in results:
        ms = m.per_request_ms(m.run.server_cpu)
        met = ms is not None and ms <= TARGET_SERVER_MS and not m.errors
        print(
            f"  server CPU {m.name} at {m.size:,}, concurrency {m.concurrency}: "
            f"{_met(met)} ({_fmt(ms)} ms)"
        )
    for m in results:
        if m.concurrency != TARGET_P99_CONCURRENCY:
            continue
        p99 = m.percentile_ms(0.99)
        met = p99 < TARGET_P99_MS and not m.errors
        print(
            f"  p99 {m.name} at {m.size:,}, concurrency {m.concurrency}: "
            f"{_met(met)} ({p99:.1f} ms" + (f", {m.errors:,} errors)" if m.errors else ")")
        )
    if TARGET_P99_CONCURRENCY not in args.concurrency:
        print(f"  p99 at concurrency {TARGET_P99_CONCURRENCY}: n/a (not measured)")
    if len(stores) < 2:
        print("  ratio: n/a (one store size only)")
        return
    small, large = stores[0].size, stores[-1].size
    for name, concurrency in dict.fromkeys((m.name, m.concurrency) for m in results):
        by_size = {m.size: m for m in results if (m.name, m.concurrency) == (name, concurrency)}
        p50 = by_size[large].percentile_ms(0.5) / by_size[small].percentile_ms(0.5)
        p99 = by_size[large].percentile_ms(0.99) / by_size[small].percentile_ms(0.99)
        print(
            f"  ratio {name} {large:,}/{small:,}, concurrency {concurrency}: "
            f"{_met(p99 <= TARGET_RATIO)} (p99 {p99:.2f}x, p50 {p50:.2f}x)"
        )


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="GET /v1/inbox and acks on PostgreSQL with a small and a large store."
    )
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="store sizes in delivered plans, comma-separated, small first (%(default)s)",
    )
    parser.add_argument("--seconds", type=float, default=10, help="per endpoint (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each (default 2)")
    parser.add_argument(
        "--concurrency",
        default="1,4",
        help="requests in flight, comma-separated: 1 is one poller's latency, 4 a load on the "
        "machine's cores (%(default)s)",
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
        "--available",
        type=int,
        default=10_000,
        help="Odense Kommune's available deliveries, at most 1 in K of a store (10000)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="a PostgreSQL database whose server gets the bench databases (default %(default)s)",
    )
    args = parser.parse_args()
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, e.g. 20000,200000")
    if not args.sizes or min(args.sizes) < 100:
        parser.error("--sizes must be at least 100 each")
    try:
        args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        parser.error("--concurrency takes whole numbers separated by commas, e.g. 1,4")
    if not args.concurrency or min(args.concurrency) < 1:
        parser.error("--concurrency must be at least 1 each")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server_url = psycopg_url(args.database_url)
    stores: list[Store] = []
    results: list[Measurement] = []
    try:
        load_generator = wrk_version()
        admin = create_engine(server_url, poolclass=NullPool)
        database = postgres_description(admin)
        admin.dispose()
        for size in args.sizes:
            store, measured = run_size(size, args, server_url)
            stores.append(store)
            results.extend(measured)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the server is stopped and the database dropped", file=sys.stderr)
        return 130
    report(stores, results, args, database, load_generator)
    return 0


if __name__ == "__main__":
    sys.exit(main())
