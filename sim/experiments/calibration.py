"""Calibration: fitting at most three global constants to recorded decisions, honestly.

The targets file (``calibration/targets.yaml``) names the constants to fit, with prior ranges,
and the recorded decisions to fit them to: for each, the option chosen and a window of hours
before the deadline, each with a source and a quote checked against it. Inference is
likelihood-free (ABC-SMC, pyabc): one simulation of a candidate draws every actor parameter
from its sourced range and runs each episode once; its distance to the record is, per target,
a miss penalty if the option differs and otherwise how far the decision time falls outside the
recorded window on a log(1 + hours) scale. The miss penalty exceeds the largest possible
timing term, so once the tolerance falls below it every accepted simulation chose the recorded
option in every target.

Leave-one-episode-out fits on all but one episode and scores the held-out one by the
posterior predictive ensemble (posterior draws x members on common random numbers), beside
the in-sample fit and the constants as set. This module (with ``validate``) is the only
reader of the record; the model never sees it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import random
import tempfile
from datetime import timedelta
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.model.constants import Constants
from sim.engine.ensemble import VectorEngine
from sim.engine.runner import NOT_REACHED, Ensemble
from sim.model.scenario import (
    Identifier,
    RecordedOutcome,
    ScenarioError,
    Scenario,
    StrictModel,
    Text,
    UnreadableFile,
    as_aware,
    find_sources_root,
    line_for,
    load_referenced_scenario,
    normalise_text,
    parse_model,
    read_source_text,
    read_text_file,
)
from sim.experiments.validate import DecisionScore, recorded_deadline, score
from sim.paths import CALIBRATION
from sim.validation import FileName, Number, Quote

TARGETS_FORMAT = "diplosim-targets/1"
DEFAULT_TARGETS = CALIBRATION / "targets.yaml"
MAX_FITTED = 3
ABC_STREAM = 0xCA1  # mixed with the root seed for pyabc's own draws (proposals, perturbations)


# ---------------------------------------------------------------------------------------------
# The targets file
# ---------------------------------------------------------------------------------------------


class Prior(StrictModel):
    """Uniform prior of one fitted constant, on the natural or the log scale."""

    low: Number = Field(gt=0)
    high: Number = Field(gt=0)
    scale: Literal["linear", "log"]
    why: Text

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must exceed low ({self.low})")
        return self


class Target(StrictModel):
    """A recorded decision: the option chosen and when, as hours before the deadline."""

    option: Identifier
    hours_before_deadline: tuple[Number, Number]
    source: Text
    quote: Quote
    note: Text | None = None

    @field_validator("hours_before_deadline")
    @classmethod
    def _window(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 0 or value[1] < value[0]:
            raise ValueError(f"expected [earliest, latest] with 0 <= earliest <= latest, got {list(value)}")
        return value


class EpisodeSpec(StrictModel):
    scenario: FileName
    targets: dict[Identifier, Target] = Field(min_length=1)


class TargetsFile(StrictModel):
    format: Literal["diplosim-targets/1"]
    fit: dict[str, Prior] = Field(min_length=1)
    episodes: list[EpisodeSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Episode:
    """One recorded episode: its scenario (record removed before any run) and its targets."""

    scenario: Scenario
    file: str
    sha256: str
    targets: dict[str, Target]

    @property
    def id(self) -> str:
        return self.scenario.id


@dataclass(frozen=True)
class Targets:
    file: str
    sha256: str
    fit: dict[str, Prior]
    episodes: list[Episode]

    def episode(self, episode_id: str) -> Episode:
        for episode in self.episodes:
            if episode.id == episode_id:
                return episode
        raise KeyError(episode_id)


def load_targets(path: str | os.PathLike[str] | None = None, sources: str | None = None) -> Targets:
    """Read and check the targets file and every scenario it names; raise ScenarioError."""
    path = Path(path) if path is not None else DEFAULT_TARGETS
    name = str(path)
    text, sha256 = read_text_file(path)
    parsed, _, lines = parse_model(text, name, TargetsFile)

    def fail(where: tuple[Any, ...], message: str) -> ScenarioError:
        return ScenarioError(name, where, line_for(lines, where), message)

    constant_names = [f.name for f in dataclasses.fields(Constants)]
    if len(parsed.fit) > MAX_FITTED:
        raise fail(("fit",), f"at most {MAX_FITTED} constants may be fitted, got {len(parsed.fit)}")
    for constant in parsed.fit:
        if constant not in constant_names:
            raise fail(("fit", constant), f"unknown constant '{constant}'; expected one of {constant_names}")

    root = find_sources_root(path, sources)
    episodes: list[Episode] = []
    for index, spec in enumerate(parsed.episodes):
        where = ("episodes", index)
        scenario_path = (path.parent / spec.scenario)
        if not scenario_path.exists():
            raise fail(where + ("scenario",), f"scenario file '{spec.scenario}' does not exist (relative to {name})")
        loaded = load_referenced_scenario(scenario_path, sources, name, where + ("scenario",), lines,
                                          f"scenario file '{spec.scenario}'")
        scenario = loaded.scenario
        if any(e.id == scenario.id for e in episodes):
            raise fail(where + ("scenario",), f"episode '{scenario.id}' is listed twice")
        for decision_id, target in spec.targets.items():
            at = where + ("targets", decision_id)
            _check_target(scenario, decision_id, target, at, fail)
            if root is not None:
                _check_quote(root, target, at, fail)
        episodes.append(Episode(scenario.without_record(), str(scenario_path), loaded.sha256, dict(spec.targets)))
    return Targets(file=name, sha256=sha256, fit=dict(parsed.fit), episodes=episodes)


def _check_target(scenario: Scenario, decision_id: str, target: Target, at: tuple[Any, ...], fail) -> None:
    """The target names a real decision and option, and agrees with the scenario's record."""
    decisions = [d.id for d in scenario.decisions]
    if decision_id not in decisions:
        raise fail(at, f"scenario '{scenario.id}' has no decision '{decision_id}'; expected one of {decisions}")
    decision = scenario.decision(decision_id)
    options = [o.id for o in decision.options]
    if target.option not in options:
        raise fail(at + ("option",), f"decision '{decision_id}' has no option '{target.option}'; expected one of {options}")
    record = scenario.recorded_outcome.get(decision_id)
    if record is None:
        return
    if record.option != target.option:
        raise fail(at + ("option",), f"disagrees with the scenario's recorded_outcome ('{record.option}')")
    hours = (recorded_deadline(scenario, decision_id) - as_aware(record.time)).total_seconds() / 3600.0
    low, high = target.hours_before_deadline
    if not low <= hours <= high:
        raise fail(
            at + ("hours_before_deadline",),
            f"window [{low}, {high}] does not contain the scenario's recorded time ({hours:g} h before the deadline)",
        )


