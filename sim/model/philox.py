"""Counter-based random numbers: every uniform is a pure function of (seed, run, stream, index).

The generator is Philox-4x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
3", SC 2011), the same function as NumPy's ``numpy.random.Philox``: the test suite checks the
two give identical 64-bit words. A run's numbers are addressed, not sequenced: the key is the
root seed, and the 256-bit counter holds ``(block, run, stream, 0)``; uniform ``index`` of a
stream is word ``index % 4`` of block ``index // 4``, turned into a double in [0, 1) as NumPy
does (the top 53 bits). So a member's inputs depend on the seed and its run number alone, not
on how many members there are, how they are chunked, which process draws them, or whether
they are drawn all at once or one at a time where they are used.

Streams: 0 holds a run's parameter draws, 1 its per-step shocks (index ``step * channels +
channel``), 2 the draws only a counterfactual has. Seeds are integers in [0, 2**128).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from sim.model.jit import njit

PARAMETERS, SHOCKS, COUNTERFACTUAL = 0, 1, 2
MAX_SEED = 2**128 - 1

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def seed_key(seed: int) -> tuple[int, int]:
    """The two 64-bit key words of a root seed; a seed outside [0, 2**128) is refused."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**128), got {seed}")
    seed = int(seed)
    return seed & 0xFFFFFFFFFFFFFFFF, seed >> 64


@intrinsic
def _mulhilo(typingctx, a, b):
    """(high, low) 64-bit words of the 128-bit product a * b (one machine multiply)."""
    signature = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, sig, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        high = builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))
        low = builder.trunc(product, ir.IntType(64))
        return context.make_tuple(builder, sig.return_type, (high, low))

    return signature, codegen


@njit(cache=True)
def philox_block(k0: np.uint64, k1: np.uint64, c0: np.uint64, c1: np.uint64, c2: np.uint64,
                 c3: np.uint64) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """The four 64-bit words Philox-4x64-10 gives for one counter under one key."""
    for _ in range(10):
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = k0 + _W0
        k1 = k1 + _W1
    return c0, c1, c2, c3


@njit(cache=True)
def fill_one(k0: np.uint64, k1: np.uint64, run: np.int64, stream: np.int64, out: np.ndarray) -> None:
    """``out[j]`` = uniform ``j`` of ``stream`` of run ``run`` (one member, one call)."""
    n = out.shape[0]
    r = np.uint64(run)
    for block in range((n + 3) // 4):
        words = philox_block(k0, k1, np.uint64(block), r, np.uint64(stream), np.uint64(0))
        for lane in range(4):
            j = 4 * block + lane
            if j < n:
                out[j] = (words[lane] >> _S11) * _TO_UNIT


@njit(cache=True)
def fill_uniforms(k0: np.uint64, k1: np.uint64, runs: np.ndarray, stream: np.int64,
                  out: np.ndarray) -> None:
    """``out[m, j]`` = uniform ``j`` of ``stream`` of run ``runs[m]``, for a whole block."""
    for m in range(out.shape[0]):
        fill_one(k0, k1, runs[m], stream, out[m])


def uniforms(seed: int, runs, stream: int, count: int) -> np.ndarray:
    """(len(runs), count) uniforms: the first ``count`` numbers of ``stream`` of each run."""
    k0, k1 = seed_key(seed)
    runs = np.ascontiguousarray(np.asarray(runs, dtype=np.int64).reshape(-1))
    out = np.empty((len(runs), int(count)))
    fill_uniforms(np.uint64(k0), np.uint64(k1), runs, np.int64(stream), out)
    return out
