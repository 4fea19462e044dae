"""The service under uvicorn as a subprocess, and private PostgreSQL servers, for tests and
benchmarks that need real processes (rate limit across workers, database outage, soak).

The service's stderr (its JSON log) goes to a file that is checked by the session-wide log
check (`devtools.testing.logcheck`) when the process stops.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from devtools.testing import logcheck
from devtools.testing.processes import BASE_DIR, ManagedProcess, free_port, wait_for_port


@dataclass
class ServiceProcess(ManagedProcess):
    log_path: str = ""

    def log_text(self) -> str:
        return Path(self.log_path).read_text(errors="replace") if self.log_path else ""

    def stop(self, timeout: float = 10.0) -> int:
        code = super().stop(timeout)
        if self.log_path:
            logcheck.scan_text(self.log_text(), "service subprocess stderr")
        return code


def database_url(settings_dict: dict) -> str:
    """A `DATABASE_URL` for the database Django is connected to (e.g. pytest-django's test DB)."""
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


def start_service(
    env: dict[str, str], *, workers: int = 1, settings_module: str = "devtools.settings_test", port: int | None = None
) -> ServiceProcess:
    """The service (`python -m coronacheck.server`: uvicorn with the request read time limits) on
    loopback with `env` added to this environment."""
    port = port or free_port()
    environment = dict(os.environ)
    environment["DJANGO_SETTINGS_MODULE"] = settings_module
    environment.update(env)
    log = tempfile.NamedTemporaryFile(prefix="service-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "coronacheck.server", "--port", str(port), "--workers", str(workers)],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    log.close()
    service = ServiceProcess(process=process, ports={"http": port}, log_path=log.name)
    try:
        wait_for_port(port, timeout=60, process=process)
    except Exception:
        service.stop()
        raise RuntimeError(f"the service did not start: {service.log_text()[-2000:]}") from None
    return service


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of its own (bin/postgres with PG_PORT/PG_DATA), for tests that stop it."""

    port: int
    data_dir: str

    def _run(self, action: str) -> str:
        env = dict(os.environ, PG_PORT=str(self.port), PG_DATA=self.data_dir)
        done = subprocess.run([str(BASE_DIR / "bin" / "postgres"), action], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"bin/postgres {action} failed: {done.stderr[-2000:]}")
        return done.stdout.strip()

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        """`pg_ctl stop -m fast`: open connections are cut."""
        self._run("stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh, migrated database; returns its URL."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.url(name)
        environment = dict(os.environ, DJANGO_SETTINGS_MODULE="devtools.settings_test", DATABASE_URL=url)
        done = subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migrate failed: {done.stderr[-2000:]}")
        return url


def private_postgres() -> PrivatePostgres:
    """Started on a free port, its data under /tmp (the server's own user must reach it)."""
    port = free_port()
    server = PrivatePostgres(port=port, data_dir=f"/tmp/coronacheck-pg-private-{port}")
    server.start()
    return server


def private_postgres_remove(server: PrivatePostgres) -> None:
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)
