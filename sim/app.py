"""The teaching page: Mesa's SolaraViz over one scenario (or counterfactual overlay) at a time.

Pick a scenario or overlay, move the sliders (one per actor parameter that has a sourced range,
bounded by that range; the quotes are listed beside), press Reset to build the model with them,
then Step or play. The page shows the traced run's timeline with its events and decisions, the
decision when it happens, the outcome shares of an ensemble at the slider values with the
recorded outcome marked, and that ensemble against the baseline (the scenario as sourced, every
parameter drawn across its range) on common random numbers.

Start it with ``diplosim app`` (``solara run sim.app`` underneath); nothing here knows a
particular scenario: the choices are the files in ``scenarios/`` and
``scenarios/counterfactuals/``.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sim.model.constants import load_constants
from sim.experiments.counterfactual import (
    DecisionComparison, LoadedOverlay, Overlay, Setting, compare, load_overlay,
)
from sim.model.constants import Constants
from sim.model.draws import drawn_quantities, draw_values, varying_actor_parameters
from sim.model.model import DiplomacyModel
from sim.model.scenario import as_aware, load_scenario
from sim.paths import SCENARIOS

SCENARIO_DIR = SCENARIOS
OVERLAY_DIR = SCENARIO_DIR / "counterfactuals"
DEFAULT_SEED = 20190822
DEFAULT_MEMBERS = 400
SLIDER_STEPS = 20  # positions per sourced range


# -- what can be chosen ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A scenario file, or an overlay file on top of its base scenario."""

    label: str
    scenario_file: str
    overlay_file: str | None = None


def choices(scenario_dir: Path = SCENARIO_DIR, overlay_dir: Path = OVERLAY_DIR) -> list[Choice]:
    """Every scenario, each followed by the overlays built on it (sorted by file name)."""
    overlays: dict[str, list[Path]] = {}
    for path in sorted(overlay_dir.glob("*.yaml")) if overlay_dir.is_dir() else []:
        base = (path.parent / _overlay_base(path)).resolve()
        overlays.setdefault(str(base), []).append(path)
    out = []
    for path in sorted(scenario_dir.glob("*.yaml")):
        out.append(Choice(path.stem, str(path)))
        for overlay in overlays.get(str(path.resolve()), []):
            out.append(Choice(f"{path.stem} + what if: {overlay.stem}", str(path), str(overlay)))
    return out


def _overlay_base(path: Path) -> str:
    """The overlay's base file name as written ("" when the file cannot be read: the overlay is
    then not offered; ``diplosim check`` or ``counterfactual`` says what is wrong with it).
    Read through the same bounded reader as every other file, so a hostile overlay in the
    folder cannot stall the page."""
    from sim.model.scenario import ScenarioError, read_text_file
    from sim.model.yamlmap import YamlError, load_with_lines

    try:
        text, _ = read_text_file(path)
        data, _ = load_with_lines(text)
    except (ScenarioError, YamlError):
        return ""
    return str(data.get("base", "")) if isinstance(data, dict) else ""


@lru_cache(maxsize=32)
def load_choice(scenario_file: str, overlay_file: str | None) -> LoadedOverlay:
    """The choice as an overlay on its base (a plain scenario is an overlay that changes
    nothing), with the recorded outcome kept on ``base`` for display."""
    if overlay_file:
        return load_overlay(overlay_file)
    base = load_scenario(scenario_file).scenario
    empty = Overlay(format="diplosim-overlay/1", id="as_sourced", base=Path(scenario_file).name,
                    question="The scenario as sourced.", answer="(none)")
    return LoadedOverlay(empty, scenario_file, base, scenario_file, base)


@lru_cache(maxsize=1)
def default_constants() -> Constants:
    return load_constants(None)