def _check_quote(root: str, target: Target, at: tuple[Any, ...], fail) -> None:
    try:
        text = read_source_text(root, target.source)
    except UnreadableFile as exc:
        raise fail(at + ("source",), f"source file '{target.source}': {exc.reason}") from None
    if text is None:
        raise fail(at + ("source",), f"source file '{target.source}' does not exist under the sources folder")
    if normalise_text(target.quote) not in normalise_text(text):
        raise fail(at + ("quote",), f"quote not found in '{target.source}': \"{target.quote}\"")


# ---------------------------------------------------------------------------------------------
# Simulation and distance
# ---------------------------------------------------------------------------------------------


def with_constants(base: Constants, values: dict[str, float]) -> Constants:
    return dataclasses.replace(base, **{k: float(v) for k, v in values.items()})


def simulate_decisions(
    episode: Episode, constants: Constants, seed: int, runs: range | list[int]
) -> list[dict[str, object]]:
    """Tidy outcome rows of members ``runs`` of the episode at ``constants`` (vector engine)."""
    engine = VectorEngine(episode.scenario, constants)
    return engine.rows(engine.run(engine.inputs(seed, runs)))


def timing_term(hours: float, window: tuple[float, float]) -> float:
    """How far ``hours`` lies outside ``window`` on the log(1 + hours) scale (0 inside)."""
    low, high = (math.log1p(h) for h in window)
    x = math.log1p(max(hours, 0.0))
    return max(low - x, x - high, 0.0)


