"""Django's own commands on a fresh clone with nothing configured (issue "Operability"):
`migrate`, `createsuperuser --noinput`, `check_config` and `runserver` work in development mode
(`manage.py` defaults `DEBUG` to true; development defaults are created in `.dev/`), and with
`DEBUG=false` nothing is defaulted and every missing secret is named.

The checkout's files are copied to a temporary folder (a fresh clone: no `.dev/`), and the
commands run with an empty environment apart from PATH and HOME.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from devtools.testing.processes import free_port, wait_for_port, working_tree_copy


@pytest.fixture(scope="module")
def clone():
    folder = working_tree_copy("fresh-clone-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def bare_env(**extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(), **extra}


def manage(clone: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=clone, env=bare_env(**env), capture_output=True, text=True, timeout=300
    )


def test_migrate_createsuperuser_check_config_and_runserver_work_with_nothing_configured(clone):
    assert not (clone / ".dev").exists()
    done = manage(clone, "migrate", "-v", "0")
    assert done.returncode == 0, done.stderr
    done = manage(
        clone,
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_EMAIL="admin@example.invalid",
        DJANGO_SUPERUSER_PASSWORD="fresh-clone-password",
    )
    assert done.returncode == 0, done.stderr
    assert (clone / ".dev" / "secrets" / "django_secret_key").exists()

    done = manage(clone, "check_config")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "development mode (DEBUG)" in done.stdout
    assert "configuration valid" in done.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=clone,
        env=bare_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=60, process=server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            page = client.get("/admin/login/")
            assert page.status_code == 200
            stylesheet = re.search(r'href="(/static/admin/css/base[^"]*\.css)"', page.text)
            assert stylesheet
            css = client.get(stylesheet.group(1))
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            login = client.post(
                "/admin/login/?next=/admin/",
                data={"csrfmiddlewaretoken": token, "username": "admin", "password": "fresh-clone-password"},
                headers={"Referer": f"http://127.0.0.1:{port}/admin/login/"},
            )
            assert login.status_code == 302 and login.headers["location"] == "/admin/"
            assert client.get("/admin/").status_code == 200
            docs = client.get("/docs")  # the docs UI is on in development mode, from bundled assets
            assert docs.status_code == 200 and "/static/drf_spectacular_sidecar/" in docs.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_without_debug_nothing_is_defaulted_and_every_missing_secret_is_named(clone):
    done = manage(clone, "check_config", DEBUG="false", SQLITE_PATH=str(clone / "production.sqlite3"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for name in ("SECRET_KEY", "SECRETS_FOLDER", "SESSION_HMAC_KEY_FILE", "SUBMISSION_PSEUDONYM_KEY_FILE", "RVIG_URL"):
        assert f"problem: {name} is required" in done.stdout
    assert "has `manage.py migrate` run?" in done.stdout


def test_a_missing_or_unreadable_key_file_names_the_setting_and_the_path(clone, tmp_path):
    done = manage(
        clone,
        "check_config",
        SUBMISSION_PSEUDONYM_KEY_FILE=str(tmp_path / "missing-key"),
        SESSION_HMAC_KEY_FILE=str(tmp_path),
        SECRETS_FOLDER=str(clone / ".dev" / "secrets"),
    )
    assert done.returncode == 1
    assert f"problem: SUBMISSION_PSEUDONYM_KEY_FILE: file not found: {tmp_path / 'missing-key'}" in done.stdout
    assert f"problem: SESSION_HMAC_KEY_FILE: is a directory, not a file: {tmp_path}" in done.stdout


def test_the_asgi_application_refuses_to_start_without_secrets_and_says_which(clone, tmp_path):
    """The production entry point defaults to DEBUG off: nothing is defaulted, the start fails."""
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", "coronacheck.asgi:application", "--port", str(free_port()), "--lifespan", "on"],
        cwd=clone,
        env=bare_env(SQLITE_PATH=str(tmp_path / "db.sqlite3")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    for name in ("SECRET_KEY is required", "SESSION_HMAC_KEY_FILE is required", "EU_INTERNATIONAL_SIGNING_URL is required"):
        assert name in done.stderr, done.stderr[-2000:]
