"""Model 3's constants learned from the library, and leave-one-episode-out (issue 20).

Method: a likelihood on a quasi-random design. Each point of a scrambled Sobol design over the
six constants (log-uniform priors, the ranges below) is run on every episode with common random
numbers; each recorded decision's likelihood is the ensemble's share of the recorded option
among the runs that reached it, smoothed as (count + 1/2) / (reached + K/2) so a share of zero
is not called impossible. The posterior over the design points is proportional to the product
of those likelihoods (the prior is the design itself). With 90-odd decisions each evaluation is
cheap and the likelihood is estimated directly, so no summary statistics or tolerance (ABC) nor
a trained density estimator (sbi) is needed; the price is the design's resolution, which the
output states as the effective number of points.

Leave-one-episode-out: for each episode, the posterior from the other episodes' decisions
alone, and that episode's decisions predicted by the posterior mixture of the design points'
shares. Nothing is run again: every fold reuses the same simulations.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from sim.experiments.validate import brier, log_score
from sim.model.constants import PRIORS, Constants
from sim.model.engine import Engine
from sim.model.forecasters import REFERENCE_FORECASTERS, reference_forecasts
from sim.model.scenario import Scenario


@dataclass
class Decision:
    episode: str
    decision: str
    recorded: str
    options: tuple[str, ...]
    default: str  # the option that happens by inaction (the status-quo forecaster's)
    shares: np.ndarray  # (points, options) among the runs that reached it (NaN if none did)
    reached: np.ndarray  # (points,)
    references: dict[str, dict[str, float]]

    def log_likelihood(self) -> np.ndarray:
        k = len(self.options)
        i = self.options.index(self.recorded)
        counts = np.nan_to_num(self.shares[:, i]) * self.reached
        return np.log((counts + 0.5) / (self.reached + 0.5 * k))


@dataclass
class Calibration:
    names: tuple[str, ...]
    points: np.ndarray  # (P, 6), row 0 the constants as set
    decisions: list[Decision]
    runs: int
    seed: int

    def log_likelihood(self, leave_out: str | None = None) -> np.ndarray:
        rows = [d.log_likelihood() for d in self.decisions if d.episode != leave_out]
        return np.sum(rows, axis=0)

    def weights(self, leave_out: str | None = None) -> np.ndarray:
        ll = self.log_likelihood(leave_out)
        w = np.exp(ll - ll.max())
        return w / w.sum()

    def posterior(self) -> list[dict[str, float]]:
        """Per constant: the best point, the posterior mean, sd and 90% interval (log scale)."""
        w = self.weights()
        logs = np.log(self.points)
        best = int(np.argmax(w))
        out = []
        for c, name in enumerate(self.names):
            order = np.argsort(logs[:, c])
            cumulative = np.cumsum(w[order])
            lo, hi = (logs[order, c][min(np.searchsorted(cumulative, q), len(order) - 1)]
                      for q in (0.05, 0.95))
            mean = float((w * logs[:, c]).sum())
            sd = float(math.sqrt(max((w * (logs[:, c] - mean) ** 2).sum(), 0.0)))
            out.append({"constant": name, "best": float(self.points[best, c]),
                        "mean": math.exp(mean), "sd_log": sd, "low_90": math.exp(lo),
                        "high_90": math.exp(hi), "prior_low": PRIORS[name][0],
                        "prior_high": PRIORS[name][1]})
        return out

    def correlations(self) -> np.ndarray:
        w = self.weights()
        logs = np.log(self.points)
        mean = (w[:, None] * logs).sum(axis=0)
        cov = ((logs - mean).T * w) @ (logs - mean)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            return cov / np.outer(sd, sd)

    def effective_points(self, leave_out: str | None = None) -> float:
        w = self.weights(leave_out)
        return float(1.0 / (w ** 2).sum())

    def scores(self, how: str) -> list[dict[str, float]]:
        """Per decision: the model's P(recorded), Brier and log score as set (point 0), fitted
        on all episodes (posterior mixture), or held out (``loeo``), and every reference
        forecaster's."""
        rows = []
        weights = {None: self.weights()}
        for d in self.decisions:
            if how == "as set":
                mix = np.nan_to_num(d.shares[0])
            else:
                key = d.episode if how == "loeo" else None
                if key not in weights:
                    weights[key] = self.weights(key)
                w = weights[key] * (d.reached > 0)
                mix = (np.nan_to_num(d.shares) * w[:, None]).sum(axis=0) / max(w.sum(), 1e-300)
            shares = dict(zip(d.options, mix.tolist()))
            row = {"episode": d.episode, "decision": d.decision, "recorded": d.recorded,
                   "p_recorded": shares[d.recorded], "brier": brier(shares, d.recorded),
                   "log_score": log_score(shares, d.recorded),
                   "brier_uniform": brier({o: 1 / len(d.options) for o in d.options}, d.recorded),
                   "brier_status_quo": brier({o: float(o == d.default) for o in d.options},
                                             d.recorded)}
            for name, forecast in d.references.items():
                row[f"brier_{name}"] = brier(forecast, d.recorded)
            rows.append(row)
        return rows


