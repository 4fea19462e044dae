"""`common.randomness.BatchedSystemRandom`: SystemRandom's numbers from batched reads."""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from common import randomness
from common.randomness import BatchedSystemRandom

BOUNDS = [(0, 5), (0, 1), (0, 300), (0, 2**40), (5, 5), (-3, 3), (0, 4), (10, 2**70), (True, 3)]  # the last: not an `int`


def test_the_numbers_are_made_from_the_bytes_as_systemrandom_makes_them(monkeypatch):
    """The same stream of bytes gives the same numbers: many draws of every bound, over several
    batches, with the redraws of values too large for the bound."""
    stream = b"".join(hashlib.sha256(index.to_bytes(4, "big")).digest() for index in range(4000))
    position = 0

    def urandom(count: int) -> bytes:
        nonlocal position
        chunk = stream[position : position + count]
        position += count
        assert len(chunk) == count, "the test's stream is too short"
        return chunk

    def draws(source: random.Random) -> list:
        return [source.randint(a, b) for _ in range(300) for a, b in BOUNDS] + [source.random() for _ in range(50)]

    monkeypatch.setattr(randomness.os, "urandom", urandom)
    batched = draws(BatchedSystemRandom())
    used = position
    position = 0
    monkeypatch.setattr(random, "_urandom", urandom)
    expected = draws(random.SystemRandom())
    assert batched == expected
    assert used > 4 * randomness.BATCH_BYTES  # several batches were read
    assert used - position < randomness.BATCH_BYTES  # and no more bytes than SystemRandom took, but the last batch's rest


def test_the_operating_system_is_read_once_per_batch_and_no_byte_twice(monkeypatch):
    reads: list[int] = []
    real = os.urandom

    def urandom(count: int) -> bytes:
        reads.append(count)
        return real(count)

    monkeypatch.setattr(randomness.os, "urandom", urandom)
    source = BatchedSystemRandom()
    drawn = [source.getrandbits(8) for _ in range(randomness.BATCH_BYTES + 1)]
    assert reads == [randomness.BATCH_BYTES, randomness.BATCH_BYTES]
    assert all(0 <= value < 256 for value in drawn)
    assert source.getrandbits(0) == 0
    with pytest.raises(ValueError):
        source.getrandbits(-1)


def test_the_numbers_are_spread_over_the_range():
    source = BatchedSystemRandom()
    seen = {source.randint(0, 9) for _ in range(2000)}
    assert seen == set(range(10))
    assert all(0.0 <= source.random() < 1.0 for _ in range(1000))


def test_a_forked_child_does_not_reuse_the_parents_batch():
    source = BatchedSystemRandom()
    source.getrandbits(8)  # a batch is read
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, source._bytes(16))
        os._exit(0)
    os.waitpid(child, 0)
    os.close(write)
    from_child = os.read(read, 16)
    os.close(read)
    assert from_child != source._bytes(16)
