"""The compiled ensemble driver: every member of a block run through the same member code.

Each member's random inputs come from (seed, run) alone (:mod:`sim.model.kernel.philox`), so a
block's results do not depend on its size or on which process runs it.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernel.jit import njit
from sim.model.kernel import philox
from sim.model.kernel.member import run_member


@njit(cache=True, nogil=True)
def run_block(k0, k1, runs, values, plan, c, m, status, option, decided, by_default, deadline,
              probe, probed_terms, trajectories, stop) -> None:
    """Run every member of a block through the one member record ``m``.

    ``values`` (members, quantities) are the drawn inputs; the outputs are (members,
    decisions) arrays (``deadline``: each run's own deadline of each decision). ``probe`` (members, decisions) names the step at which to keep each
    decision's utility terms into ``probed_terms`` (members, decisions, terms, options), or has
    no columns; ``trajectories`` is (members, steps, slots), or has no members. ``stop`` (one
    flag) ends the block before its next member once set (an interrupted ensemble).
    """
    flat = m.shocks.reshape(-1)
    no_trajectory = np.zeros((0, m.state.shape[0]))
    probing = probe.shape[1] > 0
    for r in range(runs.shape[0]):
        if stop[0]:
            return
        m.values[:] = values[r]
        philox.fill_one(k0, k1, runs[r], philox.SHOCKS, flat)
        if probing:
            m.probe[:] = probe[r]
        else:
            m.probe[:] = -1
        trajectory = trajectories[r] if trajectories.shape[0] > 0 else no_trajectory
        run_member(m, plan, c, trajectory)
        status[r] = m.status
        option[r] = m.option
        decided[r] = m.decided
        by_default[r] = m.by_default
        deadline[r] = m.window_deadline
        if probing:
            probed_terms[r] = m.terms
