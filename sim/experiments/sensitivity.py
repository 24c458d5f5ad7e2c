"""Global sensitivity on Model 3: Sobol first-order and total indices (SALib) of each
decision's outcome shares with respect to every drawn quantity (and, if asked, the constants).

The inputs are :func:`sim.experiments.inputs.model_inputs`: each ranged stake field and effect
magnitude, uniform on its sourced range, and optionally the six constants, log-uniform on the
calibration's prior box (:data:`sim.model.constants.PRIORS`). Saltelli's scheme (SALib's
scrambled Sobol sample, no second order) gives N x (inputs + 2) points; each point fixes the
inputs for all ``members`` members, run on common random numbers (runs 0 .. members - 1), so
the output is a deterministic function of the inputs and an input the decision cannot see gets
indices of exactly 0. The outputs are, per decision, the share of all members ending in the
recorded option when the scenario records one, otherwise in each option (a member that never
reaches the decision counts against every option). SALib estimates the indices with bootstrap
95% intervals (seeded with the same seed).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sim import validation as check
from sim.experiments.inputs import (
    Input, PointRunner, check_cost, model_inputs, outputs_of, unit_to_values,
)
from sim.model.constants import Constants
from sim.model.scenario import Scenario
from sim.validation import MAX_MEMBERS, MAX_SAMPLES

TOP = 15


@dataclass(frozen=True)
class SobolIndices:
    """The indices of one output: P(decision = option) over the Saltelli points."""

    decision: str
    option: str
    recorded: bool
    mean: float  # the output's mean over the points
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray

    @property
    def label(self) -> str:
        return f"P({self.decision} = {self.option})" + (" (recorded)" if self.recorded else "")

    @property
    def constant(self) -> bool:
        return bool(np.all(np.isnan(self.ST)))

    def order(self, top: int) -> np.ndarray:
        return np.argsort(-np.nan_to_num(self.ST, nan=-1.0), kind="stable")[:top]


@dataclass
class SensitivityResult:
    scenario: str
    inputs: list[Input]
    outputs: list[SobolIndices]
    samples: int
    points: int
    members: int
    seed: int
    include_constants: bool

    def indices(self, decision: str, option: str) -> SobolIndices:
        return next(o for o in self.outputs if (o.decision, o.option) == (decision, option))

    def rows(self) -> list[dict[str, Any]]:
        return [{"decision": o.decision, "option": o.option, "recorded": o.recorded,
                 "input": i.key, "actor": i.actor, "field": i.field, "where": i.where,
                 "S1": float(o.S1[j]), "S1_conf": float(o.S1_conf[j]),
                 "ST": float(o.ST[j]), "ST_conf": float(o.ST_conf[j])}
                for o in self.outputs for j, i in enumerate(self.inputs)]

    def frame(self):
        """One row per output and input (pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "samples": self.samples, "points": self.points,
                "members": self.members, "seed": self.seed,
                "include_constants": self.include_constants,
                "outputs": [{"decision": o.decision, "option": o.option,
                             "recorded": o.recorded, "mean": o.mean}
                            for o in self.outputs],
                "indices": self.rows()}

    def text(self, top: int = TOP) -> str:
        lines = []
        for o in self.outputs:
            lines.append(f"{o.label}: mean {o.mean:.3f} over the points")
            if o.constant:
                lines += ["  the same at every point: no variance to apportion", ""]
                continue
            shown = [self.inputs[j] for j in o.order(top)]
            a, f, w = (max(len(t), *(len(getattr(i, t)) for i in shown))
                       for t in ("actor", "field", "where"))
            lines.append(f"  {'actor':<{a}} {'field':<{f}} {'where':<{w}} {'S1':>6} {'+/-':>5} "
                         f"{'ST':>6} {'+/-':>5}")
            for j, i in zip(o.order(top), shown):
                lines.append(f"  {i.actor:<{a}} {i.field:<{f}} {i.where:<{w}} {o.S1[j]:6.3f} "
                             f"{o.S1_conf[j]:5.3f} {o.ST[j]:6.3f} {o.ST_conf[j]:5.3f}")
            lines.append("")
        lines.append(f"Sobol indices (S1 first order, ST total; 95% bootstrap intervals), top "
                     f"{min(top, len(self.inputs))} of {len(self.inputs)} inputs by ST; "
                     f"{self.points:,} Saltelli points (N = {self.samples}) x {self.members} "
                     f"members, seed {self.seed}")
        return "\n".join(lines)


def problem(inputs: list[Input]) -> dict[str, Any]:
    """SALib's problem over the unit cube (each input is scaled from it: see Input.scale)."""
    return {"num_vars": len(inputs), "names": [i.key for i in inputs],
            "bounds": [[0.0, 1.0]] * len(inputs)}


