"""Seeding the rules on an empty database from many threads at once (events/services.py): one
seeds, the others find the rows; no IntegrityError reaches a request (it was a 500 on the first
concurrent requests after a fresh start, found by the graceful-shutdown test)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from events import models
from events.services import rules_seed_if_empty


@pytest.mark.django_db(transaction=True)
def test_concurrent_seeding_seeds_once():
    models.RuleConfiguration.objects.all().delete()
    models.HpkCode.objects.all().delete()
    models.ValueSetEntry.objects.all().delete()
    models.RequiredDoses.objects.all().delete()
    models.PartialDisclosureRule.objects.all().delete()
    assert not models.RuleConfiguration.objects.exists() and not models.HpkCode.objects.exists()
    start = threading.Barrier(8)
    results: list[object] = []

    def seed() -> None:
        start.wait()
        try:
            results.append(rules_seed_if_empty())
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=seed) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(map(repr, results)) == sorted(["True"] + ["False"] * 7)
    assert models.RuleConfiguration.objects.count() == 1
    codes = list(models.HpkCode.objects.values_list("code", flat=True))
    assert codes and len(codes) == len(set(codes))
