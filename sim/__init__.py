"""diplosim: an agent-based simulator of diplomatic decisions, on Mesa.

Layers, from the ground up: ``formats`` (what every file format shares), ``model`` (the
scenario format, the compiled rules, the Mesa agents and model, the ensemble engine),
``experiments`` (validate, sweep, sensitivity, discovery, calibration, counterfactuals),
``outputs`` (tables, folders, reports), ``orchestrator`` (every experiment's one entry); the
faces ``cli`` (with ``commands``), ``api`` and ``app`` only parse or draw and call it.

The Python API (:mod:`sim.api`) is available from the package itself: ``sim.load``,
``sim.run``, ``sim.story``, ``sim.validate``, ``sim.calibrate``, ``sim.whatif``,
``sim.counterfactual``, ``sim.sweep``, ``sim.sensitivity``, ``sim.discover`` and
``sim.ema_model``. They are imported on first use, so ``import sim`` (and the command line)
stays fast.
"""

from __future__ import annotations

from typing import Any

API = ("load", "run", "story", "validate", "calibrate", "whatif", "counterfactual", "sweep",
       "sensitivity", "discover", "ema_model", "Validation", "Calibration")
__all__ = list(API)


def __getattr__(name: str) -> Any:
    if name in API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """``dir(sim)`` lists the API beside the package's own names."""
    return sorted(set(globals()) | set(API))
