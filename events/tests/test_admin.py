"""The staff admin of rules, rule data, providers and print tokens (events/admin/)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.urls import reverse

from devtools.testprovider import create_test_ca
from events import models
from events.ruledata import rule_data_current, rule_data_parse_files
from events.selectors import config_snapshot_get_sync, configuration_version_get
from events.services import RULE_CONSTANT_FIELDS, rule_configuration_update, rules_seed_if_empty
from signing.models import PrintToken
from signing.services import print_token_hash

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
CHANGE_URL = "/admin/events/ruleconfiguration/1/change/"
HISTORY_URL = "/admin/events/ruleconfiguration/1/history/"


def staff_user(username: str, *permissions: str) -> User:
    user = User.objects.create_user(username, password="pw-" + username, is_staff=True)
    for perm in permissions:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def editor(client):
    """A staff user with `events.change_rules`, logged in."""
    rules_seed_if_empty()
    user = staff_user("editor", "events.change_rules")
    client.force_login(user)
    return user


@pytest.fixture
def viewer(client):
    """A staff user who may only view the rules."""
    rules_seed_if_empty()
    user = staff_user("viewer", "events.view_ruleconfiguration", "events.view_partialdisclosurerule", "events.view_hpkcode")
    client.force_login(user)
    return user


def rule_form_data(**overrides) -> dict[str, str]:
    """The POST data of the rule configuration form for the stored row, with changes."""
    row = models.RuleConfiguration.objects.get(pk=1)
    values = {name: getattr(row, name) for name in RULE_CONSTANT_FIELDS} | overrides
    data = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, list):
            data[name] = json.dumps(value)
        else:
            data[name] = str(value)
    return data


# --- Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/admin/", CHANGE_URL, "/admin/events/provider/", "/admin/dashboard/", "/admin/signing/uciauditrecord/"]
)
def test_admin_pages_redirect_to_login_without_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_logged_in_user_who_is_not_staff_is_sent_to_the_login(client):
    client.force_login(User.objects.create_user("holder", password="x"))
    response = client.get(CHANGE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_login_page_sends_the_security_headers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_staff_without_permissions_cannot_see_the_rules(client):
    rules_seed_if_empty()
    client.force_login(staff_user("nobody"))
    assert client.get(CHANGE_URL).status_code == 403


# --- Rule constants ----------------------------------------------------------------------------------


def test_rule_change_page_shows_setting_names_with_meaning_and_unit(client, editor):
    page = client.get(CHANGE_URL).content.decode()
    assert "DOMESTIC_STRIP_VALIDITY_HOURS" in page
    assert "Hours. Length of one domestic strip; must exceed the maximum overlap." in page
    assert "EU_RECOVERY_TEST_TYPES" in page


def test_rule_changelist_goes_to_the_single_row(client, editor):
    response = client.get("/admin/events/ruleconfiguration/")
    assert response.status_code == 302 and response["Location"] == CHANGE_URL


def test_editor_changes_a_rule_and_the_history_shows_who_and_old_to_new(client, editor):
    version_before = models.ConfigurationVersion.objects.get(pk=1).version
    response = client.post(CHANGE_URL, rule_form_data(domestic_maximum_issuance_days=14))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert models.RuleConfiguration.objects.get(pk=1).domestic_maximum_issuance_days == 14
    assert models.ConfigurationVersion.objects.get(pk=1).version > version_before
    assert config_snapshot_get_sync().rules.domestic_maximum_issuance_days == 14
    latest = models.RuleConfiguration.history.order_by("-history_date", "-history_id").first()
    assert latest.history_user == editor
    history = client.get(HISTORY_URL).content.decode()
    assert re.search(r"<strong>DOMESTIC_MAXIMUM_ISSUANCE_DAYS:</strong>\s*28\s*&nbsp;&rarr;&nbsp;&nbsp;14", history)
    assert ">editor</a>" in history
    assert "Updated at" not in history


def test_strip_validity_must_exceed_the_overlap(client, editor):
    response = client.post(
        CHANGE_URL, rule_form_data(domestic_strip_validity_hours=4, domestic_maximum_randomized_overlap_hours=4)
    )
    assert response.status_code == 200
    assert "must exceed domestic_maximum_randomized_overlap_hours" in response.content.decode()
    assert models.RuleConfiguration.objects.get(pk=1).domestic_strip_validity_hours == 24


def test_recovery_validity_above_180_days_is_refused(client, editor):
    response = client.post(CHANGE_URL, rule_form_data(eu_international_positivetest_recovery_du_days=181))
    assert response.status_code == 200
    assert "must be at most 180" in response.content.decode()


def test_recovery_test_types_must_be_a_list_of_strings(client, editor):
    response = client.post(CHANGE_URL, rule_form_data(eu_recovery_test_types=[1, 2]))
    assert response.status_code == 200
    assert "must be a list of non-empty strings" in response.content.decode()
    assert models.RuleConfiguration.objects.get(pk=1).eu_recovery_test_types == ["LP6464-4", "LP217198-3"]


def test_viewer_sees_the_rules_read_only_and_cannot_change_them(client, viewer):
    page = client.get(CHANGE_URL)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(CHANGE_URL, rule_form_data(domestic_maximum_issuance_days=3)).status_code == 403
    assert models.RuleConfiguration.objects.get(pk=1).domestic_maximum_issuance_days == 28


def test_rule_change_reaches_another_worker_process_within_the_cache_period(transactional_db):
    """Two processes: this one changes a rule; the other keeps its fresh snapshot, and has the
    new value once its clock is one RULE_CACHE_SECONDS later, without a restart."""
    rules_seed_if_empty()
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="devtools.settings_test",
        RULE_CACHE_SECONDS="1",
        DATABASE_URL=(
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
        ),
    )
    # The worker reads its snapshot with an injected clock that moves only when told: "same"
    # keeps the time, "later" moves it just past RULE_CACHE_SECONDS.
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from events import selectors\n"
        "clock = [1000.0]\n"
        "selectors.time.monotonic = lambda: clock[0]\n"
        "print(selectors.config_snapshot_get_sync().rules.domestic_maximum_issuance_days, flush=True)\n"
        "for command in sys.stdin:\n"
        "    if command.strip() == 'later':\n"
        "        clock[0] += settings.RULE_CACHE_SECONDS + 0.001\n"
        "    print(selectors.config_snapshot_get_sync().rules.domestic_maximum_issuance_days, flush=True)\n"
    )
    if connection.vendor != "postgresql":
        pytest.skip("the two-process test needs the PostgreSQL test database")
    worker = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def ask(command: str) -> str:
        worker.stdin.write(command + "\n")
        worker.stdin.flush()
        line = worker.stdout.readline().strip()
        assert line, "the worker stopped: " + worker.stderr.read()
        return line

    try:
        assert worker.stdout.readline().strip() == "28", worker.stderr.read()
        rule_configuration_update({"domestic_maximum_issuance_days": 21})
        assert ask("same") == "28"  # the worker's snapshot is still fresh: no query yet
        assert ask("later") == "21"  # one RULE_CACHE_SECONDS later it has the change
    finally:
        worker.kill()
        worker.wait()


# --- Rule data ------------------------------------------------------------------------------------------


def test_allowlist_entries_are_validated(client, editor):
    url = "/admin/events/partialdisclosurerule/add/"
    response = client.post(url, {"initials": "UX", "letters": "VQ"})
    assert response.status_code == 200 and "letters must be a subset of VFMD" in response.content.decode()
    response = client.post(url, {"initials": "ux", "letters": "V"})
    assert response.status_code == 200 and "initials must be two capital letters" in response.content.decode()
    assert client.post(url, {"initials": "UX", "letters": "VF"}).status_code == 302
    assert models.PartialDisclosureRule.objects.get(initials="UX").letters == "VF"


def test_rule_data_lists_are_searchable(client, editor):
    page = client.get("/admin/events/hpkcode/?q=2924528").content.decode()
    assert "2924528" in page and "1 result" in page


def test_viewer_cannot_add_rule_data(client, viewer):
    assert client.get("/admin/events/partialdisclosurerule/").status_code == 200
    assert client.post("/admin/events/partialdisclosurerule/add/", {"initials": "UX", "letters": "V"}).status_code == 403
    assert client.get(reverse("admin:events_ruledata_import")).status_code == 403


def test_rule_data_export_gives_the_six_upstream_files(client, viewer):
    response = client.get(reverse("admin:events_ruledata_export"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert len(files) == 6
    assert rule_data_parse_files(files) == rule_data_current()


def upload(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="application/json")


def test_rule_data_import_replaces_only_the_uploaded_lists(client, editor):
    doses_before = rule_data_current().required_doses
    text = json.dumps({"valueSetId": "covid-19-lab-test-type", "valueSetValues": {"LP6464-4": {"display": "NAAT"}}})
    response = client.post(reverse("admin:events_ruledata_import"), {"files": [upload("test-type.json", text)]})
    assert response.status_code == 302, re.findall(r"errorlist.*", response.content.decode())
    data = rule_data_current()
    assert data.test_types == {"LP6464-4": "NAAT"}
    assert data.required_doses == doses_before
    assert config_snapshot_get_sync().rules.test_types == frozenset({"LP6464-4"})
    assert models.ValueSetEntry.history.filter(history_type="-", code="LP217198-3").exists()


def test_an_invalid_rule_data_import_changes_nothing(client, editor):
    before = rule_data_current()
    files = [
        upload("test-type.json", json.dumps({"valueSetValues": {"X": {"display": "x"}}})),
        upload("required-doses-per-brand.json", json.dumps({"EU/1/20/1528": 0})),
    ]
    response = client.post(reverse("admin:events_ruledata_import"), {"files": files})
    assert response.status_code == 200
    assert "required doses of &#x27;EU/1/20/1528&#x27; must be an integer &gt;= 1" in response.content.decode()
    assert rule_data_current() == before


# --- Providers --------------------------------------------------------------------------------------------

SECRET = "s" * 40
PRIVATE_KEY = "ozFVVdY9QCcWwo2J9FZVTgXzDqGxfohynembzcyGJps="
PUBLIC_KEY = "pFWnrVkdUbKeU1B5Pj18AqKfE0wsbeUNH0Gh19Dz+EY="


@pytest.fixture(scope="module")
def certificates():
    ca = create_test_ca()
    return {
        "leaf": ca.issue_signer("Provider ZZZ").cert.public_bytes(Encoding.PEM).decode(),
        "other": ca.issue_signer("Provider ZZZ 2").cert.public_bytes(Encoding.PEM).decode(),
        "ca": ca.cert.public_bytes(Encoding.PEM).decode(),
    }


@pytest.fixture
def superuser(client):
    user = User.objects.create_superuser("admin", password="pw")
    client.force_login(user)
    return user


def provider_form(*, certificates: list[dict], existing_ids: tuple = (), **fields) -> dict:
    data = {
        "identifier": "ZZZ",
        "position": "",
        "unomi_url": "https://zzz.example/unomi",
        "event_url": "https://zzz.example/events",
        "identity_hash_secret": SECRET,
        "bsn_public_key": PUBLIC_KEY,
        "bsn_private_key": PRIVATE_KEY,
        "tokens_enabled": "on",
        "events_accepted": "on",
        "certificates-TOTAL_FORMS": str(len(certificates)),
        "certificates-INITIAL_FORMS": str(len(existing_ids)),
        "certificates-MIN_NUM_FORMS": "0",
        "certificates-MAX_NUM_FORMS": "1000",
    }
    for i, cert in enumerate(certificates):
        data |= {f"certificates-{i}-{key}": value for key, value in cert.items()}
        if i < len(existing_ids):
            data[f"certificates-{i}-id"] = str(existing_ids[i])
            data[f"certificates-{i}-provider"] = str(models.Provider.objects.get(identifier="ZZZ").pk)
    data |= fields
    return {k: v for k, v in data.items() if v is not None}


def cert_form(pem: str, status: str = "active", match: str = "pinned", retired_at: str = "") -> dict:
    return {"pem": pem, "match": match, "status": status, "retired_at_0": retired_at[:10], "retired_at_1": retired_at[11:]}


def test_provider_with_a_certificate_is_added_and_its_secrets_are_never_shown(client, superuser, certificates):
    response = client.post("/admin/events/provider/add/", provider_form(certificates=[cert_form(certificates["leaf"])]))
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = models.Provider.objects.get(identifier="ZZZ")
    assert provider.identity_hash_secret == SECRET and provider.bsn_private_key == PRIVATE_KEY
    cert = provider.certificates.get()
    assert cert.subject_common_name == "Provider ZZZ" and len(cert.fingerprint_sha256) == 64
    page = client.get(f"/admin/events/provider/{provider.pk}/change/").content.decode()
    assert SECRET not in page and PRIVATE_KEY not in page
    assert cert.fingerprint_sha256 in page
    history = client.get(f"/admin/events/provider/{provider.pk}/history/").content.decode()
    assert SECRET not in history and PRIVATE_KEY not in history


def test_blank_secret_fields_keep_the_stored_values(client, superuser, certificates):
    client.post("/admin/events/provider/add/", provider_form(certificates=[cert_form(certificates["leaf"])]))
    provider = models.Provider.objects.get(identifier="ZZZ")
    cert = provider.certificates.get()
    data = provider_form(
        certificates=[cert_form(certificates["leaf"])],
        existing_ids=(cert.pk,),
        identity_hash_secret="",
        bsn_private_key="",
        tokens_enabled=None,
    )
    response = client.post(f"/admin/events/provider/{provider.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    provider.refresh_from_db()
    assert provider.identity_hash_secret == SECRET and provider.bsn_private_key == PRIVATE_KEY
    assert provider.tokens_enabled is False


def test_a_short_identity_hash_secret_is_refused(client, superuser, certificates):
    data = provider_form(certificates=[cert_form(certificates["leaf"])], identity_hash_secret="short")
    response = client.post("/admin/events/provider/add/", data)
    assert response.status_code == 200 and "must be at least 32 bytes" in response.content.decode()
    assert "short" not in response.content.decode().split("identity_hash_secret")[1][:300]


def test_a_ca_certificate_is_refused_as_an_entry(client, superuser, certificates):
    response = client.post("/admin/events/provider/add/", provider_form(certificates=[cert_form(certificates["ca"])]))
    assert response.status_code == 200 and "is a CA certificate" in response.content.decode()
    assert not models.Provider.objects.exists()


def test_a_provider_accepting_events_needs_a_certificate_that_is_not_revoked(client, superuser, certificates):
    data = provider_form(certificates=[cert_form(certificates["leaf"], status="revoked")])
    response = client.post("/admin/events/provider/add/", data)
    assert response.status_code == 200
    assert "needs at least one certificate entry that is not revoked" in response.content.decode()


def test_a_retired_entry_needs_its_instant(client, superuser, certificates):
    data = provider_form(certificates=[cert_form(certificates["leaf"]), cert_form(certificates["other"], "retired")])
    response = client.post("/admin/events/provider/add/", data)
    assert response.status_code == 200 and "needs its retirement instant" in response.content.decode()


def test_a_revoked_entry_cannot_be_reactivated(client, superuser, certificates):
    client.post(
        "/admin/events/provider/add/",
        provider_form(certificates=[cert_form(certificates["leaf"]), cert_form(certificates["other"], "revoked")]),
    )
    provider = models.Provider.objects.get(identifier="ZZZ")
    ids = tuple(provider.certificates.order_by("pk").values_list("pk", flat=True))
    data = provider_form(
        certificates=[cert_form(certificates["leaf"]), cert_form(certificates["other"], "active")],
        existing_ids=ids,
        identity_hash_secret="",
        bsn_private_key="",
    )
    response = client.post(f"/admin/events/provider/{provider.pk}/change/", data)
    assert response.status_code == 200 and "cannot be re-activated" in response.content.decode()
    assert provider.certificates.get(pk=ids[1]).status == "revoked"


# --- Print tokens -----------------------------------------------------------------------------------------


def test_print_token_key_is_shown_once_and_stored_hashed(client, superuser):
    response = client.post("/admin/signing/printtoken/add/", {"client_name": "print portal"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert key in response.content.decode()
    token = PrintToken.objects.get()
    assert token.key_hash == print_token_hash(key) and token.client_name == "print portal"
    assert key not in client.get("/admin/signing/printtoken/").content.decode()
    assert key not in client.get(f"/admin/signing/printtoken/{token.pk}/change/").content.decode()


def test_print_tokens_are_revoked_by_action(client, superuser):
    client.post("/admin/signing/printtoken/add/", {"client_name": "print portal"})
    token = PrintToken.objects.get()
    response = client.post("/admin/signing/printtoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get(f"/admin/signing/printtoken/{token.pk}/delete/").status_code == 403


# --- the configuration version moves exactly once per change (settings.md §3) ---------------------


def test_adding_a_provider_with_a_certificate_bumps_the_version_once(client, superuser, certificates):
    before = configuration_version_get()
    response = client.post("/admin/events/provider/add/", provider_form(certificates=[cert_form(certificates["leaf"])]))
    assert response.status_code == 302
    assert configuration_version_get() == before + 1


def test_changing_a_rule_constant_in_the_admin_bumps_the_version_once(client, editor):
    before = configuration_version_get()
    assert client.post(CHANGE_URL, rule_form_data(domestic_maximum_issuance_days=14)).status_code == 302
    assert configuration_version_get() == before + 1


def test_deleting_rule_data_in_bulk_bumps_the_version_once(client, editor):
    before = configuration_version_get()
    codes = list(models.HpkCode.objects.values_list("pk", flat=True)[:3])
    response = client.post("/admin/events/hpkcode/", {"action": "delete_selected", "_selected_action": codes, "post": "yes"})
    assert response.status_code == 302
    assert not models.HpkCode.objects.filter(pk__in=codes).exists()
    assert configuration_version_get() == before + 1


def test_rule_labels_are_words_and_name_the_setting_in_the_help(client, editor):
    page = client.get(CHANGE_URL).content.decode()
    assert '<label class="required" for="id_domestic_maximum_issuance_days">Issuance horizon:</label>' in page
    assert "Setting: DOMESTIC_MAXIMUM_ISSUANCE_DAYS." in page
    assert ">DOMESTIC_MAXIMUM_ISSUANCE_DAYS:<" not in page


def test_view_site_points_to_the_api_documentation(client, editor):
    page = client.get("/admin/").content.decode()
    assert 'href="/openapi.json">View site' in page or 'href="/docs">View site' in page


def test_saving_the_rules_unchanged_writes_no_history_record(client, editor):
    rule_configuration_update({"domestic_maximum_issuance_days": 21})
    records = models.RuleConfiguration.history.count()
    version = models.ConfigurationVersion.objects.get(pk=1).version
    form = client.get(CHANGE_URL).context["adminform"].form
    data = {name: form.initial[name] for name in RULE_CONSTANT_FIELDS}
    data = {name: json.dumps(value) if isinstance(value, list) else value for name, value in data.items()}
    data = {name: value for name, value in data.items() if value is not False}
    data = {name: "" if value is None else value for name, value in data.items()}
    response = client.post(CHANGE_URL, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert models.RuleConfiguration.history.count() == records
    assert models.ConfigurationVersion.objects.get(pk=1).version == version
    rule_configuration_update({"domestic_maximum_issuance_days": 21})  # the service function: no-op too
    assert models.RuleConfiguration.history.count() == records
