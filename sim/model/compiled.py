"""Model 3's compiled code on its first use: is it compiled yet, say so, and compile it whole.

Numba compiles :mod:`sim.model.kernel` the first time it runs on a machine (about half a
minute) and caches the machine code on disk (:mod:`sim.model.jit`); later processes load
it in about a second. :func:`is_cold` (:func:`cache_is_cold`) tells which,
:func:`compile_notice` prints the one line a command shows before that wait, and
:func:`ensure_compiled` compiles (or loads) every entry point the engine and the Mesa agents
call, before any member runs.

A cold compile runs in a child process that fills the disk cache, while this process waits in
tenths of a second: Ctrl-C or SIGTERM then ends the child and takes effect at once (Numba writes
each cache file whole, to a temporary name it then renames, so a killed compile leaves nothing
half-written that a later run would read). The compiled code is then loaded here, with Ctrl-C
and SIGTERM held until the load (or, where the cache cannot be written, an in-process compile)
is done and delivered the moment it ends. Not sooner, in this process: Python runs a signal's
handler between the compiler's own steps, inside llvmlite's callbacks, where the exception is
swallowed or leaves Numba's cache writer half done (measured before this module: a RuntimeError
traceback with exit 1, or a run that carried on to its end with exit 0); and a compile moved to
a daemon thread aborts in LLVM when the process exits under it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from typing import TextIO

import numpy as np

from sim.model import kernel as K

NOTICE = ("compiling Model 3's engine for this machine (once; about half a minute, later runs "
          "load it in a second)")
# every compiled function called from Python: the engine's block, and the agents' moments
ENTRY_POINTS = (K.run_block, K.start, K.begin_moment, K.look, K.vote, K.settle, K.carry_out,
                K.finish)


WAIT_S = 0.1  # how often this process looks up from waiting for the compiling child


def is_cold(functions=ENTRY_POINTS) -> bool:
    """True when some entry point is neither compiled in this process nor in the disk cache
    (its cached index is missing, or stale for the kernel's source file)."""
    return any(not _ready(function) for function in functions)


def cache_is_cold() -> bool:
    """The commands' test for their compile notice (sim/commands/common.py): is any entry point
    neither compiled here nor in the disk cache?"""
    return is_cold()


def _compiled_here(function) -> bool:
    return bool(getattr(function, "signatures", True))  # a plain function under NUMBA_DISABLE_JIT


def _ready(function) -> bool:
    if _compiled_here(function):
        return True
    cache = getattr(function, "_cache", None)
    if cache is None or not hasattr(cache, "_cache_file"):  # caching off (NUMBA_DISABLE_JIT)
        return True
    try:
        return bool(cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - an unreadable index is a cold one
        return False


def compile_notice(quiet: bool = False, file: TextIO | None = None) -> bool:
    """Print ``diplosim: note: compiling ...`` on stderr when the compiled cache is cold (not
    when ``quiet``); returns whether it was printed. The commands call this once, before the
    first Model 3 run (the agents' entry points are compiled with the engine's block)."""
    if quiet or not is_cold():
        return False
    print(f"diplosim: note: {NOTICE}", file=file or sys.stderr, flush=True)
    return True


def ensure_compiled(plan, c, n_quantities: int, agents: bool = False) -> None:
    """Compile or load the engine's block (and with ``agents`` every entry point the Mesa
    agents call) for this plan's types before any member runs; a cold cache is filled by a
    child process that Ctrl-C or SIGTERM ends at once (the module's note). Nothing when all is
    compiled in this process already."""
    needed = ENTRY_POINTS if agents else ENTRY_POINTS[:1]
    if all(_compiled_here(function) for function in needed):
        return
    if is_cold(needed):
        compile_in_child(plan, c, n_quantities, agents)
    from sim.signals import signals_deferred

    with signals_deferred():
        _call_block(plan, c, n_quantities)
        if agents:
            _call_moments(plan, c, n_quantities)


def compile_in_child(plan, c, n_quantities: int, agents: bool) -> int:
    """Fill the disk cache from a child process while this one waits in intervals of WAIT_S;
    whatever interrupts the wait (Ctrl-C, SIGTERM) ends the child first. Returns the child's
    exit status (any failure is left to the in-process compile that follows to report)."""
    try:
        child = subprocess.Popen([sys.executable, "-c", "from sim.model.compiled import "
                                  "_child_compiles; _child_compiles()"], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:  # no interpreter to start (an embedded Python): compile in-process
        return -1
    try:
        try:
            pickle.dump(list(sys.path), child.stdin)
            pickle.dump((plan, c, n_quantities, agents), child.stdin)
            child.stdin.close()
        except (BrokenPipeError, pickle.PicklingError):
            pass
        while True:
            try:
                return child.wait(WAIT_S)
            except subprocess.TimeoutExpired:
                continue
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _child_compiles() -> None:
    """In the child: the parent's import path, then its plan's types, compiled into the cache
    (Ctrl-C is the parent's to handle: it ends this process)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.path[:] = pickle.load(sys.stdin.buffer)
    plan, c, n_quantities, agents = pickle.load(sys.stdin.buffer)
    _call_block(plan, c, n_quantities)
    if agents:
        _call_moments(plan, c, n_quantities)
    os._exit(0)  # noqa: SLF001 - nothing to flush; skip the interpreter's slow teardown


def _call_block(plan, c, n_quantities: int) -> None:
    """The engine's block on no members, with the argument types the engine passes."""
    d = len(plan.opens_h)
    m = K.new_member(plan, n_quantities)
    K.run_block(np.zeros(0, dtype=np.int64), np.zeros((0, n_quantities)), m, plan, c,
                np.zeros((0, d), dtype=np.int64), np.zeros((0, d), dtype=np.int64),
                np.zeros((0, d)), np.zeros((0, d), dtype=np.bool_), np.zeros((0, d)),
                np.zeros(1, dtype=np.bool_))


def _call_moments(plan, c, n_quantities: int) -> None:
    """Each function the agents call, once on a scratch member, with the agents' types."""
    m = K.new_member(plan, n_quantities)
    K.start(m, plan)
    _, _, t = K.begin_moment(m, plan)
    K.carry_out(int(K.NONE), 0, float(t), m, plan, c)
    K.look(0, 0.0, -1, m, plan, c)
    K.vote(0, 0.0, m, plan, c)
    K.settle(m, plan)
    K.finish(m)
