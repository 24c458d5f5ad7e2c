"""Model 3's compiled code on its first use: is it compiled yet, say so, and compile it whole.

Numba compiles :mod:`sim.model3.kernel` the first time it runs on a machine (about half a
minute) and caches the machine code on disk (:mod:`sim.model.kernel.jit`); later processes load
it in about a second. :func:`is_cold` tells which, :func:`compile_notice` prints the one line a
command shows before that wait, and :func:`ensure_compiled` compiles (or loads) every entry
point the engine and the Mesa agents call, on the calling thread, before any member runs.

Ctrl-C or SIGTERM during the compile is held and delivered the moment the compile ends. Sooner
is not safe in this process: Python runs a signal's handler between the compiler's own steps,
inside llvmlite's callbacks, where the exception is swallowed or leaves Numba's cache writer
half done (measured: a RuntimeError traceback with exit 1, or a run that carried on to the end
with exit 0); and a compile moved to a daemon thread aborts in LLVM when the process exits under
it.
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

from sim.model3 import kernel as K

NOTICE = ("compiling Model 3's engine for this machine (once; about half a minute, later runs "
          "load it in a second)")
# every compiled function called from Python: the engine's block, and the agents' moments
ENTRY_POINTS = (K.run_block, K.start, K.begin_moment, K.look, K.vote, K.settle, K.carry_out,
                K.finish)


def is_cold() -> bool:
    """True when some entry point is neither compiled in this process nor in the disk cache
    (its cached index is missing, or stale for the kernel's source file)."""
    return any(not _ready(function) for function in ENTRY_POINTS)


def _ready(function) -> bool:
    if function.signatures:
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
    first Model 3 run."""
    if quiet or not is_cold():
        return False
    print(f"diplosim: note: {NOTICE}", file=file or sys.stderr, flush=True)
    return True


def ensure_compiled(plan, c, n_quantities: int, agents: bool = False) -> None:
    """Compile or load the engine's block (and with ``agents`` every entry point the Mesa
    agents call) for this plan's types, on the calling thread, with Ctrl-C and SIGTERM held
    until it is done (the module's note); nothing when that is done already."""
    needed = ENTRY_POINTS if agents else ENTRY_POINTS[:1]
    if all(function.signatures for function in needed):
        return
    from sim.outputs.output_folder import signals_deferred

    with signals_deferred():
        _call_block(plan, c, n_quantities)
        if agents:
            _call_moments(plan, c, n_quantities)


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
