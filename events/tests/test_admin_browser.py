"""The admin in a real browser, served the way `bin/run` and production serve it: the ASGI
application under uvicorn in a subprocess, static files collected (hashed, compressed) and served
by servestatic. Headless Chromium logs in, sees the styled admin (the stylesheet applied: the
computed colour of the header), changes a rule constant, sees the history entry (old → new) and
opens the dashboard. Screenshots: `test-artifacts/admin-index.png`, `test-artifacts/dashboard.png`.

Needs Debian's `chromium` and `chromium-driver` (bin/setup installs them when missing) and selenium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.utils import timezone

from devtools.testing.processes import BASE_DIR
from devtools.testing.service import database_url, start_service
from events.models import RuleConfiguration
from events.services import rules_seed_if_empty
from signing.models import EventSubmission

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(
        "Debian chromium and chromium-driver are not installed (bin/setup installs them as root)", allow_module_level=True
    )

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


@pytest.fixture
def browser():
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,2400",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def static_root():
    """`manage.py collectstatic` as a deployment runs it (manifest storage: hashed, gzipped)."""
    folder = tempfile.mkdtemp(prefix="static-")
    env = dict(os.environ, STATIC_ROOT=folder, STATIC_MANIFEST="true")
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def site(static_root, transactional_db):
    """The service under uvicorn (the production static-file setup) with seeded rules, an
    editor and a few submission records."""
    rules_seed_if_empty()
    user = User.objects.create_user("editor", password="browser-test-password", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_rules"))
    now = timezone.now()
    for day in range(7):
        for i in range(day + 2):
            EventSubmission.objects.create(
                created_at=now - timedelta(days=day, minutes=i),
                endpoint="credentials" if i % 3 else "print",
                status=503 if i == 4 else 200,
                error_code="downstream_unavailable" if i == 4 else "",
                domestic_issued=i != 4,
                eu_issued=1 if i != 4 else 0,
                event_counts={"vaccination": 2},
                duration_ms=80 + 20 * i,
                downstream_ms={"domestic": 30.0 + i, "eu": 20.0 + 2 * i},
            )
    service = start_service(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "STATIC_ROOT": static_root,
            "STATIC_MANIFEST": "true",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
        }
    )
    yield service.url("http")
    assert service.stop() == 0


def wait_for(driver, css: str):
    return WebDriverWait(driver, 15).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_staff_changes_a_rule_sees_its_history_and_opens_the_dashboard(browser, site):
    browser.get(site + "/admin/events/ruleconfiguration/1/change/")
    assert "/admin/login/" in browser.current_url
    wait_for(browser, "#id_username").send_keys("editor")
    browser.find_element(By.ID, "id_password").send_keys("browser-test-password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, "#id_domestic_maximum_issuance_days")

    # The stylesheet is applied: the hashed, collected base.css styles the header.
    browser.get(site + "/admin/")
    header = wait_for(browser, "#header")
    assert header.value_of_css_property("background-color") == "rgba(65, 118, 144, 1)"
    stylesheets = [link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, "link[rel=stylesheet]")]
    assert any("/static/admin/css/base." in href and href.endswith(".css") and "base.css" not in href for href in stylesheets)
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "admin-index.png"))

    browser.get(site + "/admin/events/ruleconfiguration/1/change/")

    field = wait_for(browser, "#id_domestic_maximum_issuance_days")
    assert "Days. Strips are issued for at most this many days ahead." in browser.page_source
    field.clear()
    field.send_keys("21")
    browser.find_element(By.NAME, "_save").click()
    wait_for(browser, "ul.messagelist")
    assert RuleConfiguration.objects.get(pk=1).domestic_maximum_issuance_days == 21

    browser.get(site + "/admin/events/ruleconfiguration/1/history/")
    changes = " ".join(wait_for(browser, "#change-history tbody tr").text.split())
    assert "DOMESTIC_MAXIMUM_ISSUANCE_DAYS: 28 → 21" in changes
    assert "editor" in changes

    browser.get(site + "/admin/")
    wait_for(browser, "#dashboard-link a").click()
    wait_for(browser, "#dashboard svg.chart")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dashboard svg.chart")) == 5
    assert "Certificates issued per day and kind" in browser.page_source
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    # The pages worked under the content security policy (coronacheck/staff.py): nothing refused.
    browser.get(site + "/admin/events/ruleconfiguration/1/change/")
    wait_for(browser, "#id_domestic_maximum_issuance_days")
    assert csp_violations(browser) == []


def failures_counted(username: str) -> int:
    return sum(AccessAttempt.objects.filter(username=username).values_list("failures_since_start", flat=True))


def csp_violations(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_policy_is_enforced_and_the_login_locks_out_in_the_browser(browser, site, settings):
    """An inline script on a staff page is refused by the browser (so the policy is live), and the
    login refuses even the right password after the failure limit."""
    browser.get(site + "/admin/login/")
    wait_for(browser, "#id_username")
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.injected === undefined")
    assert any("script-src" in message for message in csp_violations(browser))

    for attempt in range(settings.AXES_FAILURE_LIMIT):
        browser.get(site + "/admin/login/")
        wait_for(browser, "#id_username").send_keys("editor")
        browser.find_element(By.ID, "id_password").send_keys(f"not-the-password-{attempt}")
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        # The server has counted this attempt before the next one starts. Asked of the database,
        # not of the page: watching the old form go stale races the navigation in Chromium.
        WebDriverWait(browser, 15).until(lambda _driver, counted=attempt + 1: failures_counted("editor") >= counted)
    browser.get(site + "/admin/login/")
    wait_for(browser, "#id_username").send_keys("editor")
    browser.find_element(By.ID, "id_password").send_keys("browser-test-password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "locked" in driver.page_source.lower())
    browser.get(site + "/admin/")
    assert "/admin/login/" in browser.current_url  # not logged in
