"""Load from `wrk` and CPU accounting from /proc, shared by bench/plans.py and bench/inbox.py.

`run_wrk()` runs one wrk process (C, an event loop per thread, at most 2 threads) with one of
the Lua scripts of bench/ (see bench/wrk_common.lua): a closed loop on each of C connections
for `seconds`, then a drain (no new request; the requests in flight are answered), then wrk
is stopped with SIGINT as soon as its threads have stopped, and the script's JSON line is
read. Around the run it samples the CPU time of the server's process tree, of the local
`postgres` processes and of the whole machine (/proc), and wrk's own (getrusage of the
children), so that each figure can be given per request.

wrk opens all its connections at once, and with keep-alive each stays on the server worker
that accepted it: on this machine an idle uvicorn worker often accepted most of a burst (4 + 0
and 7 + 1 were common), leaving the other worker idle. So the script sends nothing for the
first START_DELAY seconds; meanwhile the connections per worker are counted from /proc, and
an uneven split ends that wrk (before any request was sent) and starts another, up to
BALANCE_TRIES times. The split and the number of tries are reported.

Why wrk: on the reference machine's 2 cores, the asyncio + httpx client used before needed
~0.5 ms of CPU per request, more than the echo route costs the server; wrk needs a few
microseconds (plus what calling Lua's response() for every answer costs, which the counts by
status need). Its CPU is measured and printed all the same.

wrk 4.1's latency histogram (`latency:percentile()`) is corrected for coordinated omission
(`stats_correct`): for an answer slower than twice the mean time per request of a connection,
wrk adds synthetic samples below it. In this closed loop that only matters for a long tail;
max is never changed.
"""

import json
import math
import os
import resource
import secrets
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WRK = shutil.which("wrk") or "wrk"
# wrk's -d is the load's seconds plus this: the most a drain may take before wrk is stopped
# anyway (any request still in flight is then reported as unanswered).
DRAIN_SECONDS = 10
# wrk's --timeout: an answer slower than this counts as a timeout and is not in the latency
# histogram (whose memory is 8 bytes per microsecond of this).
TIMEOUT_SECONDS = 10
POLL_SECONDS = 0.02  # how often the threads of a running wrk are looked at
# From starting wrk to its first request: its connections are open and accepted by then, and
# their split over the server's workers known (see run_wrk).
START_DELAY = 0.5
BALANCE_TRIES = 20  # wrk runs started at most to get an even split (each ~0.1 s if uneven)
PREFIX_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class BenchError(Exception):
    """A step of the set-up or of the load failed; the message says which and why."""


# --------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc; None elsewhere)


@dataclass(frozen=True, slots=True)
class CpuSample:
    at: float  # time.monotonic()
    server: float | None  # CPU seconds of the uvicorn process and its workers
    # CPU seconds of each local process named "postgres" (pid -> seconds): a connection's
    # backend may end between two samples (other databases' clients come and go), so the CPU
    # spent between them is summed per process (see postgres_seconds).
    postgres: dict[int, float] | None
    machine_busy: float | None  # busy CPU seconds of the whole machine, all cores