def design(log2_points: int, seed: int, as_set: Constants) -> np.ndarray:
    """Row 0 the constants as set, then 2**log2_points points of a scrambled Sobol design,
    log-uniform on the priors."""
    from scipy.stats import qmc

    names = [f.name for f in dataclasses.fields(Constants)]
    u = qmc.Sobol(d=len(names), scramble=True, seed=seed).random_base2(log2_points)
    lo = np.log([PRIORS[n][0] for n in names])
    hi = np.log([PRIORS[n][1] for n in names])
    grid = np.exp(lo + (hi - lo) * u)
    return np.vstack([[getattr(as_set, n) for n in names], grid])


def calibrate(episodes: list[Scenario], as_set: Constants, log2_points: int = 8,
              runs: int = 400, seed: int = 20190822, progress=None) -> Calibration:
    names = tuple(f.name for f in dataclasses.fields(Constants))
    grid = design(log2_points, seed, as_set)
    decisions = []
    for scenario in episodes:
        recorded = scenario.recorded_outcome
        scenario = scenario.without_record()
        refs = reference_forecasts(scenario, as_set)
        ids = [d.id for d in scenario.decisions]
        shares = {d: np.full((len(grid), len(scenario.decision(d).options)), np.nan)
                  for d in recorded}
        reached = {d: np.zeros(len(grid)) for d in recorded}
        for j, row in enumerate(grid):
            out = Engine(scenario, Constants(*row)).run(seed, np.arange(runs))
            for d in recorded:
                i = ids.index(d)
                chosen = out.option[:, i][out.status[:, i] == 2]
                reached[d][j] = len(chosen)
                if len(chosen):
                    shares[d][j] = np.bincount(chosen, minlength=shares[d].shape[1]) / len(chosen)
        for d, record in recorded.items():
            decision = scenario.decision(d)
            decisions.append(Decision(scenario.id, d, record.option,
                                      tuple(o.id for o in decision.options), decision.default,
                                      shares[d], reached[d], refs[d]))
        if progress is not None:
            progress(1)
    return Calibration(names, grid, decisions, runs, seed)


SCORED = {"as set": "as set", "fitted": "fitted (all)", "loeo": "held out (LOEO)"}
FORECASTERS = ("model", "status quo", "uniform", "veto players", "w. median", "w. mean")


def scoreboard_lines(rows: list[dict[str, float]]) -> list[tuple[str, float, float]]:
    """(forecaster, mean Brier, decisions) over the rows, in the order of FORECASTERS."""
    out = [("model", float(np.mean([r["brier"] for r in rows])), len(rows)),
           ("status quo", float(np.mean([r["brier_status_quo"] for r in rows])), len(rows)),
           ("uniform", float(np.mean([r["brier_uniform"] for r in rows])), len(rows))]
    for name in REFERENCE_FORECASTERS:
        out.append((name.replace("_", " "), float(np.mean([r[f"brier_{name}"] for r in rows])),
                    len(rows)))
    return out


