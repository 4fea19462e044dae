"""coronacheck/asgi.py: the worker's garbage-collection tuning at lifespan start-up."""

from __future__ import annotations

import gc

import pytest

from coronacheck import asgi


@pytest.fixture
def gc_state():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_freezes_the_heap_and_spaces_young_collections(gc_state, settings):
    settings.GC_GENERATION0_THRESHOLD = 12345
    gc.unfreeze()
    asgi.garbage_collection_tune()
    assert gc.get_threshold()[0] == 12345
    assert gc.get_freeze_count() > 10000  # Django, the URLconf and the libraries
    leftover = []
    leftover.append(leftover)  # a cycle made after start-up is still collected
    del leftover
    assert gc.collect() >= 1


def test_zero_keeps_pythons_defaults(gc_state, settings):
    settings.GC_GENERATION0_THRESHOLD = 0
    gc.unfreeze()
    before = gc.get_threshold()
    asgi.garbage_collection_tune()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
