"""The one place the compiler is chosen and configured: Numba's ``njit`` and ``structref``.

The model's rules (:mod:`sim.model.kernel`, and the what-if's replay in
:mod:`sim.experiments.whatif`) are compiled with this ``njit``, so the Mesa agents
and the ensemble engine call the same machine code. Compiled code is cached on disk
(``cache=True``). Numba checks a cached function only against its own file, not against the
functions it calls, so an edited rule could run beside a stale caller: the cache therefore
lives in a folder named by a hash of every kernel source file, and any edit starts a fresh one.
``NUMBA_CACHE_DIR`` still wins when set; ``NUMBA_DISABLE_JIT=1`` runs everything as plain
Python (for debugging).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba import types
from numba.experimental import structref

__all__ = ["Record", "njit", "structref", "types"]

_PACKAGE = Path(__file__).resolve().parent.parent
COMPILED_SOURCES = ("model/kernel.py", "model/philox.py", "model/jit.py",
                    "experiments/whatif.py")


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in (_PACKAGE / name for name in COMPILED_SOURCES):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "diplosim" / "numba"


class Record(types.StructRef):
    """Base of the compiled records (a scenario's plan, a member): a StructRef passes all its
    arrays by one reference, so a call between compiled functions costs one reference count
    however many arrays the record holds."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


def njit(*args, **options):
    """``numba.njit`` with NumPy's error model: a division by zero gives inf or nan, as in
    NumPy, instead of a checked branch that raises (the rules never divide by zero)."""
    options.setdefault("error_model", "numpy")
    return numba.njit(*args, **options)


if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(_cache_root() / _source_hash())

