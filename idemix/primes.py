"""The pool of `e` primes for CL signatures (signers.md §2.5, §2.7).

Every signature needs a fresh prime `e` in [2^644, 2^644 + 2^119] (for the 2048-bit parameters),
and finding one is most of the cost of a signature. `ProcessPrimePool` keeps a buffer that a
background *process* refills (so the search never runs on a request's thread or the event loop's
core); when the buffer is empty a request searches synchronously and the pool counts a depletion.
`SyncPrimePool` always searches synchronously. Both expose the figures of `/stats`.

A `ProcessPrimePool` can be handed to other processes of the same multiprocessing context when
they are started (for example as an argument of a `ProcessPoolExecutor` initializer): the copy
takes from the same buffer and counts into the same statistics (shared values under one shared
lock), and only the creating process owns, and stops, the background processes.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from typing import Any, Protocol

from idemix import arith
from idemix.arith import RandBits
from idemix.params import DEFAULT


class PrimePool(Protocol):
    """Where the issuer takes its `e` primes from."""

    def take(self) -> int: ...

    def stats(self) -> dict[str, Any]: ...


def random_prime_in_range(start_bits: int, length_bits: int, randbits: RandBits = arith.DEFAULT_RANDBITS) -> int:
    """A random probable prime in [2^start_bits, 2^start_bits + 2^length_bits].

    A uniformly random offset, then the first prime at or after it (a sieve walk); if that runs
    past the end of the range, a new offset is drawn. Deterministic for a given `randbits`.
    """
    if start_bits < 2:
        raise ValueError("prime size must be at least 2 bits")
    low = 1 << start_bits
    high = low + (1 << length_bits)
    while True:
        prime = arith.next_prime_from(low + arith.random_bits(length_bits, randbits), high)
        if prime is not None:
            return prime


def e_prime(randbits: RandBits = arith.DEFAULT_RANDBITS) -> int:
    """A prime `e` for the default (2048-bit) parameters."""
    return random_prime_in_range(DEFAULT.e_start_bits, DEFAULT.e_length_bits, randbits)


class SyncPrimePool:
    """No buffer: every `take()` searches (gabi's "random" pool)."""

    def __init__(
        self,
        start_bits: int = DEFAULT.e_start_bits,
        length_bits: int = DEFAULT.e_length_bits,
        randbits: RandBits = arith.DEFAULT_RANDBITS,
    ) -> None:
        self.start_bits = start_bits
        self.length_bits = length_bits
        self._randbits = randbits

    def take(self) -> int:
        return random_prime_in_range(self.start_bits, self.length_bits, self._randbits)

    def stats(self) -> dict[str, Any]:
        return {"Name": "random"}

    def close(self) -> None:
        """Nothing to release."""


def _refill(out: Any, start_bits: int, length_bits: int, backend_name: str, parent: int) -> None:  # pragma: no cover - child
    """The background process: search primes and wait on the bounded queue while it is full.

    Ctrl-C in a terminal reaches the whole process group: the owner stops this process, so the
    interrupt itself is ignored here (no traceback). It also stops when its parent has gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        arith.use_backend(backend_name)
    except ValueError:
        arith.use_backend("python")
    while os.getppid() == parent:
        prime = random_prime_in_range(start_bits, length_bits)
        while os.getppid() == parent:
            try:
                out.put(prime, timeout=1.0)
                break
            except queue.Full:
                continue


class ProcessPrimePool:
    """A bounded buffer of primes filled by `workers` background processes.

    `take()` never waits for the background: with the buffer empty it searches itself. The
    statistics follow the Go signer's in-memory pool: `Index` is the number of primes buffered,
    `Depleted` is set when it drops below `lwm` and cleared when it rises above `hwm`, and
    `Depletions` counts the times it became depleted.
    """

    def __init__(
        self,
        size: int = 1000,
        lwm: int = 100,
        hwm: int = 900,
        *,
        start_bits: int = DEFAULT.e_start_bits,
        length_bits: int = DEFAULT.e_length_bits,
        workers: int = 1,
        start_method: str = "spawn",
    ) -> None:
        if size <= 0:
            raise ValueError("the pool size must be positive")
        self.size = size
        self.lwm = lwm
        self.hwm = hwm
        self.start_bits = start_bits
        self.length_bits = length_bits
        context: Any = multiprocessing.get_context(start_method)
        self._lock: Any = context.Lock()
        # depleted flag, depletions, synchronous takes: shared with copies in other processes
        self._counters: Any = context.Array("q", 3, lock=False)
        self._queue: Any = context.Queue(maxsize=size)
        self._owner = True
        self._processes = [
            context.Process(
                target=_refill,
                args=(self._queue, start_bits, length_bits, arith.active_backend().name, os.getpid()),
                name=f"idemix-prime-pool-{index}",
                daemon=True,
            )
            for index in range(workers)
        ]
        for process in self._processes:
            process.start()

    def __getstate__(self) -> dict[str, Any]:
        """A copy for another process (only while starting it): same buffer and counters, no
        ownership of the background processes."""
        state = dict(self.__dict__)
        state["_processes"] = []
        state["_owner"] = False
        return state

    @property
    def depleted(self) -> bool:
        return bool(self._counters[0])

    @property
    def depletions(self) -> int:
        return int(self._counters[1])

    @property
    def synchronous_takes(self) -> int:
        return int(self._counters[2])

    def available(self) -> int:
        try:
            return self._queue.qsize()
        except NotImplementedError:  # pragma: no cover - platforms without sem_getvalue
            return 0

    def take(self) -> int:
        with self._lock:
            index = self.available()
            if index < self.lwm and not self._counters[0]:
                self._counters[0] = 1
                self._counters[1] += 1
            elif index > self.hwm:
                self._counters[0] = 0
        try:
            return int(self._queue.get_nowait())
        except queue.Empty:
            with self._lock:
                self._counters[2] += 1
            return random_prime_in_range(self.start_bits, self.length_bits)

    def wait_until(self, count: int, timeout: float = 60.0) -> bool:
        """Block until at least `count` primes are buffered (for benchmarks and warm start)."""
        deadline = time.monotonic() + timeout
        while self.available() < min(count, self.size):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stats(self) -> dict[str, Any]:
        index = self.available()
        with self._lock:
            if index > self.hwm:
                self._counters[0] = 0
            return {
                "Name": "in-memory",
                "Size": self.size,
                "Index": index,
                "Hwm": self.hwm,
                "Lwm": self.lwm,
                "Depleted": bool(self._counters[0]),
                "Depletions": int(self._counters[1]),
                "BitStart": self.start_bits,
                "BitLength": self.length_bits,
            }

    def close(self) -> None:
        """Stop the background processes (each by its own handle; a copy owns none)."""
        if not self._owner:
            return
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(timeout=5)
        self._queue.close()
        self._queue.cancel_join_thread()

    def __enter__(self) -> ProcessPrimePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