def miss_penalty(episodes: list[Episode]) -> float:
    """Larger than the sum of every timing term any simulation can produce."""
    total = 0.0
    for episode in episodes:
        span = (as_aware(episode.scenario.clock.end) - as_aware(episode.scenario.clock.start)).total_seconds() / 3600
        total += len(episode.targets) * math.log1p(span)
    return total + 1.0


def stat_key(episode_id: str, decision_id: str, what: str) -> str:
    return f"{episode_id}/{decision_id}/{what}"


def summary_statistics(episode: Episode, rows: list[dict[str, object]]) -> dict[str, float]:
    """Per target: the chosen option's index (-1 if not reached) and hours before deadline."""
    stats: dict[str, float] = {}
    by_decision = {str(r["decision"]): r for r in rows}
    for decision_id in episode.targets:
        row = by_decision[decision_id]
        options = [o.id for o in episode.scenario.decision(decision_id).options]
        outcome = str(row["outcome"])
        stats[stat_key(episode.id, decision_id, "option")] = (
            -1.0 if outcome == NOT_REACHED else float(options.index(outcome))
        )
        hours = float(row["hours_before_deadline"])  # type: ignore[arg-type]
        stats[stat_key(episode.id, decision_id, "hours")] = -1.0 if math.isnan(hours) else hours
    return stats


def observed_statistics(episodes: list[Episode]) -> dict[str, float]:
    stats: dict[str, float] = {}
    for episode in episodes:
        for decision_id, target in episode.targets.items():
            options = [o.id for o in episode.scenario.decision(decision_id).options]
            stats[stat_key(episode.id, decision_id, "option")] = float(options.index(target.option))
            stats[stat_key(episode.id, decision_id, "hours")] = sum(target.hours_before_deadline) / 2
    return stats


def target_distance(episodes: list[Episode]) -> Callable[[dict, dict], float]:
    """Distance of simulated statistics to the record (the observed dict is only for pyabc)."""
    penalty = miss_penalty(episodes)
    items = [
        (stat_key(e.id, d, "option"), stat_key(e.id, d, "hours"),
         float([o.id for o in e.scenario.decision(d).options].index(t.option)), t.hours_before_deadline)
        for e in episodes for d, t in e.targets.items()
    ]

    def distance(simulated: dict, observed: dict) -> float:
        total = 0.0
        for option_key, hours_key, option, window in items:
            if simulated[option_key] != option:
                total += penalty
            else:
                total += timing_term(float(simulated[hours_key]), window)
        return total

    return distance


# ---------------------------------------------------------------------------------------------
# ABC-SMC with pyabc
# ---------------------------------------------------------------------------------------------


@dataclass
class Generation:
    t: int
    epsilon: float
    particles: int
    simulations: int
    acceptance_rate: float


