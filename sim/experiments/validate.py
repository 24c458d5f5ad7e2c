"""Comparing simulated decisions with the recorded ones, with scores and naive baselines.

This is the only module (with calibration, later) that reads a scenario's
``recorded_outcome``. For each recorded decision it reports the simulated probability of the
recorded option with a 95% Wilson interval, the modal option, recorded against simulated
timing, and the Brier score beside two naive baselines: "status quo" (all weight on the
option that happens by inaction) and "uniform" (equal weight on every option).

The log score is the natural log of the probability given to the recorded option (0 best,
minus infinity for an outcome called impossible; JSON output writes it, and any other number
that is not finite, as null). The Brier score here is the multi-category one, sum over options of (p - o)^2, from 0
(certain and right) to 2 (certain and wrong). For a decision reached only on some paths (for
example, suspending a termination that may never have been announced), probabilities are
shares among the runs that reached it; ``p_reached`` says how many did.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np

from sim.formats.common import as_aware
from sim.model.constants import Constants
from sim.model.cost import HOW, check_cost
from sim.model.engine import Ensemble
from sim.model.scenario import Scenario


@dataclass(frozen=True)
class DecisionScore:
    scenario: str
    decision: str
    recorded_outcome: str
    p_recorded: float
    ci_low: float
    ci_high: float
    modal_outcome: str
    p_modal: float
    p_reached: float
    runs: int
    recorded_hours_before_deadline: float
    median_hours_before_deadline: float
    q25_hours_before_deadline: float
    q75_hours_before_deadline: float
    timing_abs_error_hours: float
    median_hours_if_recorded_option: float
    brier: float
    brier_status_quo: float
    brier_uniform: float
    log_score: float
    log_score_status_quo: float
    log_score_uniform: float
    shares: dict[str, float]
    path: str = "reached"  # "reached": the runs that reached it; "forced": along the record
    # the reference forecasters of Model 3 (docs/model3.md, M3.7); NaN where not computed
    brier_veto_players: float = math.nan
    log_score_veto_players: float = math.nan
    brier_weighted_median: float = math.nan
    log_score_weighted_median: float = math.nan
    brier_weighted_mean: float = math.nan
    log_score_weighted_mean: float = math.nan

    @property
    def label(self) -> str:
        return self.decision if self.path == "reached" else f"{self.decision} (forced)"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def brier(probabilities: dict[str, float], outcome: str) -> float:
    """Multi-category Brier score: sum over options of (p - 1[option is the outcome])^2."""
    return sum((p - (1.0 if option == outcome else 0.0)) ** 2 for option, p in probabilities.items())


def log_score(probabilities: dict[str, float], outcome: str) -> float:
    """Natural log of the probability given to what happened: 0 best, -inf for "impossible"."""
    p = probabilities.get(outcome, 0.0)
    return math.log(p) if p > 0 else -math.inf


def recorded_decisions(scenario: Scenario) -> list[str]:
    return [d.id for d in scenario.decisions if d.id in scenario.recorded_outcome]


def forced_paths(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """For every recorded decision that follows earlier recorded ones, the scenario with those
    earlier decisions imposed as recorded (option and time): the decision is then reached in
    every run that the record's path allows, and scored on all of them."""
    from sim.formats.common import Imposed

    out = []
    recorded = scenario.recorded_outcome
    for index, decision in enumerate(scenario.decisions):
        earlier = [d for d in scenario.decisions[:index] if d.id in recorded]
        if decision.id not in recorded or decision.after is None or not earlier:
            continue
        imposed = {d.id: d.model_copy(update={"imposed": Imposed(
            option=recorded[d.id].option, time=recorded[d.id].time)}) for d in earlier}
        decisions = [imposed.get(d.id, d) for d in scenario.decisions]
        out.append((decision.id, scenario.model_copy(update={"decisions": decisions})))
    return out


def recorded_deadline(scenario: Scenario, decision_id: str) -> datetime:
    """The decision's deadline on the recorded path: the file's, or for a window counted from
    the earlier decision (``runs_for``, ``resumes``; docs/model.md, M12) the one the record
    gives (the file's deadline while the earlier decision has no record)."""
    decision = scenario.decision(decision_id)
    deadline = as_aware(decision.deadline)
    records = scenario.recorded_outcome
    if decision.after is None or decision.after.decision not in records:
        return deadline
    if decision.runs_for is None and decision.resumes is None:
        return deadline
    hours = decision.runs_for or 0.0
    if decision.resumes is not None and decision.resumes in records:
        left = recorded_deadline(scenario, decision.resumes) - as_aware(
            records[decision.resumes].time)
        hours += max(left.total_seconds() / 3600.0, 0.0)
    return min(deadline, as_aware(records[decision.after.decision].time) + timedelta(hours=hours))