# -- sliders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliderSpec:
    """One slider: an actor parameter within its sourced range, with the words behind it."""

    key: str  # "actor.parameter", the model's keyword
    actor: str
    parameter: str
    low: float
    high: float
    source: str
    quote: str
    note: str

    @property
    def label(self) -> str:
        return f"{self.actor}: {self.parameter.replace('_', ' ')}"

    @property
    def step(self) -> float:
        return (self.high - self.low) / SLIDER_STEPS

    @property
    def middle(self) -> float:
        return round(self.low + self.step * (SLIDER_STEPS // 2), 10)


def slider_specs(loaded: LoadedOverlay) -> list[SliderSpec]:
    """A slider for every ranged actor parameter the overlay does not fix."""
    scenario = loaded.counterfactual
    specs = []
    for q in varying_actor_parameters(scenario):
        if q.key in loaded.overlay.set:
            continue
        actor_id, name = q.key.split(".", 1)
        actor = scenario.actors[actor_id]
        param = dict(actor.parameters)[name]
        specs.append(SliderSpec(q.key, actor.name, name, q.lo, q.hi, param.source,
                                " ".join(param.quote.split()), " ".join((param.note or "").split())))
    return specs


def model_params(choice: Choice, seed: int = DEFAULT_SEED, members: int = DEFAULT_MEMBERS) -> dict:
    """SolaraViz's ``model_params``: fixed file names and seed, one float slider per spec."""
    loaded = load_choice(choice.scenario_file, choice.overlay_file)
    params: dict = {
        "scenario_file": choice.scenario_file,
        "overlay_file": choice.overlay_file,
        "seed": {"type": "InputText", "value": str(seed), "label": "seed"},
        "members": {"type": "SliderInt", "value": members, "label": "ensemble runs",
                    "min": 100, "max": 2000, "step": 100},
    }
    for spec in slider_specs(loaded):
        params[spec.key] = {"type": "SliderFloat", "value": spec.middle, "label": spec.label,
                            "min": spec.low, "max": spec.high, "step": spec.step}
    return params


def initial_arguments(params: dict) -> dict:
    """The model's keyword arguments before any slider moves (what Reset would build)."""
    return {k: (v["value"] if isinstance(v, dict) and "type" in v else v) for k, v in params.items()}


# -- the model -------------------------------------------------------------------------------------


class TeachingModel(DiplomacyModel):
    """One traced run of the chosen scenario with the slider values, plus the ensemble at those
    values compared with the baseline (built once, when the model is built)."""

    def __init__(
        self,
        scenario_file: str,
        overlay_file: str | None = None,
        seed: int | str = DEFAULT_SEED,
        members: int = DEFAULT_MEMBERS,
        **kwargs: float,  # "actor.parameter" -> value; Mesa's page checks for the name kwargs
    ):
        settings = kwargs
        self.choice = load_choice(scenario_file, overlay_file)
        self.seed = _seed(seed)
        scenario = self.choice.counterfactual
        known = {q.key for q in drawn_quantities(scenario)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"not parameters of {scenario.id}: {', '.join(unknown)}")
        fixed = {k: s.value for k, s in self.choice.overlay.set.items()}
        self.settings = {**{k: float(v) for k, v in settings.items()}, **fixed}
        constants = default_constants()
        values = draw_values(drawn_quantities(scenario), self.seed, 0)
        values.update(self.settings)
        super().__init__(scenario, constants, values, self.seed, 0, trace=True)
        self.recorded = self.choice.base.recorded_outcome
        self.members = int(members)
        self.comparisons = ensemble_comparison(
            scenario_file, overlay_file, tuple(sorted(self.settings.items())), self.seed,
            self.members)

    def comparison(self, decision_id: str) -> DecisionComparison:
        return next(c for c in self.comparisons if c.decision == decision_id)


def _seed(value: int | str) -> int:
    try:
        seed = int(str(value).strip())
    except ValueError:
        return DEFAULT_SEED
    return seed if seed >= 0 else DEFAULT_SEED


@lru_cache(maxsize=64)
def ensemble_comparison(scenario_file: str, overlay_file: str | None,
                        settings: tuple[tuple[str, float], ...], seed: int,
                        members: int) -> list[DecisionComparison]:
    """The choice with ``settings`` fixed against the base scenario as sourced, on common random
    numbers: exactly what ``diplosim counterfactual`` computes for an overlay setting them."""
    loaded = load_choice(scenario_file, overlay_file)
    merged = {**loaded.overlay.set,
              **{k: Setting(value=v, note="set on the teaching page") for k, v in settings
                 if k not in loaded.overlay.set}}
    with_sliders = dataclasses.replace(loaded, overlay=loaded.overlay.model_copy(update={"set": merged}))
    return compare(with_sliders, default_constants(), seed, members)


# -- what the page shows (plain functions, so tests can call them without a browser) -----------


def probability_lines(model: TeachingModel) -> list[str]:
    """Per decision: the share of ensemble runs choosing the recorded option (or the modal one
    where nothing is recorded), with its interval, at the slider values and in the baseline."""
    from sim.outputs.report import f3, interval3

    lines = []
    for c in model.comparisons:
        record = model.recorded.get(c.decision)
        option = record.option if record is not None else max(c.cf_shares, key=lambda o: c.cf_shares[o] or 0)
        what = "recorded" if record is not None else "modal"
        low, high = c.cf_ci[option]
        diff, dlow, dhigh = c.difference[option]
        lines.append(
            f"{c.decision}: P({option}, {what}) = {f3(c.cf_shares[option])} {interval3(low, high)}"
            f" at these settings; baseline {f3(c.base_shares[option])};"
            f" difference {diff:+.3f} [{dlow:+.3f}, {dhigh:+.3f}] ({model.members} runs, seed {model.seed})"
        )
    return lines


def status_lines(model: TeachingModel) -> list[str]:
    """Where the traced run is, and each decision as it stands in that run."""
    now = model.moment(float(model.clock.boundaries[model.step_index]))  # the step's start, or the end
    lines = [f"Step {model.step_index} of {model.clock.n_steps}: {now:%Y-%m-%d %H:%M %Z}"]
    for d in model.decisions:
        record = model.recorded.get(d.id)
        rec = (f"; recorded: {record.option} at {as_aware(record.time):%Y-%m-%d %H:%M}"
               if record is not None else "")
        if d.status == "resolved":
            how = " (by default, at the deadline)" if d.by_default else ""
            state = (f"decided {d.outcome}{how} at {model.moment(d.decided_h):%Y-%m-%d %H:%M}, "
                     f"{d.deadline_h - d.decided_h:.1f} h before the deadline")
        elif d.status == "not_reached":
            state = "not reached"
        else:
            state = d.status
        lines.append(f"{d.id}: {state}{rec}")
    return lines


def timeline_png(model: TeachingModel) -> bytes | None:
    """The traced run so far (None before the first step)."""
    from sim.outputs.report import timeline_plot, traced

    if model.step_index == 0:
        return None
    recorded = [(as_aware(r.time).astimezone(model.clock.start.tzinfo).replace(tzinfo=None), r.option)
                for r in model.recorded.values()]
    return timeline_plot(traced(model), recorded, f"{model.scenario.id}: run 0 of seed {model.seed}")


def ensemble_png(model: TeachingModel, c: DecisionComparison) -> bytes:
    from sim.outputs.report import outcome_bars

    record = model.recorded.get(c.decision)
    options = list(c.options)
    return outcome_bars(options, [c.cf_shares[o] for o in options], [c.cf_ci[o] for o in options],
                        record.option if record is not None else None,
                        f"{c.decision}: {model.members} runs at these settings (95% CI)")


def compare_png(model: TeachingModel, c: DecisionComparison) -> bytes:
    from sim.experiments.counterfactual import as_json
    from sim.outputs.report import counterfactual_plot, json_safe

    return counterfactual_plot(json_safe(as_json([c])[0]), f"{c.decision}: baseline vs these settings")


# -- the Solara page ---------------------------------------------------------------------------------


def _page():
    """Build the Solara components (imported only when the page is served)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # solara's notice about mesa's use_state
        import solara
        from mesa.visualization import SolaraViz
        from mesa.visualization.utils import update_counter  # bumped by Step, Play and Reset

    def Cell(title: str):
        """A card filling its grid cell, scrolling when the content is taller (cells resize)."""
        return solara.Card(title, style={"height": "100%", "overflow": "auto"})

    @solara.component
    def Decision(model: TeachingModel):
        update_counter.get()  # re-render after every step
        with Cell("The decision"):
            for line in status_lines(model):
                solara.Text(line, classes=["diplosim-status"], style={"display": "block"})
            solara.Markdown("**Ensemble** (page 1 shows the charts):")
            for line in probability_lines(model):
                solara.Text(line, classes=["diplosim-probability"], style={"display": "block"})

    @solara.component
    def Timeline(model: TeachingModel):
        update_counter.get()  # re-render after every step
        png = timeline_png(model)
        with Cell("Timeline of the traced run"):
            if png is None:
                solara.Markdown("Press **Step** or **▶** to run the model.")
            else:
                solara.Image(png, width="100%", classes=["diplosim-timeline"])

    @solara.component
    def Ensemble(model: TeachingModel):
        update_counter.get()  # re-render after every step
        images = solara.use_memo(lambda: [ensemble_png(model, c) for c in model.comparisons], [model])
        with Cell("Ensemble at these settings"):
            for png in images:
                solara.Image(png, width="100%", classes=["diplosim-ensemble"])

    @solara.component
    def Compare(model: TeachingModel):
        update_counter.get()  # re-render after every step
        images = solara.use_memo(lambda: [compare_png(model, c) for c in model.comparisons], [model])
        with Cell("Compare with baseline"):
            solara.Markdown(
                "Baseline: the base scenario as sourced, every parameter drawn across its range "
                "(what `diplosim validate` runs). These settings: the choice, with every slider's "
                "value fixed in every run. Both on the same random numbers, so the difference "
                "is paired.")
            for png in images:
                solara.Image(png, width="100%")

    @solara.component
    def Sources(model: TeachingModel):
        update_counter.get()  # re-render after every step
        loaded = model.choice
        with Cell("Where the slider ranges come from"):
            if loaded.overlay.set:
                solara.Markdown("**Fixed by the overlay:** " + "; ".join(
                    f"`{k}` = {s.value} ({' '.join(s.note.split())})" for k, s in loaded.overlay.set.items()))
            rows = ["| parameter | range | source | quote | how the words became the range |",
                    "|---|---|---|---|---|"]
            for spec in slider_specs(loaded):
                rows.append(f"| {spec.label} | [{spec.low:g}, {spec.high:g}] | {spec.source} | "
                            f"\"{_cell(spec.quote)}\" | {_cell(spec.note)} |")
            solara.Markdown("\n".join(rows))

    @solara.component
    def Page():
        options = solara.use_memo(choices, [])
        labels = [c.label for c in options]
        picked = solara.use_reactive(labels[0] if labels else "")
        choice = next((c for c in options if c.label == picked.value), None)
        built = solara.use_memo(lambda: build(choice), [picked.value])
        with solara.Sidebar():
            with solara.Card("Scenario"):
                solara.Select("scenario or what-if", values=labels, value=picked)
                if isinstance(built, TeachingModel):
                    solara.Markdown(built.choice.counterfactual.title)
                    if choice.overlay_file:
                        question = " ".join(built.choice.overlay.question.split())
                        solara.Markdown(f"*What if:* {question}")
                solara.Markdown("Move the sliders, then press **Reset** to rebuild the model with "
                                "them; **Step** or **▶** runs it. Page 0: the decision, the traced "
                                "run and where each slider's range comes from; page 1: the "
                                "ensemble and the comparison with the baseline.")
        if not isinstance(built, TeachingModel):
            solara.Error(built)
            return
        model = built
        SolaraViz(
            model,
            components=[(Decision, 0), (Timeline, 0), (Sources, 0), (Ensemble, 1), (Compare, 1)],
            model_params=model_params(choice),
            name=f"diplosim: {choice.label}",
            play_interval=20,
        ).key(picked.value)

    return Page


def build(choice: Choice | None) -> TeachingModel | str:
    """The page's first model for ``choice``, or the message saying why there is none (a
    malformed file is reported on the page as the command line reports it)."""
    from sim.model.scenario import ScenarioError

    if choice is None:
        return f"no scenario files found in {SCENARIO_DIR}"
    try:
        return TeachingModel(**initial_arguments(model_params(choice)))
    except ScenarioError as error:
        return f"cannot load {choice.label}: {error}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def __getattr__(name: str):
    """``solara run sim.app`` looks for ``Page``; it is built on first use."""
    if name == "Page":
        page = _page()
        globals()["Page"] = page
        return page
    raise AttributeError(name)