@dataclass
class Posterior:
    """Weighted posterior samples of the fitted constants, on their natural scale."""

    fitted_on: list[str]
    names: list[str]
    samples: np.ndarray  # particles x constants
    weights: np.ndarray  # sums to 1
    generations: list[Generation] = field(default_factory=list)
    total_simulations: int = 0

    @property
    def label(self) -> str:
        return "+".join(self.fitted_on)

    def effective_sample_size(self) -> float:
        return float(1.0 / np.sum(self.weights**2))

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for j, name in enumerate(self.names):
            x = self.samples[:, j]
            mean = float(np.sum(self.weights * x))
            sd = float(np.sqrt(np.sum(self.weights * (x - mean) ** 2)))
            q05, q50, q95 = weighted_quantiles(x, self.weights, [0.05, 0.5, 0.95])
            out[name] = {"mean": mean, "sd": sd, "q05": q05, "median": q50, "q95": q95}
        return out

    def resample(self, draws: int, seed: int) -> list[dict[str, float]]:
        """``draws`` constants sets drawn by weight (systematic resampling: low variance)."""
        rng = np.random.default_rng(np.random.SeedSequence([seed, ABC_STREAM, 1]))
        positions = (rng.random() + np.arange(draws)) / draws
        index = np.minimum(np.searchsorted(np.cumsum(self.weights), positions), len(self.weights) - 1)
        return [dict(zip(self.names, self.samples[i].tolist())) for i in index]


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: list[float]) -> list[float]:
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order]) - 0.5 * w[order]
    cdf /= np.sum(w)
    return [float(np.interp(q, cdf, x[order])) for q in qs]


@dataclass(frozen=True)
class Budget:
    population: int = 200
    generations: int = 6
    max_simulations: int = 8000
    min_acceptance_rate: float = 0.02


def _quiet_pyabc() -> None:
    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)


def fit(
    targets: Targets,
    episode_ids: list[str],
    constants: Constants,
    seed: int,
    budget: Budget,
    progress: Callable[[int], None] | None = None,
) -> Posterior:
    """ABC-SMC posterior of the fitted constants given the targets of ``episode_ids``.

    Single-core sampler on purpose: pyabc's parallel samplers reseed their workers from the
    operating system, which would break "same seed, same posterior". pyabc's own draws come
    from the global NumPy and ``random`` streams seeded from ``seed``; simulation number k
    uses member k of each episode's seed stream.
    """
    import pyabc

    _quiet_pyabc()
    episodes = [targets.episode(e) for e in episode_ids]
    names = list(targets.fit)
    priors = targets.fit

    def natural(parameters: dict) -> dict[str, float]:
        out = {}
        for name in names:
            if priors[name].scale == "log":
                out[name] = 10.0 ** float(parameters[f"log10_{name}"])
            else:
                out[name] = float(parameters[name])
        return out

    counter = iter(range(10**12))

    def model(parameters: dict) -> dict[str, float]:
        member = next(counter)
        values = with_constants(constants, natural(parameters))
        stats: dict[str, float] = {}
        for episode in episodes:
            stats.update(summary_statistics(episode, simulate_decisions(episode, values, seed, [member])))
        if progress is not None:
            progress(1)
        return stats

    rvs = {}
    for name in names:
        prior = priors[name]
        if prior.scale == "log":
            lo, hi = math.log10(prior.low), math.log10(prior.high)
            rvs[f"log10_{name}"] = pyabc.RV("uniform", lo, hi - lo)
        else:
            rvs[name] = pyabc.RV("uniform", prior.low, prior.high - prior.low)

    state = np.random.SeedSequence([seed, ABC_STREAM]).generate_state(1)[0]
    np.random.seed(int(state))
    random.seed(int(state))
    # The first generation already demands the recorded option in every target (any miss
    # costs the full penalty); later ones shrink the timing tolerance to the median distance.
    first_epsilon = miss_penalty(episodes) - 0.5
    abc = pyabc.ABCSMC(
        model,
        pyabc.Distribution(**rvs),
        target_distance(episodes),
        population_size=budget.population,
        sampler=pyabc.sampler.SingleCoreSampler(),
        eps=pyabc.epsilon.QuantileEpsilon(initial_epsilon=first_epsilon, alpha=0.5),
    )
    with tempfile.TemporaryDirectory(prefix="diplosim-abc-") as folder:
        abc.new("sqlite:///" + os.path.join(folder, "abc.db"), observed_statistics(episodes))
        history = abc.run(
            max_nr_populations=budget.generations,
            max_total_nr_simulations=budget.max_simulations,
            min_acceptance_rate=budget.min_acceptance_rate,
        )
        frame, weights = history.get_distribution()
        populations = history.get_all_populations()
        total = int(history.total_nr_simulations)
    samples = np.column_stack([
        10.0 ** frame[f"log10_{n}"].to_numpy() if priors[n].scale == "log" else frame[n].to_numpy()
        for n in names
    ])
    generations = [
        Generation(
            t=int(row.t),
            epsilon=float(row.epsilon),
            particles=int(row.particles),
            simulations=int(row.samples),
            acceptance_rate=float(row.particles / row.samples) if row.samples else math.nan,
        )
        for row in populations.itertuples()
        if row.t >= 0
    ]
    weights = np.asarray(weights, dtype=float)
    return Posterior(
        fitted_on=list(episode_ids),
        names=names,
        samples=samples,
        weights=weights / weights.sum(),
        generations=generations,
        total_simulations=total,
    )


