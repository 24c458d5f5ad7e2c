"""The model as an EMA Workbench model: sourced ranges as uncertainties, outcome shares out.

:func:`ema_model` gives an ``ema_workbench.Model`` whose uncertainties are the scenario's actor
parameters that have a sourced range (each a ``RealParameter`` bounded by that range) and whose
outcomes, per experiment, are each decision's share of runs choosing each option (among the
runs reaching it), the median hours before its deadline of the runs choosing that option, and
the share of runs reaching the decision, over an ensemble of ``members`` runs on common random
numbers (the sweep's :func:`~sim.experiments.sweep.run_points`: the experiment's values fixed,
everything else drawn from its sourced range). So ``perform_experiments(model, scenarios=64)``
is a sweep that EMA's samplers, PRIM and plots work on (``sim.ema_model`` takes a name).

EMA Workbench asks for names that are Python identifiers, so a parameter
``united_states.base_pressure`` is the uncertainty ``united_states__base_pressure``, and the
outcomes are ``share__<decision>__<option>``, ``median_hours__<decision>__<option>`` and
``reached__<decision>``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from sim.model.constants import Constants
from sim.model.draws import varying_actor_parameters
from sim.model.scenario import Scenario

SEPARATOR = "__"


def ema_name(key: str) -> str:
    """An EMA Workbench name for a drawn quantity's key (``actor.parameter``)."""
    return key.replace(".", SEPARATOR)


class EnsembleOutcomes:
    """The function EMA Workbench calls: one experiment's values in, outcome shares out. A
    plain object (picklable), so EMA's multiprocessing evaluator can ship it to workers."""

    def __init__(self, scenario: Scenario, constants: Constants, members: int, seed: int):
        self.scenario = scenario.without_record()
        self.constants = constants
        self.members = members
        self.seed = seed
        self.keys = {ema_name(q.key): q.key for q in varying_actor_parameters(self.scenario)}

    def outcome_names(self) -> list[str]:
        names = []
        for d in self.scenario.decisions:
            names += [f"share{SEPARATOR}{d.id}{SEPARATOR}{o.id}" for o in d.options]
            names += [f"median_hours{SEPARATOR}{d.id}{SEPARATOR}{o.id}" for o in d.options]
            names.append(f"reached{SEPARATOR}{d.id}")
        return names

    def __call__(self, **experiment: float) -> dict[str, float]:
        from sim.experiments.sweep import run_points

        names = [self.keys[name] for name in experiment if name in self.keys]
        point = np.array([[experiment[ema_name(key)] for key in names]], dtype=float)
        columns = run_points(self.scenario, self.constants, names, point, [0], self.members,
                             self.seed)
        out: dict[str, float] = {}
        rows = zip(columns["decision"], columns["option"], columns["share"],
                   columns["median_hours"], columns["reached"])
        for decision, option, share, hours, reached in rows:
            out[f"share{SEPARATOR}{decision}{SEPARATOR}{option}"] = _number(share)
            out[f"median_hours{SEPARATOR}{decision}{SEPARATOR}{option}"] = _number(hours)
            out[f"reached{SEPARATOR}{decision}"] = reached / self.members
        return out


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def ema_model(scenario: Scenario, constants: Constants, members: int = 100, seed: int = 0) -> Any:
    """An ``ema_workbench.Model`` of ``scenario``: see the module's description."""
    with warnings.catch_warnings():  # EMA warns about optional evaluators it cannot offer
        warnings.simplefilter("ignore")
        from ema_workbench import Model, RealParameter, ScalarOutcome

    function = EnsembleOutcomes(scenario, constants, members, seed)
    model = Model(scenario.id.replace("_", ""), function=function)
    model.uncertainties = [RealParameter(ema_name(q.key), q.lo, q.hi)
                           for q in varying_actor_parameters(function.scenario)]
    model.outcomes = [ScalarOutcome(name) for name in function.outcome_names()]
    return model
