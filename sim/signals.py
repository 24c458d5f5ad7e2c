"""Ctrl-C and SIGTERM: raised where the program is (so every staged write is removed on the
way out), re-raised when compiled code swallowed them, or held while a rename pair runs whole.
The lowest layer: the model's compiled drivers, the experiments and the output folders all use
it."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so every staged write is removed on the way out."""


class Stopped(BaseException):
    """Ctrl-C or SIGTERM, with a note of what was kept (e.g. a sweep's finished chunks)."""

    def __init__(self, cause: BaseException, note: str = ""):
        self.code = 143 if isinstance(cause, Terminated) else 130
        what = "terminated (SIGTERM)" if self.code == 143 else "interrupted (Ctrl-C)"
        super().__init__(f"{what}; {note}" if note else what)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_PENDING: list[type[BaseException]] = []  # a signal raised by sigterm_raises' handlers


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` instead of ending the process at
    once, so clean-up code runs as it does for Ctrl-C (which raises KeyboardInterrupt). Each
    signal is also recorded: an exception raised inside a callback from compiled code (Numba
    compiling through llvmlite) is swallowed there, and :func:`raise_pending` raises it again
    at the engine's next look-up."""
    if not _on_main_thread():
        yield
        return

    def raising(exc_type: type[BaseException]):
        def handler(signum, frame):
            _PENDING[:] = [exc_type]
            raise exc_type()
        return handler

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, raising(Terminated)),
                signal.SIGINT: signal.signal(signal.SIGINT, raising(KeyboardInterrupt))}
    _PENDING.clear()
    try:
        yield
    finally:
        _PENDING.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def raise_pending() -> None:
    """Raise once more a signal's exception that may have been swallowed (see
    :func:`sigterm_raises`); nothing when none was caught."""
    if _PENDING:
        raise _PENDING.pop()()


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them as they would have been:
    a rename pair or a clean-up runs whole."""
    if not _on_main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])