# ---------------------------------------------------------------------------------------------
# Predictive scores and leave-one-episode-out
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictiveSpec:
    draws: int = 40  # constants sets from the posterior
    members: int = 100  # members per constants set


def predictive_scores(
    episode: Episode,
    constants: Constants,
    constant_sets: list[dict[str, float]],
    seed: int,
    members: int,
) -> list[DecisionScore]:
    """Scores of the episode's targets under the pooled ensemble: constants set k runs members
    k*members ... (k+1)*members - 1, so every fit is scored on the same random numbers."""
    rows: list[dict[str, object]] = []
    for k, values in enumerate(constant_sets):
        block = range(k * members, (k + 1) * members)
        rows.extend(simulate_decisions(episode, with_constants(constants, values), seed, block))
    runs = len(constant_sets) * members
    ensemble = Ensemble(scenario=episode.scenario, seed=seed, runs=runs, rows=rows)
    return score(_scenario_with_targets(episode), ensemble)


def _scenario_with_targets(episode: Episode) -> Scenario:
    """The scenario with its targets as the record, so validate's scores apply unchanged."""
    records = {}
    for decision_id, target in episode.targets.items():
        deadline = as_aware(episode.scenario.decision(decision_id).deadline)
        middle = sum(target.hours_before_deadline) / 2
        records[decision_id] = RecordedOutcome(
            option=target.option,
            time=deadline - timedelta(hours=middle),
            time_note=f"middle of the target window {list(target.hours_before_deadline)} h before the deadline",
            source=episode.scenario.sources[0].id,
            quote=target.quote,
        )
    return episode.scenario.model_copy(update={"recorded_outcome": records})


@dataclass
class LoeoRow:
    episode: str
    decision: str
    fitted_on: str  # "as set", or the episodes the posterior was fitted on
    held_out: bool
    score: DecisionScore


def leave_one_episode_out(
    targets: Targets,
    constants: Constants,
    seed: int,
    budget: Budget,
    predictive: PredictiveSpec,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Posterior], list[LoeoRow]]:
    """Fit on each episode alone and on all but each one; score every episode under the
    constants as set, its in-sample fit and its held-out fit."""
    ids = [e.id for e in targets.episodes]
    fits: dict[tuple[str, ...], Posterior] = {}

    def posterior(on: list[str]) -> Posterior:
        key = tuple(on)
        if key not in fits:
            fits[key] = fit(targets, on, constants, seed, budget, progress)
        return fits[key]

    rows: list[LoeoRow] = []
    for episode in targets.episodes:
        others = [i for i in ids if i != episode.id]
        as_set = predictive_scores(episode, constants, [{}] * predictive.draws, seed, predictive.members)
        variants: list[tuple[str, bool, list[DecisionScore]]] = [("as set", False, as_set)]
        for on, held_out in (([episode.id], False), (others, True)):
            if not on:
                continue
            post = posterior(on)
            sets = post.resample(predictive.draws, seed)
            variants.append((post.label, held_out, predictive_scores(episode, constants, sets, seed, predictive.members)))
        for index in range(len(as_set)):  # one block per decision: as set, in sample, held out
            for label, held_out, scores in variants:
                s = scores[index]
                rows.append(LoeoRow(episode.id, s.decision, label, held_out, s))
    return list(fits.values()), rows


