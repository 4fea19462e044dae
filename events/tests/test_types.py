"""events/types.py: the copy each rule computation works on."""

from __future__ import annotations

import copy

from events.tests.factories import negative_test_event, recovery_event, vaccination_event
from events.types import events_copy


def test_events_copy_equals_a_deep_copy_and_shares_no_dataclass():
    events = [vaccination_event(), negative_test_event(), recovery_event()]
    copies = events_copy(events)
    assert copies == copy.deepcopy(events)
    for original, copied in zip(events, copies, strict=True):
        assert type(copied) is type(original)
        assert copied is not original
        assert copied.holder is not original.holder and copied.payload is not original.payload
        copied.holder.first_name = "Changed"
        copied.payload.__dict__["changed"] = True
        copied.unique = "changed"
    assert [event.holder.first_name for event in events] == ["Bob", "Bob", "Bob"]
    assert all("changed" not in vars(event.payload) for event in events)
    assert all(event.unique != "changed" for event in events)