def report(cal: Calibration) -> str:
    """The calibration as the command prints it: the posterior per constant, its correlations,
    and the scoreboards as set, fitted and left out."""
    lines = [f"{len(cal.points)} design points (row 0: the constants as set) x {cal.runs} runs "
             f"on {len({d.episode for d in cal.decisions})} episodes, {len(cal.decisions)} "
             f"recorded decisions; effective points of the posterior: "
             f"{cal.effective_points():.1f}", ""]
    head = (f"{'constant':<24} {'best':>8} {'post. mean':>10} {'90% interval':>20} "
            f"{'sd(log)':>8} {'prior':>16}")
    lines += [head, "-" * len(head)]
    for p in cal.posterior():
        interval = f"[{p['low_90']:.3g}, {p['high_90']:.3g}]"
        prior = f"[{p['prior_low']:.3g}, {p['prior_high']:.3g}]"
        lines.append(f"{p['constant']:<24} {p['best']:>8.3g} {p['mean']:>10.3g} {interval:>20} "
                     f"{p['sd_log']:>8.2f} {prior:>16}")
    corr = cal.correlations()
    lines += ["", "posterior correlations (log scale)",
              " " * 24 + " ".join(f"{n[:10]:>10}" for n in cal.names)]
    for i, name in enumerate(cal.names):
        lines.append(f"{name:<24}" + " ".join(f"{corr[i, j]:>10.2f}" for j in range(len(cal.names))))
    lines += ["", f"{'mean Brier':<18} " + " ".join(f"{n:>12}" for n in FORECASTERS)]
    for how, label in SCORED.items():
        values = scoreboard_lines(cal.scores(how))
        lines.append(f"{label:<18} " + " ".join(f"{v:>12.3f}" for _, v, _ in values))
    lines += ["", "held out, by episode (mean Brier over its decisions; model vs the best "
              "reference rule)"]
    rows = cal.scores("loeo")
    for episode in sorted({r["episode"] for r in rows}):
        mine = [r for r in rows if r["episode"] == episode]
        model = np.mean([r["brier"] for r in mine])
        best = min((np.mean([r[f"brier_{n}"] for r in mine]), n) for n in REFERENCE_FORECASTERS)
        lines.append(f"  {episode:<36} {len(mine):>2} decisions  model {model:.3f}  "
                     f"{best[1].replace('_', ' ')} {best[0]:.3f}  ESS {cal.effective_points(episode):.1f}")
    return "\n".join(lines)


def as_json(cal: Calibration) -> dict:
    """The calibration as ``diplosim calibrate --json`` prints it and the API's tables hold it:
    the posterior per constant, the correlations, the three scoreboards (every forecaster) and
    the held-out forecast of every decision (with its episode's effective points)."""
    held_out = cal.scores("loeo")
    for row in held_out:
        row["effective_points"] = cal.effective_points(row["episode"])
    corr = cal.correlations()
    return {
        "design_points": len(cal.points), "runs": cal.runs, "seed": cal.seed,
        "episodes": len({d.episode for d in cal.decisions}), "decisions": len(cal.decisions),
        "effective_points": cal.effective_points(), "posterior": cal.posterior(),
        "correlations": [{"constant": a, **{b: float(corr[i, j]) for j, b in enumerate(cal.names)}}
                         for i, a in enumerate(cal.names)],
        "scoreboard": [{"scored": label, "forecaster": name, "mean_brier": value,
                        "decisions": n}
                       for how, label in SCORED.items()
                       for name, value, n in scoreboard_lines(cal.scores(how))],
        "held_out": held_out,
    }
