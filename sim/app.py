"""The teaching page: one scenario (or counterfactual overlay) at a time, on Mesa's controller.

Pick a scenario or overlay, move the sliders (one per actor parameter that has a sourced range,
bounded by that range, with the quote it rests on under it), press Reset to build the model
with them, then Step or play. Three named tabs: the traced run (where it is, each decision when
it happens, the ensemble's answer at the slider values, and an interactive timeline of state,
utilities, events and decisions); the ensemble's outcome shares with the recorded outcome marked
and that ensemble against the baseline (the scenario as sourced, every parameter drawn across
its range) on common random numbers; and where every range comes from.

Start it with ``diplosim app`` (Solara's app on uvicorn, answering this machine only:
:mod:`sim.serve`); nothing here knows a particular scenario: the choices are the files in
``scenarios/`` and ``scenarios/counterfactuals/``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from functools import cached_property, lru_cache
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
        param = actor.all_parameters()[name]
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
    values compared with the baseline (computed once, when first asked for)."""

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
        self._files = (scenario_file, overlay_file)

    @cached_property
    def comparisons(self) -> list[DecisionComparison]:
        """The ensemble at these settings against the baseline, computed on first use (the page
        asks for it in the background, so Reset returns at once and shows progress)."""
        return ensemble_comparison(*self._files, tuple(sorted(self.settings.items())), self.seed,
                                   self.members)

    @cached_property
    def figures(self) -> tuple[list[bytes], list[bytes]]:
        """Per decision: the outcome bars at these settings, and the paired comparison."""
        return ([ensemble_png(self, c) for c in self.comparisons],
                [compare_png(self, c) for c in self.comparisons])

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


# -- the timeline (an ECharts option: interactive, and its JavaScript ships with solara-assets) -


def timeline_option(model: TeachingModel) -> dict | None:
    """The traced run so far as an ECharts chart (None before the first step): state above,
    the decider's utilities below, on one zoomable time axis, with events (numbered as in
    :func:`event_lines`), the run's decisions and the recorded ones as vertical lines."""
    from sim.outputs.report import traced

    if model.step_index == 0:
        return None
    run = traced(model)
    times = [_when(t) for t in run.times]
    state = [_line(label, values, times, 0) for label, values in run.series.items()]
    utilities = [_line(f"U {label}", values, times, 1) for label, values in run.utilities.items()
                 if any(math.isfinite(v) for v in values)]
    marks = _marks(model, run)
    for group in (state, utilities):
        if group:
            group[0]["markLine"] = {"symbol": "none", "data": marks}
    low, high = run.span if run.span is not None else (run.times[0], run.times[-1])
    axis = {"type": "time", "min": _when(low), "max": _when(high)}
    return {
        "animation": False,
        "title": {"text": f"{model.scenario.id}: run 0 of seed {model.seed}",
                  "left": "center", "textStyle": {"fontSize": 13}},
        "legend": {"type": "scroll", "top": 24},
        "tooltip": {"trigger": "axis"},
        "axisPointer": {"link": [{"xAxisIndex": "all"}]},
        "grid": [{"left": 60, "right": 30, "top": 70, "height": "34%"},
                 {"left": 60, "right": 30, "top": "56%", "height": "28%"}],
        "xAxis": [{**axis, "gridIndex": 0, "axisLabel": {"show": False}},
                  {**axis, "gridIndex": 1, "name": f"date ({run.timezone})".replace(" ()", ""),
                   "nameLocation": "middle", "nameGap": 28}],
        "yAxis": [{"gridIndex": 0, "min": 0, "max": 1, "name": "state (0..1)"},
                  {"gridIndex": 1, "name": "decider's utility", "scale": True}],
        "dataZoom": [{"type": "inside", "xAxisIndex": [0, 1]},
                     {"type": "slider", "xAxisIndex": [0, 1], "bottom": 4, "height": 18}],
        "series": state + utilities,
    }


def event_lines(model: TeachingModel) -> list[str]:
    """The scenario's events inside the clock, numbered as on the timeline."""
    from sim.outputs.report import traced

    return [f"{n}. {moment:%Y-%m-%d %H:%M} {event_id}: {' '.join(text.split())}"
            for n, (moment, event_id, text) in enumerate(traced(model).events, start=1)]


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def _line(label: str, values, times: list[str], axis: int) -> dict:
    data = [[t, round(float(v), 4) if math.isfinite(v) else None] for t, v in zip(times, values)]
    return {"name": label, "type": "line", "step": "end", "showSymbol": False,
            "xAxisIndex": axis, "yAxisIndex": axis, "data": data}