def format_loeo(rows: list[LoeoRow]) -> str:
    """The leave-one-episode-out table: one block per held-out episode and decision."""
    header = (
        f"{'episode':<12} {'decision':<25} {'constants':<24} {'P(recorded)':>11} {'Brier':>6} "
        f"{'log':>7} {'sim h':>7} {'rec h':>6} {'|err| h':>8}"
    )
    lines = [header, "-" * len(header)]
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row.episode, row.decision)
        s = row.score
        if key not in seen and seen:
            lines.append("")
        first = key not in seen
        seen.add(key)
        label = f"{row.fitted_on} (held out)" if row.held_out else (
            row.fitted_on if row.fitted_on == "as set" else f"{row.fitted_on} (in sample)")
        lines.append(
            f"{row.episode if first else '':<12} {row.decision if first else '':<25} {label:<24} "
            f"{s.p_recorded:11.3f} {s.brier:6.3f} {s.log_score:7.2f} "
            f"{s.median_hours_before_deadline:7.1f} {s.recorded_hours_before_deadline:6.1f} "
            f"{s.timing_abs_error_hours:8.1f}"
        )
        if row is _last_of(rows, key):
            sq_err = s.recorded_hours_before_deadline  # status quo acts at the deadline
            lines.append(
                f"{'':<12} {'':<25} {'baseline: status quo':<24} {'':>11} {s.brier_status_quo:6.3f} "
                f"{s.log_score_status_quo:7.2f} {0.0:7.1f} {s.recorded_hours_before_deadline:6.1f} {sq_err:8.1f}"
            )
            lines.append(
                f"{'':<12} {'':<25} {'baseline: uniform':<24} {'':>11} {s.brier_uniform:6.3f} "
                f"{s.log_score_uniform:7.2f} {'-':>7} {'':>6} {'-':>8}"
            )
    lines.append("")
    lines.append(
        "P(recorded): posterior predictive probability of the recorded option (shares among runs "
        "that reached the decision). Brier: multi-category, 0 best, 2 worst. log: natural log of "
        "P(recorded), 0 best. sim h: median hours before the deadline over all runs; rec h: the "
        "middle of the recorded window; |err| h: their difference. Status quo acts at the deadline."
    )
    return "\n".join(lines)


def _last_of(rows: list[LoeoRow], key: tuple[str, str]) -> LoeoRow:
    return [r for r in rows if (r.episode, r.decision) == key][-1]


# ---------------------------------------------------------------------------------------------
# Writing the results
# ---------------------------------------------------------------------------------------------


def posterior_csv(posterior: Posterior) -> str:
    from sim.outputs.results import csv_text

    rows = [[*map(float, sample), float(w)] for sample, w in zip(posterior.samples, posterior.weights)]
    return csv_text([*posterior.names, "weight"], rows)


def posterior_summary(posterior: Posterior, targets: Targets, constants: Constants) -> dict[str, Any]:
    return {
        "fitted_on": posterior.fitted_on,
        "constants": {
            name: {
                "prior": {"low": p.low, "high": p.high, "scale": p.scale},
                "as_set": getattr(constants, name),
                **posterior.summary()[name],
            }
            for name, p in targets.fit.items()
        },
        "particles": int(len(posterior.weights)),
        "effective_sample_size": posterior.effective_sample_size(),
        "total_simulations": posterior.total_simulations,
        "generations": [dataclasses.asdict(g) for g in posterior.generations],
    }


