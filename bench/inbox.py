"""Benchmark of the receiver's inbox on PostgreSQL: `GET /v1/inbox?limit=50` and
`POST /v1/inbox/{delivery_id}/ack`, with a small and a large store of delivered messages.

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
4. measures, at each --concurrency (default 1 and 4: one poller's latency, and four requests
   in flight on the machine's cores) from this process (asyncio + httpx, one AsyncClient
   per sender), for --seconds each after --warmup: (a) `GET /v1/inbox?limit=50` as Odense
   Kommune; (b) acks, `POST /v1/inbox/{id}/ack` with `{"result":"positive"}`, every request
   a different `available` delivery of Odense Kommune's (taken in random order beforehand);
5. stops the server and drops the database, also after an error, Ctrl-C or SIGTERM.

Then prints, per store size and endpoint, requests, p50/p99/max latency and errors, the
seeding time, the server's and PostgreSQL's CPU while measuring, the ratio large/small of p50
and p99 per endpoint, and the verdict against the targets (p99 < 20 ms; the large store no
more than 1.5x the small one) -- printed, never asserted.

Run it from the project root with the project's venv active:

    python bench/inbox.py [--sizes 100000,1000000] [--seconds 10] [--concurrency 1,4]
        [--workers 2] [--available 10000] [--warmup 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

import argparse
import asyncio
import json
import math
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from plans import (
    DEFAULT_DATABASE_URL,
    PLAN_FILE,
    BenchError,
    CpuSample,
    _exit_on_signal,
    _stand_in_for_sniffio,
    free_port,
    fresh_database,
    postgres_description,
    psycopg_url,
    running_server,
    sektorbro,
    set_up,
    take_cpu_sample,
)
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

KOMMUNE_GLN = "5790000121441"  # Odense Kommune, the bopælskommune of the reference plan
INBOX_PATH = "/v1/inbox?limit=50"
ACK_BODY = b'{"result":"positive"}'
TARGET_P99_MS = 20.0
TARGET_RATIO = 1.5
SEED_SPAN_DAYS = 365  # the seeded plans' created_at is spread over this many days


@dataclass(slots=True)
class Measurement:
    """One endpoint on one store size."""

    size: int
    name: str
    expected_status: int
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    outcomes: Counter[str] = field(default_factory=Counter)
    first_error: str | None = None
    wall_seconds: float = 0.0
    server_cpu: float | None = None  # CPU seconds of the server's process tree while measuring
    postgres_cpu: float | None = None
    ran_out: bool = False  # acks only: no available delivery left before the time was up

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k != str(self.expected_status))

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..1) of the latencies, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000

    def per_request_ms(self, cpu: float | None) -> float | None:
        return None if cpu is None or not self.requests else cpu / self.requests * 1000


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


async def closed_loop(
    base: str,
    headers: dict[str, str],
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response] | None],
    *,
    concurrency: int,
    seconds: float,
    result: Measurement | None,
) -> bool:
    """`concurrency` senders, each sending again as soon as it has its answer, for `seconds`
    (`result` None: a warm-up, nothing recorded). `request` returns None when there is nothing
    left to send; then returns True."""
    ran_out = False
    started = time.perf_counter()
    deadline = started + seconds
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal ran_out
        while time.perf_counter() < deadline:
            pending = request(client)
            if pending is None:
                ran_out = True
                return
            sent = time.perf_counter()
            try:
                response = await pending
                outcome = str(response.status_code)
                if result is not None and outcome != str(result.expected_status):
                    result.first_error = result.first_error or f"{outcome}: {response.text[:300]}"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
                if result is not None:
                    result.first_error = result.first_error or f"{outcome}: {exc}"
            if result is not None:
                result.latencies.append(time.perf_counter() - sent)
                result.outcomes[outcome] += 1

    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30.0)
            )
            for _ in range(concurrency)
        ]
        await asyncio.gather(*(sender(c) for c in clients))
    if result is not None:
        result.wall_seconds = time.perf_counter() - started
    return ran_out


def measure(
    result: Measurement,
    base: str,
    headers: dict[str, str],
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response] | None],
    *,
    args: argparse.Namespace,
    server_pid: int,
) -> Measurement:
    """A warm-up, then the measured run, with the server's and PostgreSQL's CPU around it."""
    asyncio.run(
        closed_loop(
            base,
            headers,
            request,
            concurrency=result.concurrency,
            seconds=args.warmup,
            result=None,
        )
    )
    before = take_cpu_sample(server_pid)
    result.ran_out = asyncio.run(
        closed_loop(
            base,
            headers,
            request,
            concurrency=result.concurrency,
            seconds=args.seconds,
            result=result,
        )
    )
    after = take_cpu_sample(server_pid)
    result.server_cpu = _spent(before, after, "server")
    result.postgres_cpu = _spent(before, after, "postgres")
    return result


def _spent(before: CpuSample, after: CpuSample, what: str) -> float | None:
    first, last = getattr(before, what), getattr(after, what)
    return None if first is None or last is None else last - first


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
        log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))) / "log"
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

        headers = {"authorization": f"Bearer {kommune_key}"}
        ids = available_ids(engine)
        ack_headers = headers | {"content-type": "application/json"}

        def ack(client: httpx.AsyncClient) -> Awaitable[httpx.Response] | None:
            if not ids:
                return None
            return client.post(f"/v1/inbox/{ids.pop()}/ack", content=ACK_BODY)

        measured = []
        for concurrency in args.concurrency:
            print(f"[{size:,}] measuring GET {INBOX_PATH} at concurrency {concurrency} ...")
            measured.append(
                measure(
                    Measurement(size, f"GET {INBOX_PATH}", 200, concurrency),
                    base,
                    headers,
                    lambda client: client.get(INBOX_PATH),
                    args=args,
                    server_pid=server.pid,
                )
            )
            print(f"[{size:,}] measuring acks at concurrency {concurrency} ...")
            measured.append(
                measure(
                    Measurement(size, "POST /v1/inbox/{id}/ack", 201, concurrency),
                    base,
                    ack_headers,
                    ack,
                    args=args,
                    server_pid=server.pid,
                )
            )
        if server.poll() is not None:
            print(f"\nthe server exited early:\n{log.read_text()}")
        return store, measured


# --------------------------------------------------------------------------------------------
# Report


def report(
    stores: list[Store], results: list[Measurement], args: argparse.Namespace, database: str
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
        f"  client        asyncio + httpx {httpx.__version__}, concurrency "
        f"{', '.join(map(str, args.concurrency))} (requests in flight), {args.seconds:g} s per "
        f"endpoint and concurrency after a {args.warmup:g} s warm-up"
    )
    print()
    header = (
        f"{'store':>10}{'seed s':>8}{'DB MB':>8}{'avail.':>8}  {'endpoint':<26}{'conc.':>6}"
        f"{'requests':>9}"
        f"{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'errors':>7}"
        f"{'srv ms/req':>11}{'pg ms/req':>10}"
    )
    print(header)
    print("-" * len(header))
    for store in stores:
        for m in (r for r in results if r.size == store.size):
            rate = m.requests / m.wall_seconds if m.wall_seconds else math.nan
            print(
                f"{store.size:>10,}{store.seed_seconds:>8.1f}"
                f"{store.database_bytes / 2**20:>8,.0f}{store.available:>8,}  {m.name:<26}"
                f"{m.concurrency:>6}{m.requests:>9,}{rate:>7.0f}{m.percentile_ms(0.5):>8.1f}"
                f"{m.percentile_ms(0.99):>8.1f}{m.percentile_ms(1.0):>8.1f}{m.errors:>7,}"
                f"{_fmt(m.per_request_ms(m.server_cpu)):>11}"
                f"{_fmt(m.per_request_ms(m.postgres_cpu)):>10}"
            )
    for store in stores:
        print(
            f"store {store.size:,}: {store.messages:,} messages, {store.deliveries:,} "
            f"deliveries, {store.events:,} delivery events (counted after seeding), "
            f"{store.kommuner} kommuner, XML {store.xml_bytes:,} bytes per delivery"
        )
    for m in results:
        if m.errors:
            unexpected = {k: n for k, n in m.outcomes.items() if k != str(m.expected_status)}
            print(
                f"{m.name} at {m.size:,}, concurrency {m.concurrency}: errors {unexpected}; "
                f"first: {m.first_error}"
            )
        if m.ran_out:
            print(
                f"{m.name} at {m.size:,}, concurrency {m.concurrency}: ran out of available "
                f"deliveries after "
                f"{m.wall_seconds:.1f} s (raise --available)"
            )

    print(f"\nverdict (p99 < {TARGET_P99_MS:g} ms; large store <= {TARGET_RATIO:g}x the small):")
    for m in results:
        p99 = m.percentile_ms(0.99)
        met = p99 < TARGET_P99_MS and not m.errors
        print(
            f"  p99 {m.name} at {m.size:,}, concurrency {m.concurrency}: "
            f"{'met' if met else 'NOT met'} ({p99:.1f} ms"
            + (f", {m.errors:,} errors)" if m.errors else ")")
        )
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
            f"{'met' if p99 <= TARGET_RATIO else 'NOT met'} (p99 {p99:.2f}x, p50 {p50:.2f}x)"
        )


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
    _stand_in_for_sniffio()
    server_url = psycopg_url(args.database_url)
    stores: list[Store] = []
    results: list[Measurement] = []
    try:
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
    report(stores, results, args, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
