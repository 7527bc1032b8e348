"""Running `sektorbro` as a real process on a real socket, for tests that need a server."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.factories import demo_directory_text

SEKTORBRO = str(Path(sys.executable).parent / "sektorbro")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_sektorbro(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Runs a `sektorbro` command to completion; its stdout."""
    done = subprocess.run(
        [SEKTORBRO, *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def key_for(gln: str, *, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """The Authorization header of a new key for organisation `gln` (`sektorbro keys create`)."""
    key = run_sektorbro("keys", "create", "--org", gln, env=env, cwd=cwd).splitlines()[-1]
    return {"Authorization": f"Bearer {key}"}


def key_with_scope(scope: str, *, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """The Authorization header of a new key with one scope (`sektorbro keys create --scope`)."""
    key = run_sektorbro("keys", "create", "--scope", scope, env=env, cwd=cwd).splitlines()[-1]
    return {"Authorization": f"Bearer {key}"}


def migrate_with_demo_directory(*, env: dict[str, str], cwd: Path) -> None:
    """Brings the database of `env` to the head revision and imports the demo directory, as
    an operator would (`sektorbro migrate`, `sektorbro directory import`)."""
    directory = cwd / "directory.csv"
    directory.write_text(demo_directory_text(), encoding="utf-8")
    run_sektorbro("migrate", env=env, cwd=cwd)
    run_sektorbro("directory", "import", str(directory), env=env, cwd=cwd)


def environment(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKTORBRO_")}
    env.update(variables)
    return env


@contextmanager
def running(
    args: list[str], *, env: dict[str, str], cwd: Path, port: int
) -> Iterator[subprocess.Popen[str]]:
    """Starts `sektorbro ARGS`, waits until /healthz answers, and stops it afterwards.

    Its stdout is a pipe to read; its log goes to `sektorbro.log` in `cwd` (a pipe nobody
    reads could fill up and stall the server).
    """
    log = cwd / "sektorbro.log"
    with (
        log.open("w") as log_file,
        subprocess.Popen(
            [SEKTORBRO, *args, "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        ) as process,
    ):
        try:
            _wait_until_up(process, f"http://127.0.0.1:{port}/healthz", log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(
    process: subprocess.Popen[str], url: str, log: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"sektorbro exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"sektorbro did not answer on {url} within {timeout} s")