def score(scenario: Scenario, ensemble: Ensemble, only: str | None = None,
          path: str = "reached",
          references: dict[str, dict[str, dict[str, float]]] | None = None) -> list[DecisionScore]:
    """Scores of every recorded decision of ``scenario`` (or only decision ``only``) against
    the ensemble's runs; ``path`` says whether they ran freely or along the record;
    ``references`` (decision -> forecaster -> option -> probability) adds the reference
    forecasters' scores."""
    scores = []
    for decision_id in recorded_decisions(scenario):
        if only is not None and decision_id != only:
            continue
        decision = scenario.decision(decision_id)
        record = scenario.recorded_outcome[decision_id]
        summary = ensemble.summary(decision_id)
        shares = summary.shares
        low, high = summary.interval(record.option)
        q25, median, q75 = summary.hours_quantiles()
        recorded_hours = (
            recorded_deadline(scenario, decision_id) - as_aware(record.time)
        ).total_seconds() / 3600.0
        options = list(summary.options)
        status_quo = {o: 1.0 if o == decision.default else 0.0 for o in options}
        uniform = {o: 1.0 / len(options) for o in options}
        modal = summary.modal_outcome
        hours_if_recorded = summary.hours_for(record.option)
        scores.append(
            DecisionScore(
                scenario=scenario.id,
                decision=decision_id,
                recorded_outcome=record.option,
                p_recorded=shares[record.option],
                ci_low=low,
                ci_high=high,
                modal_outcome=modal,
                p_modal=shares.get(modal, math.nan),
                p_reached=summary.reached / summary.runs if summary.runs else math.nan,
                runs=summary.runs,
                recorded_hours_before_deadline=recorded_hours,
                median_hours_before_deadline=median,
                q25_hours_before_deadline=q25,
                q75_hours_before_deadline=q75,
                timing_abs_error_hours=abs(median - recorded_hours),
                median_hours_if_recorded_option=(
                    float(np.median(hours_if_recorded)) if hours_if_recorded.size else math.nan
                ),
                brier=brier(shares, record.option) if summary.reached else math.nan,
                brier_status_quo=brier(status_quo, record.option),
                brier_uniform=brier(uniform, record.option),
                log_score=log_score(shares, record.option) if summary.reached else math.nan,
                log_score_status_quo=log_score(status_quo, record.option),
                log_score_uniform=log_score(uniform, record.option),
                shares=shares,
                path=path,
                **_reference_scores((references or {}).get(decision_id, {}), record.option),
            )
        )
    return scores


def _reference_scores(forecasts: dict[str, dict[str, float]], outcome: str) -> dict[str, float]:
    out = {}
    for name, probabilities in forecasts.items():
        out[f"brier_{name}"] = brier(probabilities, outcome)
        out[f"log_score_{name}"] = log_score(probabilities, outcome)
    return out


def format_table(scores: list[DecisionScore]) -> str:
    """A plain-text table, one block of lines per decision."""
    w = max([12] + [len(s.scenario) for s in scores])
    header = (
        f"{'scenario':<{w}} {'decision':<34} {'recorded':<22} {'P(recorded) [95% CI]':<22} "
        f"{'modal (share)':<30} {'hours before deadline: rec | sim median [IQR]':<44} "
        f"{'rec-opt':>8} "
        f"{'Brier':>6} {'SQ':>6} {'unif':>6}"
    )
    references = any(not math.isnan(s.brier_veto_players) for s in scores)
    if references:
        header += f" {'VP':>6} {'wMed':>6} {'wMean':>6}"
    lines = [header, "-" * len(header)]
    for s in scores:
        p = f"{s.p_recorded:.3f} [{s.ci_low:.3f}, {s.ci_high:.3f}]"
        modal = f"{s.modal_outcome} ({s.p_modal:.3f})"
        timing = (
            f"{s.recorded_hours_before_deadline:7.1f} | {s.median_hours_before_deadline:7.1f} "
            f"[{s.q25_hours_before_deadline:.1f}, {s.q75_hours_before_deadline:.1f}]"
        )
        lines.append(
            f"{s.scenario:<{w}} {s.label:<34} {s.recorded_outcome:<22} {p:<22} {modal:<30} "
            f"{timing:<44} {s.median_hours_if_recorded_option:8.1f} {s.brier:6.3f} {s.brier_status_quo:6.3f} {s.brier_uniform:6.3f}"
            + (f" {s.brier_veto_players:6.3f} {s.brier_weighted_median:6.3f} "
               f"{s.brier_weighted_mean:6.3f}" if references else "")
        )
        if s.p_reached < 1.0:
            lines.append(
                f"{'':<{w}} {'':<34} reached in {s.p_reached:.1%} of {s.runs} runs "
                "(shares are among those runs)"
            )
    lines.append("")
    lines.append(
        "Brier: multi-category, 0 best, 2 worst. SQ: all weight on the option that happens by "
        "inaction. unif: equal weight on every option. "
        + ("VP, wMed, wMean: the veto-player rule, the weighted median and the weighted mean "
           "(docs/model3.md, M3.7). " if references else "")
        + "Hours: before the decision's deadline; "
        "rec-opt: median over the runs that chose the recorded option. (forced): scored on "
        "runs with the earlier recorded decisions imposed as recorded."
    )
    return "\n".join(lines)


def check_validation(scenario: Scenario, constants: Constants, runs: int,
                     allow_large: bool = False, engine: str = "vector", how: str = HOW) -> float:
    """A scenario's validation: its runs on its own path and on each recorded path (the
    forced paths), within the cost limit, checked before the first of them runs; 0 for a
    scenario with nothing recorded."""
    if not recorded_decisions(scenario):
        return 0.0
    ensembles = 1 + len(forced_paths(scenario))
    return check_cost(f"validating {scenario.id}", scenario, constants, runs * ensembles,
                      allow_large, engine, f"{runs:,} runs x {ensembles} ensembles", how)
