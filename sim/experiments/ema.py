"""Model 3 as an EMA Workbench model: declared inputs in, each option's share per decision out.

:func:`ema_model` gives an ``ema_workbench.Model`` whose uncertainties are the inputs of
:func:`sim.experiments.inputs.model_inputs`: every ranged drawn quantity of the scenario (each
stake's position, salience and clout, each effect magnitude; a ``RealParameter`` bounded by its
sourced range) and, with ``include_constants``, the six constants (a ``RealParameter`` on the
calibration's prior box, :data:`sim.model.constants.PRIORS`; EMA's samplers draw it uniformly
on that box, where ``sensitivity`` and ``discover`` draw it log-uniformly). Its outcomes, per
experiment, are each decision's share of ``members`` runs ending in each option and in
``not_reached`` (the shares of a decision sum to 1), the runs being 0 .. members - 1 of the
seed at every experiment (common random numbers, as a sweep's points). An uncertainty the
experiment does not set keeps each run's own draw (a quantity) or the constants given.

EMA Workbench asks for names that are Python identifiers, so a quantity
``signing.ruling_party.clout`` is the uncertainty ``signing__ruling_party__clout``, a constant
``constant__temperature_decider``, and the outcomes are ``share__<decision>__<option>``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from sim.model.summary import NOT_REACHED
from sim.experiments.inputs import PointRunner, model_inputs
from sim.model.constants import Constants
from sim.model.scenario import Scenario

SEPARATOR = "__"


def ema_name(key: str) -> str:
    """An EMA Workbench name for an input's key (``decision.actor.field``, ``constant.name``)."""
    return key.replace(".", SEPARATOR)


def outcome_name(decision: str, option: str) -> str:
    return f"share{SEPARATOR}{decision}{SEPARATOR}{option}"


class EnsembleOutcomes:
    """The function EMA Workbench calls: one experiment's values in, outcome shares out. A
    plain object (picklable), so EMA's multiprocessing evaluator can ship it to workers."""

    def __init__(self, scenario: Scenario, constants: Constants, members: int, seed: int,
                 include_constants: bool = False):
        self.scenario = scenario.without_record()
        self.constants, self.members, self.seed = constants, members, seed
        self.inputs = model_inputs(self.scenario, include_constants)

    def outcome_names(self) -> list[str]:
        return [outcome_name(d.id, o) for d in self.scenario.decisions
                for o in [*(x.id for x in d.options), NOT_REACHED]]

    def __call__(self, **experiment: float) -> dict[str, float]:
        given = [i for i in self.inputs if ema_name(i.key) in experiment]
        point = np.array([[float(experiment[ema_name(i.key)]) for i in given]])
        runner = PointRunner(self.scenario, self.constants, given, self.members, self.seed)
        out = {}
        for d, shares in zip(self.scenario.decisions, runner.shares(point)):
            for k, option in enumerate([*(x.id for x in d.options), NOT_REACHED]):
                out[outcome_name(d.id, option)] = float(shares[0, k])
        return out


def ema_model(scenario: Scenario, constants: Constants, members: int = 100, seed: int = 0,
              include_constants: bool = False) -> Any:
    """An ``ema_workbench.Model`` of ``scenario``: see the module's description."""
    from sim import validation as check

    members = check.count("members", members, check.MAX_MEMBERS)
    seed, include_constants = check.seed(seed), check.flag("include_constants", include_constants)
    with warnings.catch_warnings():  # EMA warns about optional evaluators it cannot offer
        warnings.simplefilter("ignore")
        from ema_workbench import Model, RealParameter, ScalarOutcome

    function = EnsembleOutcomes(scenario, constants, members, seed, include_constants)
    model = Model(scenario.id.replace("_", ""), function=function)
    model.uncertainties = [RealParameter(ema_name(i.key), i.lo, i.hi) for i in function.inputs]
    model.outcomes = [ScalarOutcome(name) for name in function.outcome_names()]
    return model
