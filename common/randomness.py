"""Unpredictable random numbers read from the operating system in batches."""

from __future__ import annotations

import os
import random
import threading
import weakref

BATCH_BYTES = 512


class BatchedSystemRandom(random.SystemRandom):
    """`random.SystemRandom` (the operating system's randomness, `os.urandom`), read
    `BATCH_BYTES` at a time rather than once per number: a credentials request draws a random
    overlap for each of its ~28 strips (rules-domestic.md §5), and a system call each cost ~1 µs
    (benchmarks/PROFILE.md). The numbers are made from the bytes exactly as SystemRandom makes
    them, in the order SystemRandom would read them; no byte is used twice, and a forked child
    process starts with an empty batch. Seeding, state and `randbytes` are SystemRandom's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = b""
        self._offset = 0
        super().__init__()
        _instances.add(self)

    def _forget(self) -> None:
        """In a forked child: no byte of the parent's batch, and a lock no other thread holds."""
        self._lock = threading.Lock()
        self._batch, self._offset = b"", 0

    def _bytes(self, count: int) -> bytes:
        with self._lock:
            if self._offset + count > len(self._batch):  # the rest of this batch, then a new one
                self._batch, self._offset = self._batch[self._offset :] + os.urandom(max(count, BATCH_BYTES)), 0
            start = self._offset
            self._offset += count
            return self._batch[start : start + count]

    def randint(self, a: int, b: int) -> int:
        """`Random.randint` (its `randrange` and `_randbelow`: the fewest bits that hold the
        width, drawn again while too large) for `int` bounds, without its layers of calls."""
        if type(a) is not int or type(b) is not int or b < a:
            return super().randint(a, b)
        width = b - a + 1
        bits = width.bit_length()
        count = (bits + 7) // 8
        shift = count * 8 - bits
        while True:
            value = int.from_bytes(self._bytes(count)) >> shift
            if value < width:
                return a + value

    def random(self) -> float:
        return (int.from_bytes(self._bytes(7)) >> 3) * (2.0**-53)

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        count = (k + 7) // 8
        return int.from_bytes(self._bytes(count)) >> (count * 8 - k)


_instances: weakref.WeakSet[BatchedSystemRandom] = weakref.WeakSet()


def _forget_all() -> None:
    for instance in list(_instances):
        instance._forget()


os.register_at_fork(after_in_child=_forget_all)
