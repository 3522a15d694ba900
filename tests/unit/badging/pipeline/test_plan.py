"""Batch sizing keeps mapped tasks far below Airflow's max_map_length at any volume."""

from __future__ import annotations

import math

import pytest

from badging.core.recipients import recipient_digests
from badging.pipeline.plan import MAX_BATCHES, MIN_BATCH, batch_size_for


@pytest.mark.parametrize("planned", [0, 1, 249, 250, 5_000, 50_000, 150_000, 1_000_000])
def test_batches_never_exceed_the_cap(planned):
    size = batch_size_for(planned, preferred=250)
    assert size >= 250
    assert math.ceil(planned / size) <= MAX_BATCHES < 1024


def test_small_days_keep_the_preferred_size():
    assert batch_size_for(1_000, preferred=100) == 100


@pytest.mark.parametrize(("planned", "batches"), [
    (5_000, 12),   # 10 batches of 500 would leave 2 of 4 slots idle in the last wave
    (4_000, 8),    # already full waves
    (600, 4),      # one wave over every slot
    (120, 2),      # split only while each batch keeps MIN_BATCH badges
    (30, 1),
    (0, 0),
])
def test_batches_come_in_full_waves_of_the_pool(planned, batches):
    size = batch_size_for(planned, preferred=500, slots=4)
    assert size <= 500
    assert math.ceil(planned / size) == batches
    if batches > 1:
        assert planned / batches >= MIN_BATCH


def test_one_slot_keeps_the_preferred_size():
    assert batch_size_for(1_000, preferred=7, slots=1) == 7


@pytest.mark.parametrize(("planned", "sizes"), [
    (600, [300, 300]),          # not 500 and 100: the day would end with the 500
    (1_001, [334, 334, 333]),
    (400, [400]),
    (1_000, [500, 500]),
])
def test_even_batches_share_a_day_between_them(planned, sizes):
    size = batch_size_for(planned, preferred=500, slots=1, even=True)
    cut = [min(size, planned - start) for start in range(0, planned, size)]
    assert cut == sizes


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        batch_size_for(10, preferred=0)



def test_recipient_digests_see_a_correction_and_nothing_else():
    email, name = recipient_digests("k", " Ana@Example.org ", "Ana ", "Ruiz")
    # What CTIMS normalises (case and blanks of the address, blanks of the names) is no change.
    assert recipient_digests("k", "ana@example.org", "Ana", "Ruiz") == (email, name)
    assert recipient_digests("k", "ana.r@example.org", "Ana", "Ruiz")[0] != email
    assert recipient_digests("k", "ana.r@example.org", "Ana", "Ruiz")[1] == name
    assert recipient_digests("k", "ana@example.org", "Ana", "Ruiz-Diaz") != (email, name)
    # first|last: moving a letter between the names is a change.
    assert recipient_digests("k", "ana@example.org", "An", "aRuiz")[1] != name
    # Keyed: another secret, other digests; and nothing readable in them.
    assert recipient_digests("other", "ana@example.org", "Ana", "Ruiz") != (email, name)
    assert all("ana" not in d.lower() and "ruiz" not in d.lower() for d in (email, name))