def take_cpu_sample(server_pid: int) -> CpuSample:
    return CpuSample(
        at=time.monotonic(),
        server=_tree_cpu_seconds(server_pid),
        postgres=_cpu_seconds_by_pid("postgres"),
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


def _cpu_seconds_by_pid(name: str) -> dict[int, float] | None:
    if not Path("/proc/self/stat").exists():
        return None
    found = {pid: cpu for pid, (command, _, cpu) in _proc_stats().items() if command == name}
    return found or None


def postgres_seconds(before: CpuSample, after: CpuSample) -> float | None:
    """CPU seconds the postgres processes spent between two samples: per process, what it
    spent since the first sample (all of it if it started since). A process that ended in
    between is missing from the second sample, and its CPU since the first is lost."""
    if before.postgres is None or after.postgres is None:
        return None
    return sum(cpu - before.postgres.get(pid, 0.0) for pid, cpu in after.postgres.items())


def _machine_busy_seconds() -> float | None:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal ...
    busy = sum(int(first[i]) for i in (1, 2, 3, 6, 7, 8))
    return busy / os.sysconf("SC_CLK_TCK")


def connections_per_worker(root: int, port: int) -> dict[int, int] | None:
    """Server worker pid -> how many established connections to `port` it holds.

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
    return {pid: held[pid][0] for pid in workers}


# --------------------------------------------------------------------------------------------
# wrk


@dataclass(frozen=True, slots=True)
class Load:
    """What one wrk run sends: `script` (a file in bench/) against `url`."""

    script: str
    url: str
    connections: int
    headers: tuple[str, ...] = ()  # "Name: value" (wrk needs the space after the colon)
    options: tuple[tuple[str, str], ...] = ()  # the script's own key=value arguments
    expected_status: int = 200


@dataclass(frozen=True, slots=True)
class WrkRun:
    """One wrk run: the script's JSON line, and the CPU time spent while it ran."""

    seconds: float  # of load asked for, before the drain
    connections: int
    threads: int
    requests: int  # answers, of all statuses
    statuses: Counter[str]
    expected_status: int
    sent: int
    unanswered: int
    latency_ms: dict[str, float]  # p50, p90, p99, max, mean (nan if nothing was answered)
    wall_seconds: float  # from the start of the load to the last answer
    socket_errors: dict[str, int]  # connect, read, write, timeout
    ran_out: bool
    first_error: str | None
    wrk_cpu: float  # CPU seconds of the wrk process
    sampled_seconds: float  # between the CPU samples: from start_at until wrk has exited
    server_cpu: float | None  # CPU seconds of the server's process tree
    postgres_cpu: float | None
    machine_cpu: float | None
    connections_per_worker: dict[int, int] | None  # before the first request
    attempts: int  # wrk runs started to get an even split (see run_wrk)

    @property
    def per_second(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def unexpected(self) -> dict[str, int]:
        return {k: n for k, n in self.statuses.items() if k != str(self.expected_status)}

    @property
    def errors(self) -> int:
        """Answers with another status than expected, plus socket errors (connect, read,
        write, and timeouts: answers slower than --timeout, missing from the latencies)."""
        return sum(self.unexpected.values()) + sum(self.socket_errors.values())

    def ms_per_request(self, cpu_seconds: float | None) -> float | None:
        if cpu_seconds is None or not self.requests:
            return None
        return cpu_seconds / self.requests * 1000

    def cores(self, cpu_seconds: float | None) -> float | None:
        """CPU seconds as cores kept busy while wrk ran."""
        if cpu_seconds is None or self.sampled_seconds <= 0:
            return None
        return cpu_seconds / self.sampled_seconds

    @property
    def other_cpu(self) -> float | None:
        """Busy CPU not accounted to wrk, server or PostgreSQL: the kernel's share of the
        network, this process, and anything else running on the machine."""
        if self.machine_cpu is None or self.server_cpu is None or self.postgres_cpu is None:
            return None
        return self.machine_cpu - self.server_cpu - self.postgres_cpu - self.wrk_cpu

    @property
    def split(self) -> str:
        """'17 + 15': the connections per worker, most first, and how many wrk runs it took."""
        if not self.connections_per_worker:
            return "n/a"
        counts = sorted(self.connections_per_worker.values(), reverse=True)
        tries = f" (wrk started {self.attempts} times)" if self.attempts > 1 else ""
        return " + ".join(map(str, counts)) + tries

    def describe_errors(self) -> str:
        """The errors in words, '' if there were none."""
        parts = []
        if self.unexpected:
            parts.append(f"statuses {dict(self.unexpected)}")
        sockets = {k: n for k, n in self.socket_errors.items() if n}
        if sockets:
            parts.append(f"socket errors {sockets}")
        if self.unanswered:
            parts.append(f"{self.unanswered:,} sent but unanswered")
        if self.first_error:
            parts.append(f"first: {self.first_error}")
        return "; ".join(parts)


def wrk_version() -> str:
    """wrk's version line, e.g. 'wrk debian/4.1.0-3+b2 [epoll]'."""
    try:
        done = subprocess.run([WRK, "-v"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BenchError(f"cannot run wrk ({exc}); install it, e.g. apt-get install wrk") from None
    return done.stdout.splitlines()[0].split(" Copyright")[0] if done.stdout else "wrk"


def wrk_threads(connections: int) -> int:
    """wrk gives each thread connections // threads: 2 threads for an even number, else 1."""
    return 2 if connections >= 2 and connections % 2 == 0 else 1


def run_wrk(
    load: Load,
    *,
    seconds: float,
    server_pid: int,
    server_port: int,
    on_running: Callable[[dict[int, int] | None], None] | None = None,
) -> WrkRun:
    """Runs `load` for `seconds` (then the drain) and returns what wrk and /proc saw.

    wrk opens its connections at once, and keep-alive keeps each on the server worker that
    accepted it. The script sends nothing before START_DELAY; meanwhile the connections per
    worker are counted, and if they are split unevenly, that wrk is ended and another started
    (at most BALANCE_TRIES in all; the last one is kept whatever its split). `on_running` is
    called once the load runs, with the split."""
    threads = wrk_threads(load.connections)
    for attempt in range(1, BALANCE_TRIES + 1):
        start_at = time.monotonic() + START_DELAY
        command = _wrk_command(load, threads=threads, seconds=seconds, start_at=start_at)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True,  # Ctrl-C reaches only us; we stop wrk
            )  # fmt: skip
        except OSError as exc:
            raise BenchError(f"cannot run wrk ({exc}); install it: apt-get install wrk") from None
        try:
            connections = _split_before_start(process, server_pid, server_port, load, start_at)
            if (
                attempt < BALANCE_TRIES
                and not _even(connections, load.connections)
                and time.monotonic() < start_at - 0.05  # certainly nothing sent yet
            ):
                process.kill()
                process.communicate()
                continue
            before = _supervise(process, start_at, seconds, server_pid, on_running, connections)
            stdout, stderr = process.communicate()
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        after = take_cpu_sample(server_pid)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        break

    line = next((x for x in reversed(stdout.splitlines()) if x.startswith("{")), None)
    if process.returncode != 0 or line is None:
        raise BenchError(
            f"wrk exited with {process.returncode}: {' '.join(command)}\n{stderr}{stdout}"
        )
    result = json.loads(line)
    if result["requests"] != result["answered"]:
        raise BenchError(
            f"wrk counted {result['requests']} answers, its script {result['answered']}: the "
            f"counts by status would be wrong\n{stdout}"
        )

    def cpu(first: float | None, last: float | None) -> float | None:
        return None if first is None or last is None else last - first

    return WrkRun(
        seconds=seconds,
        connections=load.connections,
        threads=threads,
        requests=result["requests"],
        statuses=Counter({status: int(n) for status, n in result["statuses"].items()}),
        expected_status=load.expected_status,
        sent=result["sent"],
        unanswered=result["unanswered"],
        latency_ms={k: math.nan if v is None else v for k, v in result["latency_ms"].items()},
        wall_seconds=result["wall_s"] or 0.0,
        socket_errors=result["socket_errors"],
        ran_out=result["ran_out"],
        first_error=result["first_error"],
        wrk_cpu=(children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime),
        sampled_seconds=after.at - before.at,
        server_cpu=cpu(before.server, after.server),
        postgres_cpu=postgres_seconds(before, after),
        machine_cpu=cpu(before.machine_busy, after.machine_busy),
        connections_per_worker=connections,
        attempts=attempt,
    )


def _wrk_command(load: Load, *, threads: int, seconds: float, start_at: float) -> list[str]:
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(5))  # new for each wrk
    command = [
        WRK, f"-t{threads}", f"-c{load.connections}",
        f"-d{math.ceil(START_DELAY + seconds) + DRAIN_SECONDS}s",
        f"--timeout={TIMEOUT_SECONDS}s", f"--script={BENCH / load.script}",
    ]  # fmt: skip
    for header in load.headers:
        command += ["-H", header]
    command += [load.url, "--", f"seconds={seconds:g}", f"threads={threads}", f"prefix={prefix}"]
    command += [f"expect={load.expected_status}", f"start_at={start_at:.6f}"]
    command += [f"{key}={value}" for key, value in load.options]
    return command


def _split_before_start(
    process: "subprocess.Popen[str]", server_pid: int, server_port: int, load: Load, start_at: float
) -> dict[int, int] | None:
    """The connections per worker once all of wrk's are accepted (or as many as are, shortly
    before start_at)."""
    connections = None
    time.sleep(0.02)
    while process.poll() is None and time.monotonic() < start_at - 0.15:
        connections = connections_per_worker(server_pid, server_port)
        if connections is None or sum(connections.values()) >= load.connections:
            break
        time.sleep(0.01)
    return connections


def _even(connections: dict[int, int] | None, total: int) -> bool:
    """Whether the workers hold about as many connections each: at most 1 or an eighth of
    them apart (16 + 16 or 18 + 14 of 32, 4 + 4 of 8, 2 + 2 of 4). True if unknown."""
    if connections is None or len(connections) < 2 or sum(connections.values()) < total:
        return True
    return max(connections.values()) - min(connections.values()) <= max(1, total // 8)


def _supervise(
    process: "subprocess.Popen[str]",
    start_at: float,
    seconds: float,
    server_pid: int,
    on_running: Callable[[dict[int, int] | None], None] | None,
    connections: dict[int, int] | None,
) -> CpuSample:
    """Waits for wrk; sends it SIGINT once its threads have stopped (the drain is over).
    Returns the CPU sample taken when the load started (at start_at).

    wrk's main thread sleeps for the whole -d before it collects its threads; SIGINT ends the
    sleep. A thread that has stopped is gone from /proc/PID/task."""
    end_of_load = start_at + seconds
    running_at = start_at + min(0.3, seconds / 4)  # the load is running
    seen_threads = called = False
    before = None
    while process.poll() is None:
        now = time.monotonic()
        if before is None:
            if now < start_at:
                time.sleep(min(POLL_SECONDS, start_at - now))
                continue
            before = take_cpu_sample(server_pid)
        if on_running is not None and not called and now >= running_at:
            called = True
            on_running(connections)
        try:
            tasks = len(os.listdir(f"/proc/{process.pid}/task"))
        except OSError:
            tasks = 0
        if tasks > 1:
            seen_threads = True
        elif seen_threads or now >= end_of_load:
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        time.sleep(POLL_SECONDS)
    return before or take_cpu_sample(server_pid)