def posterior_plot(posterior: Posterior, targets: Targets, constants: Constants, path: Path) -> None:
    """Weighted marginal histograms of the fitted constants over their prior ranges."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(posterior.names)
    fig, axes = plt.subplots(1, k, figsize=(4.2 * k, 3.4), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes[0], posterior.names)):
        prior = targets.fit[name]
        log = prior.scale == "log"
        edges = (np.geomspace if log else np.linspace)(prior.low, prior.high, 25)
        ax.hist(posterior.samples[:, j], bins=edges, weights=posterior.weights, color="#4477aa",
                alpha=0.8, label="posterior")
        ax.axhline(1.0 / (len(edges) - 1), color="grey", linestyle=":", label="prior")
        ax.axvline(getattr(constants, name), color="#cc3311", linestyle="--", label="as set")
        if log:
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ticks = np.geomspace(prior.low, prior.high, 5)
            ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(prior.low, prior.high)
        ax.set_xlabel(name)
        ax.set_ylabel("posterior mass")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"ABC-SMC posterior, fitted on {posterior.label} "
                 f"({len(posterior.weights)} particles, {posterior.total_simulations} simulations)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _finite_or_text(value: Any) -> Any:
    """Strict JSON: NaN becomes null, infinities the strings "inf" and "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_or_text(v) for k, v in value.items()}
    return value


def loeo_json(rows: list[LoeoRow]) -> list[dict[str, Any]]:
    return [
        _finite_or_text(
            {"episode": r.episode, "decision": r.decision, "fitted_on": r.fitted_on, "held_out": r.held_out,
             **{k: v for k, v in r.score.as_dict().items() if k not in ("scenario", "decision")}}
        )
        for r in rows
    ]


def format_posteriors(posteriors: list[Posterior], targets: Targets, constants: Constants) -> str:
    """One line per fitted constant of each posterior: median and 90% interval vs the prior."""
    lines = [f"{'fitted on':<24} {'constant':<16} {'as set':>7} {'median':>8} {'90% interval':>18} "
             f"{'prior':>16}  particles / ESS / simulations"]
    for posterior in posteriors:
        summary = posterior.summary()
        for j, name in enumerate(posterior.names):
            s, prior = summary[name], targets.fit[name]
            interval = f"[{s['q05']:.3g}, {s['q95']:.3g}]"
            prior_text = f"[{prior.low:g}, {prior.high:g}] {prior.scale}"
            tail = (f"{len(posterior.weights)} / {posterior.effective_sample_size():.0f} / "
                    f"{posterior.total_simulations}") if j == 0 else ""
            lines.append(
                f"{posterior.label if j == 0 else '':<24} {name:<16} {getattr(constants, name):7.3g} "
                f"{s['median']:8.3g} {interval:>18} {prior_text:>16}  {tail}"
            )
    return "\n".join(lines)


def write_results(
    out: str | os.PathLike[str],
    targets: Targets,
    constants: Constants,
    posteriors: list[Posterior],
    loeo: list[LoeoRow] | None,
    meta: dict[str, Any],
    *,
    force: bool = False,
) -> list[str]:
    """Write posterior samples, summaries and plots (and the LOEO table) into ``out``, with a
    manifest listing them.

    The folder is written whole under the output-folder policy (:mod:`sim.outputs.output_folder`):
    staged beside ``out`` and renamed into place, replacing an earlier calibration result, so
    a failure leaves ``out`` as it was."""
    import json

    from sim.outputs.output_folder import Staging, base_manifest, check, write_manifest

    files: list[str] = []
    with Staging(check(out, "calibration", force=force)) as staging:

        def text(name: str, content: str) -> None:
            (staging / name).write_text(content, encoding="utf-8")
            files.append(name)

        for posterior in posteriors:
            stem = f"posterior_{posterior.label}"
            text(f"{stem}.csv", posterior_csv(posterior))
            summary = {**posterior_summary(posterior, targets, constants), **meta}
            text(f"{stem}.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
            posterior_plot(posterior, targets, constants, staging / f"{stem}.png")
            files.append(f"{stem}.png")
        if loeo is not None:
            text("loeo.txt", format_loeo(loeo) + "\n")
            text("loeo.json", json.dumps({"rows": loeo_json(loeo), **meta}, indent=2, sort_keys=True,
                                         default=str) + "\n")
        write_manifest(staging, {**base_manifest("calibration"), **meta, "files": sorted(files)})
    return [*files, "manifest.json"]
