"""Blocks of members on threads that never keep a signal waiting."""

from __future__ import annotations

import os
import threading
from typing import Callable

import numpy as np

WAIT_S = 0.1  # how often the calling thread looks up from waiting (signals are handled then)


def default_threads() -> int:
    """Threads for a block: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_interruptibly(run: Callable[[slice], None], blocks: list[slice], stop: np.ndarray) -> None:
    """``run`` each block in a thread of its own while the calling thread waits in intervals
    of WAIT_S: on the main thread a signal's handler (Ctrl-C, SIGTERM) then runs at once, even
    while compiled code holds a block for minutes. Whatever interrupts the wait sets ``stop``,
    which the compiled block reads before each member: the threads (daemons, writing only
    their own arrays) end after the member they are running."""
    errors: list[BaseException] = []

    def guarded(block: slice) -> None:
        try:
            run(block)
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(b,), daemon=True) for b in blocks]
    for thread in threads:
        thread.start()
    from sim.signals import raise_pending

    try:
        raise_pending()  # a signal swallowed while the block was being compiled
        for thread in threads:
            while thread.is_alive():
                thread.join(WAIT_S)
                raise_pending()
    except BaseException:
        stop[0] = True
        raise
    if errors:
        raise errors[0]