def _marks(model: TeachingModel, run) -> list[dict]:
    """Vertical lines: events (grey, numbered), the run's decisions (red), the record (black)."""
    marks = [{"xAxis": _when(moment), "name": f"{n}. {event_id}",
              "label": {"formatter": str(n), "position": "end"},
              "lineStyle": {"color": "#999", "type": "dotted"}}
             for n, (moment, event_id, _) in enumerate(run.events, start=1)]
    for moment, _, option, by_default in run.decisions:
        how = " (default)" if by_default else ""
        marks.append({"xAxis": _when(moment), "name": f"run: {option}{how}",
                      "label": {"formatter": f"run: {option}{how}", "position": "insideEndTop"},
                      "lineStyle": {"color": "#d62728", "type": "solid", "width": 2}})
    for record in model.recorded.values():
        moment = run.local(record.time)
        marks.append({"xAxis": _when(moment), "name": f"recorded: {record.option}",
                      "label": {"formatter": f"recorded: {record.option}",
                                "position": "insideEndBottom"},
                      "lineStyle": {"color": "#000", "type": "dashed"}})
    return marks


# -- the Solara page ---------------------------------------------------------------------------------

TABS = ("The run and its decision", "The ensemble against the baseline",
        "Where the ranges come from")


def _page():
    """Build the Solara components (imported only when the page is served).

    Mesa's ``SolaraViz`` numbers its tabs ("Page 0", "Page 1") and draws each component in a
    small draggable cell; the page here keeps Mesa's controller (Reset, ▶, Step) and lays out
    named tabs, sliders with their quotes, and full-width cells itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # solara's notice about mesa's use_state
        import solara
        import solara.lab
        from mesa.visualization.solara_viz import ModelController
        from mesa.visualization.utils import update_counter  # bumped by Step, Play and Reset

    @solara.component
    def Pending(model: TeachingModel):
        """What stands in for the ensemble's answer while it is computed."""
        with solara.Div(classes=["diplosim-progress"]):
            solara.ProgressLinear(True)
            solara.Text(f"computing {model.members} runs at these settings and the baseline "
                        "on the same random numbers…")

    @solara.component
    def Decision(model: TeachingModel):
        update_counter.get()  # re-render after every step
        answer = solara.lab.use_task(lambda: probability_lines(model), dependencies=[model])
        with solara.Card("The decision"):
            for line in status_lines(model):
                solara.Text(line, classes=["diplosim-status"], style={"display": "block"})
            solara.Markdown(f"**Ensemble** (its charts: the tab *{TABS[1]}*):")
            if not answer.finished:
                Pending(model)
                return
            for line in answer.value:
                solara.Text(line, classes=["diplosim-probability"], style={"display": "block"})

    @solara.component
    def Timeline(model: TeachingModel):
        update_counter.get()  # re-render after every step
        option = timeline_option(model)
        with solara.Card("Timeline of the traced run"):
            if option is None:
                solara.Markdown("Press **Step** or **▶** to run the model.")
                return
            solara.Markdown("Drag or scroll over the chart to zoom into a day; hover for values; "
                            "click a legend entry to hide its line.")
            with solara.Div(classes=["diplosim-timeline"]):
                solara.FigureEcharts(option=option, responsive=True,
                                     attributes={"style": "height: 520px; width: 100%;"})
            solara.Markdown("**Events** (numbered on the chart):")
            for line in event_lines(model):
                solara.Text(line, classes=["diplosim-event"], style={"display": "block"})

    @solara.component
    def Ensemble(model: TeachingModel):
        figures = solara.lab.use_task(lambda: model.figures, dependencies=[model])
        if not figures.finished:
            Pending(model)
            return
        images, compared = figures.value
        with solara.Columns([2, 3]):
            with solara.Card("Ensemble at these settings"):
                for png in images:
                    solara.Image(png, width="100%", classes=["diplosim-ensemble"])
            with solara.Card("Compared with the baseline"):
                solara.Markdown(
                    "Baseline: the base scenario as sourced, every parameter drawn across its "
                    "range (what `diplosim validate` runs). These settings: the choice, with "
                    "every slider's value fixed in every run. Both on the same random numbers, "
                    "so the difference is paired.")
                for png in compared:
                    solara.Image(png, width="100%")

    @solara.component
    def Sources(model: TeachingModel):
        with solara.Card("Where the slider ranges come from"):
            Fixed(model.choice)
            solara.Markdown(sources_table(model.choice))

    @solara.component
    def Fixed(loaded: LoadedOverlay):
        """The parameters an overlay fixes (they get no slider), with its notes."""
        if loaded.overlay.set:
            solara.Markdown("**Fixed by the overlay:** " + "; ".join(
                f"`{k}` = {s.value} ({' '.join(s.note.split())})" for k, s in loaded.overlay.set.items()))

    @solara.component
    def Slider(spec: SliderSpec, value: float, on_value):
        """A slider with its quote and source right under it (the note as its tooltip)."""
        with solara.Column(gap="0px", classes=["diplosim-slider"]):
            solara.SliderFloat(spec.label, value=value, on_value=on_value, min=spec.low,
                               max=spec.high, step=spec.step)
            with solara.Tooltip(spec.note or spec.source):
                solara.Text(quote_caption(spec), classes=["diplosim-quote"],
                            style={"display": "block", "font-size": "0.8em", "color": "#555",
                                   "margin": "0 0 12px 0", "line-height": "1.3"})

    @solara.component
    def Settings(loaded: LoadedOverlay, specs: list[SliderSpec], params: solara.Reactive[dict]):
        def set_param(name: str, value) -> None:
            params.value = {**params.value, name: value}

        with solara.Card("Settings"):
            solara.InputText("seed", value=str(params.value["seed"]),
                             on_value=lambda v: set_param("seed", v))
            solara.SliderInt("ensemble runs", value=params.value["members"],
                             on_value=lambda v: set_param("members", v), min=100, max=2000, step=100)
            Fixed(loaded)
            solara.Markdown("Each slider stays inside its sourced range; the words it rests on "
                            "are under it (hover them for how they became the range).")
            for spec in specs:
                Slider(spec, params.value[spec.key],
                       lambda v, key=spec.key: set_param(key, v)).key(spec.key)

    @solara.component
    def Viz(choice: Choice, first: TeachingModel):
        """One choice's page: the controls and sliders in the sidebar, the named tabs beside."""
        model = solara.use_reactive(first)
        params = solara.use_reactive(initial_arguments(model_params(choice)))
        play_interval = solara.use_reactive(20)
        render_interval = solara.use_reactive(1)
        use_threads = solara.use_reactive(False)
        tab = solara.use_reactive(0)
        specs = solara.use_memo(lambda: slider_specs(model.value.choice), [choice])
        with solara.Sidebar():
            with solara.Card("Run"):
                solara.Markdown("Move the sliders, then press **Reset** to rebuild the model "
                                "with them; **Step** or **▶** runs it.")
                ModelController(model, model_parameters=params, play_interval=play_interval,
                                render_interval=render_interval, use_threads=use_threads)
            Settings(model.value.choice, specs, params)
        with solara.lab.Tabs(value=tab):
            with solara.lab.Tab(TABS[0]):
                if tab.value == 0:
                    Decision(model.value)
                    Timeline(model.value)
            with solara.lab.Tab(TABS[1]):
                if tab.value == 1:
                    Ensemble(model.value)
            with solara.lab.Tab(TABS[2]):
                if tab.value == 2:
                    Sources(model.value)

    @solara.component
    def Page():
        options = solara.use_memo(choices, [])
        labels = [c.label for c in options]
        picked = solara.use_reactive(labels[0] if labels else "")
        choice = next((c for c in options if c.label == picked.value), None)
        built = solara.use_memo(lambda: build(choice), [picked.value])
        solara.Title("diplosim")
        with solara.AppBar():
            solara.AppBarTitle(f"diplosim: {picked.value}")
        with solara.Sidebar():
            with solara.Card("Scenario"):
                solara.Select("scenario or what-if", values=labels, value=picked)
                if isinstance(built, TeachingModel):
                    solara.Markdown(built.choice.counterfactual.title)
                    if choice.overlay_file:
                        question = " ".join(built.choice.overlay.question.split())
                        solara.Markdown(f"*What if:* {question}")
        if not isinstance(built, TeachingModel):
            solara.Error(built)
            return
        Viz(choice, built).key(picked.value)

    return Page


def quote_caption(spec: SliderSpec) -> str:
    """What stands under a slider: the quote its range rests on, and where it is from."""
    return f"\u201c{spec.quote}\u201d ({spec.source})"


def sources_table(loaded: LoadedOverlay) -> str:
    """Every slider's range, source, quote and note, as a Markdown table."""
    rows = ["| parameter | range | source | quote | how the words became the range |",
            "|:--|:--|:--|:--|:--|"]
    for spec in slider_specs(loaded):
        rows.append(f"| {spec.label} | [{spec.low:g}, {spec.high:g}] | {spec.source} | "
                    f"\"{_cell(spec.quote)}\" | {_cell(spec.note)} |")
    return "\n".join(rows)


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

