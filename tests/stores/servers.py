"""redis-server and PostgreSQL as the replicated mode's tests run them: real servers on 127.0.0.1 on free
ports, with their files in a temporary directory, started and stopped by the test (scripts/setup.sh
installs them where missing)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from tests.support import free_port, wait_for_port


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: run scripts/setup.sh (it installs it with apt-get)")
    return found


class RedisServer:
    """One redis-server without persistence; `stop()` and `start()` again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="specbridge-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.directory), "--protected-mode", "yes"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=20, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_bindir() -> Path:
    """Where initdb and postgres are: `pg_config --bindir`, else Debian's /usr/lib/postgresql/*/bin."""
    candidates = []
    if shutil.which("pg_config"):
        candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                         check=False).stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    pytest.fail("PostgreSQL's initdb is missing: run scripts/setup.sh (it installs postgresql with apt-get)")


class PostgresServer:
    """A PostgreSQL cluster made by initdb in a temporary directory, started and stopped by pg_ctl, as the
    `postgres` user when the tests run as root (initdb and postgres refuse root), with a database
    `specbridge`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="specbridge-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/specbridge"
        self.running = False
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.directory, "postgres", "postgres")
        self.bindir = postgres_bindir()

    def start(self) -> None:
        if not self.data.exists():
            subprocess.run([*self._as_user, str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                            "-A", "trust", "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
        options = (f"-p {self.port} -h 127.0.0.1 -k {self.directory} -c fsync=off -c synchronous_commit=off"
                   " -c full_page_writes=off")
        subprocess.run([*self._as_user, str(self.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                        "-l", str(self.directory / "server.log"), "-o", options],
                       check=True, capture_output=True)
        self.running = True
        self._create_database()

    def fresh_database(self) -> str:
        """The URL of a new, empty database of this server (a test that counts rows has its own)."""
        name = f"specbridge_{uuid.uuid4().hex[:12]}"
        self._create_database(name)
        return self.url.rpartition("/")[0] + "/" + name

    def _create_database(self, name: str = "specbridge") -> None:
        import psycopg
        from psycopg import sql

        deadline = time.monotonic() + 30
        while True:  # the port opens a moment before the server accepts connections
            try:
                with psycopg.connect(self.url.replace("/specbridge", "/postgres"), autocommit=True) as db:
                    if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.running:
            subprocess.run([*self._as_user, str(self.bindir / "pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast",
                            "-D", str(self.data)], check=True, capture_output=True)
            self.running = False

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class _Server(Protocol):
    def start(self) -> None: ...

    def close(self) -> None: ...


ServerT = TypeVar("ServerT", bound=_Server)


@contextmanager
def running(server: ServerT) -> Iterator[ServerT]:
    """`server` started, and stopped with its files removed afterwards."""
    server.start()
    try:
        yield server
    finally:
        server.close()
