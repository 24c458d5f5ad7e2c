"""Global sensitivity: Sobol first-order and total indices (SALib) of a decision's outcome
probability and timing with respect to every actor parameter.

Each Saltelli point fixes all actor parameters at the point's values and runs the same members
(common random numbers; event magnitudes keep their sourced ranges), giving two outputs per
point: the share of runs choosing the chosen option, and the median decision time in hours
before the deadline. SALib estimates the indices and their bootstrap 95% intervals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sim.model.constants import Constants
from sim.model.draws import varying_actor_parameters
from sim.engine.ensemble import RESOLVED, VectorEngine
from sim.model.scenario import Scenario


@dataclass(frozen=True)
class SobolResult:
    output: str
    names: list[str]
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray


def sobol_analyze(problem: dict[str, Any], outputs: np.ndarray, seed: int, label: str) -> SobolResult:
    """Sobol indices of ``outputs`` (one per Saltelli point of ``problem``), via SALib."""
    from SALib.analyze import sobol

    if np.ptp(outputs) == 0:  # a constant output has no variance to apportion
        nan = np.full(problem["num_vars"], np.nan)
        return SobolResult(f"{label} (constant: no variance)", list(problem["names"]), nan, nan, nan, nan)
    result = sobol.analyze(
        problem, outputs, calc_second_order=False, conf_level=0.95, seed=seed, print_to_console=False
    )
    return SobolResult(label, list(problem["names"]), result["S1"], result["S1_conf"],
                       result["ST"], result["ST_conf"])


def actor_parameter_problem(scenario: Scenario) -> dict[str, Any]:
    """Every actor parameter with a range (fixed values cannot vary)."""
    quantities = varying_actor_parameters(scenario)
    return {
        "num_vars": len(quantities),
        "names": [q.key for q in quantities],
        "bounds": [[q.lo, q.hi] for q in quantities],
    }


def checked_points(scenario: Scenario, samples: int, members: int, allow_large: bool,
                   how: str) -> int:
    """The Saltelli points ``samples`` gives over the scenario's ranged parameters, refused
    before any is drawn when there are no such parameters or when the work (points x members)
    exceeds the cost limit unless ``allow_large`` (``how`` says how to allow it)."""
    from sim import validation as check

    varying = actor_parameter_problem(scenario)["num_vars"]
    if not varying:
        raise check.InvalidArgument(f"no actor parameter of {scenario.id} is drawn from a "
                                    "range; Sobol indices need parameters that vary")
    points = check.design_size("sobol", samples, 2, varying)
    check.check_work("this sensitivity analysis", points * members, scenario, allow_large, how,
                     f"{points:,} Saltelli points x {members:,} members")
    return points


def sensitivity(
    scenario: Scenario,
    constants: Constants,
    decision_id: str,
    option: str,
    samples: int,
    members: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[SobolResult], int]:
    """Sobol indices of P(option) and of median decision time for ``decision_id``."""
    from SALib.sample import sobol

    problem = actor_parameter_problem(scenario)
    points = sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    engine = VectorEngine(scenario.without_record(), constants)
    base = engine.inputs(seed, range(members))
    i = [d.id for d in engine.decisions].index(decision_id)
    k = engine.option_ids[i].index(option)
    share = np.empty(len(points))
    timing = np.empty(len(points))
    for p, point in enumerate(points):
        outcomes = engine.run(engine.at_point(base, problem["names"], point))
        resolved = outcomes.status[:, i] == RESOLVED
        reached = int(resolved.sum())
        share[p] = ((outcomes.option_index[:, i] == k) & resolved).sum() / reached if reached else 0.0
        hours = outcomes.hours_before_deadline(i)[resolved]
        timing[p] = float(np.median(hours)) if hours.size else 0.0
        if progress is not None:
            progress(1)
    return [
        sobol_analyze(problem, share, seed, f"P({decision_id} = {option})"),
        sobol_analyze(problem, timing, seed, f"median hours before deadline ({decision_id})"),
    ], len(points)


def format_table(results: list[SobolResult], top: int = 15) -> str:
    lines = []
    for r in results:
        lines.append(f"Sobol indices of {r.output} (95% bootstrap intervals), by total index")
        lines.append(f"  {'parameter':<44} {'S1':>7} {'+/-':>6} {'ST':>7} {'+/-':>6}")
        for j in np.argsort(-np.nan_to_num(r.ST, nan=-1.0))[:top]:
            lines.append(f"  {r.names[j]:<44} {r.S1[j]:7.3f} {r.S1_conf[j]:6.3f} {r.ST[j]:7.3f} {r.ST_conf[j]:6.3f}")
        lines.append("")
    return "\n".join(lines)


def write_outputs(results: list[SobolResult], out: str | os.PathLike[str], meta: dict[str, Any],
                  top: int = 15, *, force: bool = False) -> list[str]:
    """sensitivity.csv, sensitivity.png (bar chart) and manifest.json in ``out``, written whole
    or not at all under the output-folder policy (:mod:`sim.outputs.output_folder`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.outputs.output_folder import Staging, base_manifest, check, write_manifest

    with Staging(check(out, "sensitivity", force=force)) as staging:
        rows = ["output,parameter,S1,S1_conf,ST,ST_conf"]
        for r in results:
            for j, name in enumerate(r.names):
                rows.append(f"\"{r.output}\",{name},{r.S1[j]!r},{r.S1_conf[j]!r},{r.ST[j]!r},{r.ST_conf[j]!r}")
        (staging / "sensitivity.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        fig, axes = plt.subplots(1, len(results), figsize=(7 * len(results), 6), squeeze=False)
        for ax, r in zip(axes[0], results):
            order = np.argsort(-np.nan_to_num(r.ST, nan=-1.0))[:top][::-1]
            y = np.arange(len(order))
            ax.barh(y - 0.2, r.S1[order], 0.4, xerr=r.S1_conf[order], label="first order (S1)")
            ax.barh(y + 0.2, r.ST[order], 0.4, xerr=r.ST_conf[order], label="total (ST)")
            ax.set_yticks(y, [r.names[j] for j in order], fontsize=8)
            ax.set_title(r.output, fontsize=10)
            ax.set_xlabel("Sobol index (95% interval)")
            ax.legend(fontsize=8)
        fig.tight_layout()
        try:
            fig.savefig(staging / "sensitivity.png", dpi=110)
        finally:
            plt.close(fig)
        write_manifest(staging, {**base_manifest("sensitivity"), **meta,
                                 "files": ["sensitivity.csv", "sensitivity.png"]})
    return ["manifest.json", "sensitivity.csv", "sensitivity.png"]
