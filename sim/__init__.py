"""diplosim: an agent-based simulator of diplomatic decisions, on Mesa.

Layers: ``model`` (scenario format, roles, compiled step rules, Mesa agents and model),
``engine`` (ensemble drivers), ``experiments`` (validate, sweep, sensitivity, discovery,
calibration, counterfactuals), ``outputs`` (tables, folders, traces, reports); ``cli`` and
``app`` are thin layers over them.

The Python API (:mod:`sim.api`) is available from the package itself: ``sim.load``,
``sim.run``, ``sim.validate``, ``sim.counterfactual``, ``sim.sweep``, ``sim.sensitivity`` and
``sim.ema_model``. They are imported on first use, so ``import sim`` (and the command line)
stays fast.
"""

from __future__ import annotations

from typing import Any

API = ("load", "run", "story", "validate", "whatif", "counterfactual", "sweep", "sensitivity",
       "discover",
       "ema_model", "Validation")
__all__ = list(API)


def __getattr__(name: str) -> Any:
    if name in API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """``dir(sim)`` lists the API beside the package's own names."""
    return sorted(set(globals()) | set(API))