def checked_inputs(scenario: Scenario, constants: Constants, samples: int, members: int,
                   include_constants: bool, allow_large: bool,
                   how: str) -> tuple[list[Input], int]:
    """The inputs and the number of Saltelli points, refused before any run when nothing
    varies, the design is too large, or the work exceeds the cost limit."""
    inputs = model_inputs(scenario, include_constants)
    if not inputs:
        raise check.InvalidArgument(f"no drawn quantity of {scenario.id} has a range; Sobol "
                                    "indices need inputs that vary (try include_constants)")
    points = check.check_design("sobol", samples, 2, len(inputs))
    check_cost("this sensitivity analysis", scenario, constants, points * members,
               include_constants, allow_large, how,
               f"{points:,} Saltelli points x {members:,} members")
    return inputs, points


def sensitivity(scenario: Scenario, constants: Constants, *, samples: int = 64,
                members: int = 100, seed: int, include_constants: bool = False,
                allow_large: bool = False, decision: str | None = None,
                option: str | None = None, progress: Callable[[int], None] | None = None,
                how: str = "allow_large=True") -> SensitivityResult:
    """Sobol indices of every decision's outputs (see the module's description)."""
    samples = check.count("samples", samples, MAX_SAMPLES)
    members, seed = check.count("members", members, MAX_MEMBERS), check.seed(seed)
    outputs = outputs_of(scenario, decision, option)
    inputs, _ = checked_inputs(scenario, constants, samples, members, check.flag(
        "include_constants", include_constants), check.flag("allow_large", allow_large), how)
    unit = saltelli(inputs, samples, seed)
    values = unit_to_values(inputs, unit)
    shares = PointRunner(scenario, constants, inputs, members, seed).shares(values, progress)
    index = {d.id: i for i, d in enumerate(scenario.decisions)}
    results = []
    for d, o, recorded in outputs:
        k = [x.id for x in scenario.decision(d).options].index(o)
        y = shares[index[d]][:, k]
        results.append(sobol_indices(problem(inputs), y, seed, d, o, recorded))
    return SensitivityResult(scenario.id, inputs, results, samples, len(values), members, seed,
                             include_constants)


def saltelli(inputs: list[Input], samples: int, seed: int) -> np.ndarray:
    """Saltelli's points on the unit cube (SALib; N need not be a power of two)."""
    from SALib.sample import sobol

    with warnings.catch_warnings():  # SALib's note that N is not a power of two
        warnings.simplefilter("ignore")
        return sobol.sample(problem(inputs), samples, calc_second_order=False, seed=seed)


def sobol_indices(problem_: dict[str, Any], y: np.ndarray, seed: int, decision: str,
                  option: str, recorded: bool) -> SobolIndices:
    """SALib's indices of ``y``; NaN where ``y`` does not vary (nothing to apportion)."""
    from SALib.analyze import sobol

    if np.ptp(y) == 0:
        nan = np.full(problem_["num_vars"], np.nan)
        return SobolIndices(decision, option, recorded, float(y.mean()), nan, nan, nan, nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sobol.analyze(problem_, y, calc_second_order=False, conf_level=0.95, seed=seed,
                          print_to_console=False)
    return SobolIndices(decision, option, recorded, float(y.mean()), r["S1"], r["S1_conf"],
                        r["ST"], r["ST_conf"])


def write_outputs(result: SensitivityResult, out: str | os.PathLike[str], meta: dict[str, Any],
                  top: int = TOP, *, force: bool = False) -> list[str]:
    """sensitivity.csv, sensitivity.png (bar charts) and manifest.json in ``out``, written
    whole or not at all under the output-folder policy (:mod:`sim.outputs.output_folder`)."""
    from sim.outputs.output_folder import Staging, base_manifest, check as check_folder
    from sim.outputs.output_folder import write_manifest

    with Staging(check_folder(out, "sensitivity", force=force)) as staging:
        result.frame().to_csv(staging / "sensitivity.csv", index=False)
        (staging / "sensitivity.png").write_bytes(chart(result, top))
        write_manifest(staging, {**base_manifest("sensitivity"), **meta,
                                 "files": ["sensitivity.csv", "sensitivity.png"]})
    return ["manifest.json", "sensitivity.csv", "sensitivity.png"]


def chart(result: SensitivityResult, top: int = TOP) -> bytes:
    """One bar chart per output: the top inputs' S1 and ST with their intervals, as PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [o for o in result.outputs if not o.constant] or result.outputs[:1]
    fig, axes = plt.subplots(1, len(shown), figsize=(7 * len(shown), 6), squeeze=False)
    for ax, o in zip(axes[0], shown):
        order = o.order(top)[::-1]
        y = np.arange(len(order))
        ax.barh(y - 0.2, np.nan_to_num(o.S1[order]), 0.4, xerr=np.nan_to_num(o.S1_conf[order]),
                label="first order (S1)")
        ax.barh(y + 0.2, np.nan_to_num(o.ST[order]), 0.4, xerr=np.nan_to_num(o.ST_conf[order]),
                label="total (ST)")
        ax.set_yticks(y, [result.inputs[j].label for j in order], fontsize=7)
        ax.set_title(o.label, fontsize=10)
        ax.set_xlabel("Sobol index (95% interval)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=110)
    finally:
        plt.close(fig)
    return buffer.getvalue()
