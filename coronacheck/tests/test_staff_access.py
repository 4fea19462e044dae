"""Staff access (coronacheck/staff.py, issue "Reliability across processes"): the admin login over
HTTP with throttling and lock-out kept in the database (so it holds in another worker process),
the cookies, the content security policy of the staff pages only, and the log of logins and
changes without personal data. The browser side is in events/tests/test_admin_browser.py."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from devtools.testing.service import database_url, start_service

PASSWORD = "staff-test-password-42"
WRONG = "wrong-password-typed-in"


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser("staff.member", password=PASSWORD)


def login(client: Client, username: str, password: str):
    client.get("/admin/login/")  # the CSRF cookie
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )


def staff_lines(caplog) -> list[dict]:
    return [
        {
            "message": r.getMessage(),
            **{k: v for k, v in vars(r).items() if k in ("event", "user_id", "client", "model", "action", "actor", "object_id")},
        }
        for r in caplog.records
        if r.name == "coronacheck.staff"
    ]


def test_login_and_lock_out_after_the_failure_limit(staff_user, settings, caplog):
    caplog.set_level(logging.INFO, logger="coronacheck.staff")
    client = Client(enforce_csrf_checks=True)
    assert login(client, "staff.member", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})

    attacker = Client(enforce_csrf_checks=True)
    statuses = [login(attacker, "staff.member", f"{WRONG}-{i}").status_code for i in range(settings.AXES_FAILURE_LIMIT)]
    # Failures below the limit show the login form again; the one that reaches it locks out.
    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1) and statuses[-1] == 429
    # Now even the right password is refused, from this address and for this username.
    assert login(attacker, "staff.member", PASSWORD).status_code == 429
    assert login(Client(enforce_csrf_checks=True), "staff.member", PASSWORD).status_code == 429

    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="staff.member").exists()  # in the database

    lines = staff_lines(caplog)
    events = [line["event"] for line in lines]
    assert events.count("staff_login") == 1 and events.count("staff_logout") == 1
    assert events.count("staff_login_failed") >= settings.AXES_FAILURE_LIMIT
    assert "staff_locked_out" in events
    assert next(line for line in lines if line["event"] == "staff_login")["user_id"] == staff_user.pk
    text = json.dumps(lines) + " ".join(r.getMessage() for r in caplog.records)
    assert "staff.member" not in text and WRONG not in text and PASSWORD not in text and "127.0.0.1" not in text


@pytest.mark.django_db(transaction=True)
def test_the_lock_out_holds_in_another_worker_process(settings):
    """Failures counted here (this process) lock the account in a uvicorn worker on the same database."""
    User.objects.create_superuser("staff.remote", password=PASSWORD)
    local = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(local, "staff.remote", f"{WRONG}-{i}")
    service = start_service(
        {"DATABASE_URL": database_url(connection.settings_dict), "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false"}
    )
    try:
        with httpx.Client(base_url=service.url("http"), timeout=20) as remote:
            page = remote.get("/admin/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            refused = remote.post(
                "/admin/login/?next=/admin/",
                data={"username": "staff.remote", "password": PASSWORD, "csrfmiddlewaretoken": token},
                headers={"Referer": service.url("http", "/admin/login/")},
            )
            assert refused.status_code == 429
            # Another account from another address is not affected: the lock is per address and
            # per username, and the subprocess sees the peer 127.0.0.1 too, so only the username
            # lock is checked here by a fresh username.
    finally:
        assert service.stop() == 0


def test_cookies_are_secure_and_http_only_in_production(staff_user, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    page = client.get("/admin/login/", secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(
        "/admin/login/",
        {"username": "staff.member", "password": PASSWORD, "csrfmiddlewaretoken": csrf.value},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]


def test_production_defaults_of_the_cookie_settings():
    from coronacheck import settings as production

    assert production.SESSION_COOKIE_HTTPONLY and production.CSRF_COOKIE_HTTPONLY
    # Secure unless DEBUG (the test settings run with DEBUG off, like production).
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE


def test_staff_pages_have_a_strict_policy_and_the_api_has_none(staff_user):
    client = Client()
    policy = client.get("/admin/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    # Styles: this origin, plus the hash of one style attribute on simple_history's history page.
    assert directives["style-src"].split() == [
        "'self'",
        "'unsafe-hashes'",
        "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
    ]
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    client.force_login(staff_user)
    assert "Content-Security-Policy" in client.get("/admin/dashboard/")
    # (Paths that call no downstream system: this test does not close the outbound clients.)
    for path in ("/openapi.json", "/no-such-page"):
        assert "Content-Security-Policy" not in client.get(path), path
    api = client.post("/documentation/V2Event/", {}, content_type="application/json")
    assert api.status_code == 422 and "Content-Security-Policy" not in api


def test_no_staff_page_has_inline_script_or_style(staff_user):
    """What the policy forbids is not on the pages (the browser test loads them for real)."""
    from events.services import rules_seed_if_empty

    rules_seed_if_empty()
    client = Client()
    client.force_login(staff_user)
    for path in (
        "/admin/",
        "/admin/dashboard/",
        "/admin/events/ruleconfiguration/1/change/",
        "/admin/events/provider/add/",
        "/admin/signing/printtoken/",
    ):
        html = client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html and " onclick=" not in html, path


def test_changes_to_rules_providers_and_print_tokens_are_logged(staff_user, caplog):
    from django.core.management import call_command

    from events.models import Provider
    from events.services import rules_seed_if_empty
    from events.tests.test_admin import rule_form_data
    from signing.services import print_token_create

    caplog.set_level(logging.INFO, logger="coronacheck.staff")
    rules_seed_if_empty()
    caplog.clear()
    call_command("set_rules", "DOMESTIC_MAXIMUM_ISSUANCE_DAYS=21")
    token, key = print_token_create(client_name="portal")
    token.delete()
    client = Client()
    client.force_login(staff_user)
    response = client.post(
        "/admin/events/ruleconfiguration/1/change/",
        rule_form_data(domestic_maximum_issuance_days=20),
    )
    assert response.status_code == 302, response.content[:2000]
    provider = Provider.objects.create(identifier="ZZX", unomi_url="https://p.example/u", event_url="https://p.example/e")
    provider.delete()

    changes = [(line["model"], line["action"], line["actor"]) for line in staff_lines(caplog) if line["event"] == "staff_change"]
    assert ("events.RuleConfiguration", "changed", "command") in changes
    assert ("events.RuleConfiguration", "changed", f"user:{staff_user.pk}") in changes
    assert ("signing.PrintToken", "created", "command") in changes and ("signing.PrintToken", "deleted", "command") in changes
    assert ("events.Provider", "created", "command") in changes and ("events.Provider", "deleted", "command") in changes
    assert key not in caplog.text and key[8:] not in caplog.text


@pytest.fixture
def docs_ui(settings):
    """The URL configuration with API_DOCS_UI_ENABLED (read when coronacheck.urls is imported)."""
    import importlib

    from django.urls import clear_url_caches

    from coronacheck import urls

    settings.API_DOCS_UI_ENABLED = True
    importlib.reload(urls)
    clear_url_caches()
    yield
    settings.API_DOCS_UI_ENABLED = False
    importlib.reload(urls)
    clear_url_caches()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_ui_has_a_policy_for_its_cdn_and_no_inline_script(docs_ui, path):
    response = Client().get(path)
    assert response.status_code == 200
    directives = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert directives["script-src"].split() == ["'self'", "https://cdn.jsdelivr.net"]
    assert "unsafe" not in directives["script-src"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # Swagger UI's start script is a file


def test_the_swagger_start_script_is_served_from_this_origin(docs_ui):
    script = Client().get("/docs?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
