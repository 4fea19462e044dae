"""Read-only admin of submissions and the UCI audit trail (signing/admin.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from signing.models import EventSubmission, UciAuditRecord

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/admin/signing/eventsubmission/"
UCIS = "/admin/signing/uciauditrecord/"


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("staff", password="pw"))


def submission(*, days_ago: int = 0, status: int = 200, error_code: str = "", providers=("ZZZ",), **fields) -> EventSubmission:
    return EventSubmission.objects.create(
        created_at=timezone.now() - timedelta(days=days_ago),
        endpoint=fields.pop("endpoint", "credentials"),
        providers=list(providers),
        status=status,
        error_code=error_code,
        **fields,
    )


def uci_record(uci: str, *, days_ago: int = 0, provider: str = "ZZZ", key_usage: str = "vaccination") -> UciAuditRecord:
    now = timezone.now() - timedelta(days=days_ago)
    return UciAuditRecord.objects.create(
        uci=uci,
        provider_identifier=provider,
        event_unique="u-1",
        key_usage=key_usage,
        flow="app",
        expiration_time=now + timedelta(days=28),
        issued_at=now,
    )


def test_submissions_list_shows_a_count_per_day(client, staff):
    submission(days_ago=0)
    submission(days_ago=0, status=503, error_code="downstream_unavailable")
    submission(days_ago=1)
    page = client.get(SUBMISSIONS).content.decode()
    assert 'id="counts-per-day"' in page
    today, yesterday = timezone.now().date(), timezone.now().date() - timedelta(days=1)
    assert f"<td>{today:%Y-%m-%d}</td><td>2</td>" in page
    assert f"<td>{yesterday:%Y-%m-%d}</td><td>1</td>" in page


def test_submissions_filter_by_outcome_and_provider(client, staff):
    from events.models import Provider

    for identifier in ("YYY", "ZZZ"):
        Provider.objects.create(identifier=identifier, unomi_url="https://x.example/", event_url="https://x.example/")
    submission(providers=("ZZZ",))
    submission(providers=("YYY",), status=503, error_code="downstream_unavailable")
    assert client.get(SUBMISSIONS + "?outcome=server").context["cl"].result_count == 1
    assert client.get(SUBMISSIONS + "?outcome=ok").context["cl"].result_count == 1
    assert client.get(SUBMISSIONS + "?provider=YYY").context["cl"].result_count == 1
    assert client.get(SUBMISSIONS + "?error_code=downstream_unavailable").context["cl"].result_count == 1


def test_submissions_are_read_only(client, staff):
    record = submission(holder_pseudonym="a" * 64)
    assert client.get(SUBMISSIONS + "add/").status_code == 403
    assert client.get(f"{SUBMISSIONS}{record.pk}/delete/").status_code == 403
    page = client.get(f"{SUBMISSIONS}{record.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert "a" * 64 not in page.content.decode()
    client.post(f"{SUBMISSIONS}{record.pk}/change/", {"status": "500"})
    record.refresh_from_db()
    assert record.status == 200


def test_uci_audit_trail_is_append_only_with_filters(client, staff):
    record = uci_record("URN:UCI:01:NL:AAAAAAAAAAAAAAAAAAAA42#A")
    uci_record("URN:UCI:01:NL:BBBBBBBBBBBBBBBBBBBB42#B", provider="YYY", key_usage="test", days_ago=2)
    page = client.get(UCIS)
    assert page.status_code == 200 and 'id="counts-per-day"' in page.content.decode()
    assert client.get(UCIS + "?key_usage=test").context["cl"].result_count == 1
    assert client.get(UCIS + "?provider_identifier=ZZZ").context["cl"].result_count == 1
    day = timezone.now()
    assert (
        client.get(UCIS + f"?issued_at__year={day.year}&issued_at__month={day.month}&issued_at__day={day.day}")
        .context["cl"]
        .result_count
        == 1
    )
    assert client.get(UCIS + "add/").status_code == 403
    assert client.get(f"{UCIS}{record.pk}/delete/").status_code == 403
    assert "delete_selected" not in page.content.decode()


def test_records_are_not_reachable_without_login(client):
    submission()
    assert client.get(SUBMISSIONS).status_code == 302
    assert client.get(UCIS).status_code == 302


def test_dashboard_is_linked_from_the_admin_index(client, staff):
    assert 'href="/admin/dashboard/"' in client.get("/admin/").content.decode()


def test_dashboard_draws_svg_charts_from_the_records(client, staff):
    submission(
        domestic_issued=True,
        eu_issued=2,
        event_counts={"vaccination": 2},
        duration_ms=120,
        downstream_ms={"domestic": 40.0, "eu": 30.0},
    )
    submission(
        status=504,
        error_code="downstream_timeout",
        duration_ms=2000,
        downstream_ms={"eu": 2000.0},
        downstream_errors={"eu": "downstream_timeout"},
    )
    submission(
        endpoint="print",
        domestic_issued=True,
        eu_issued=1,
        print_client="portal",
        duration_ms=80,
        downstream_ms={"domestic": 20.0, "eu": 25.0},
    )
    response = client.get("/admin/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") >= 5
    assert "Certificates issued per day and kind" in page and "Request latency percentiles per day" in page
    data = response.context["data"]
    assert data.certificates["domestic (app)"][-1] == 1
    assert data.certificates["EU (app)"][-1] == 2
    assert data.certificates["EU (paper)"][-1] == 1
    assert data.events["vaccination"][-1] == 2
    assert data.requests["failed (5xx)"][-1] == 1
    rates = {d["name"]: d for d in data.downstreams}
    assert rates["eu"]["calls"] == 3 and rates["eu"]["errors"] == 1
    assert rates["eu"]["error_rate"] == pytest.approx(100 / 3)
    assert rates["domestic"]["error_rate"] == 0
    assert rates["domestic"]["p50"] == pytest.approx(30.0)
    assert data.totals["p50"] == pytest.approx(120.0)


def test_dashboard_window_ignores_older_records(client, staff):
    submission(days_ago=30, domestic_issued=True)
    data = client.get("/admin/dashboard/?days=7").context["data"]
    assert len(data.days) == 7 and data.totals["requests"] == 0


def test_dashboard_needs_staff(client):
    client.force_login(User.objects.create_user("holder", password="x"))
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_counts_per_day_use_utc_days(client, staff):
    EventSubmission.objects.create(created_at=datetime(2024, 3, 1, 23, 30, tzinfo=UTC), endpoint="credentials", status=200)
    page = client.get(SUBMISSIONS + "?created_at__year=2024").content.decode()
    assert "<td>2024-03-01</td><td>1</td>" in page


def test_a_submission_has_a_readable_title(client, staff):
    record = submission(status=503, error_code="downstream_unavailable")
    assert str(record).startswith("credentials at ") and str(record).endswith("UTC: 503 downstream_unavailable")
    page = client.get(f"{SUBMISSIONS}{record.pk}/change/").content.decode()
    assert "EventSubmission object" not in page


def test_filters_have_no_empty_links(client, staff):
    submission()
    submission(status=503, error_code="downstream_unavailable")
    submission(endpoint="print", print_client="portal")
    page = client.get(SUBMISSIONS).content.decode()
    filters = page[page.index('id="changelist-filter"') :]
    filters = filters[: filters.index("</nav>")]
    assert re.findall(r"<a href=", filters)
    assert not re.search(r'<a href="[^"]*"[^>]*>\s*</a>', filters)
    assert "none (success)" in page and "none (app requests)" in page
    assert client.get(SUBMISSIONS + "?error_code=-").context["cl"].result_count == 2
    assert client.get(SUBMISSIONS + "?print_client=-").context["cl"].result_count == 2
    assert client.get(SUBMISSIONS + "?print_client=portal").context["cl"].result_count == 1
