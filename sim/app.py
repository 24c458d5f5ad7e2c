"""The teaching page: one library episode at a time, for a student working alone (Model 3).

Left, the inputs: the episode (searchable, by country), the run's controls (Reset, ▶, Step)
and the what-if, one slider per sourced number, grouped by decision then actor, each with its
range, its value and the words it rests on. Right, three tabs: *About this episode* (the
scenario's info and the recorded decisions), *One run, step by step* (where the run is, each
decision as it happens, how likely each option looked at every look, the story so far) and
*What if: many runs* (the episode as sourced beside the what-if, every share over all runs,
the paired differences with their intervals, the recorded outcome marked).

A slider starts "as sourced": its number is drawn across the sourced range in every run, so
before anything is touched the two sides are the same runs and every difference is zero. Moving
it fixes the number; "back to as sourced" releases it. The numbers are
:func:`sim.teaching.comparison`, the call ``diplosim counterfactual`` makes; the
page shows the overlay that asks the same, to run from the command line.

Mesa's model (:class:`sim.model.agents.DiplomacyModel`) carries the run, one moment per
``step()``; the controls are the page's own (Mesa 3.3's ModelController leaves ▶ greyed as
'❚❚' once a run ends). Served by ``diplosim app`` (:mod:`sim.serve`: this machine only).
"""

from __future__ import annotations

import html
import threading
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    import solara
    import solara.lab
    from solara.alias import rv

from sim import teaching as T
from sim.teaching import ReadyWhatIf, ShareRow, SliderSpec, TracedRun
from sim.experiments.whatif import Change
from sim.model import kernel as K
from sim.validation import InvalidArgument

PLAY_INTERVAL_S = 0.35  # between moments while ▶ plays: slow enough to read
MIN_RUNS, MAX_RUNS = 100, 2000
TABS = ("About this episode", "One run, step by step", "What if: many runs")
SOURCED_COLOUR, WHATIF_COLOUR = "#9e9e9e", "#1565c0"
STAR = "\u2605 "  # marks what happened

# -- the state of one student's page (Solara keeps a module's reactives per browser session) ----

episode = solara.reactive(T.DEFAULT_EPISODE)
settings: solara.Reactive[dict] = solara.reactive({})  # the sliders moved: key -> value
ready_id: solara.Reactive[str | None] = solara.reactive(None)  # a ready-made what-if
seed = solara.reactive(T.DEFAULT_SEED)
runs = solara.reactive(T.DEFAULT_RUNS)
model: solara.Reactive[TracedRun | None] = solara.reactive(None)
tick = solara.reactive(0)  # bumped after every moment, so the views redraw
playing = solara.reactive(False)
tab = solara.reactive(0)
problem: solara.Reactive[str | None] = solara.reactive(None)  # why there is no run


def scenario():
    return T.load_episode(episode.value).scenario


def ready() -> ReadyWhatIf | None:
    return next((w for w in T.ready_whatifs(episode.value) if w.id == ready_id.value), None)


def change() -> Change:
    return T.page_change(settings.value, ready())


# -- what the controls do ---------------------------------------------------------------------


def rebuild(run: int = 0) -> None:
    """A fresh traced run (``run`` of the what-if) at its first moment; playing stops."""
    playing.set(False)
    try:
        built, why = TracedRun(scenario(), change(), T.page_constants(), seed.value, run), None
    except ValueError as exc:  # a ready-made what-if the episode does not accept
        built, why = None, str(exc)
    problem.set(why)
    model.set(built)
    tick.set(tick.value + 1)


def step_once() -> None:
    """One moment; after the end of a run, the first moment of the next run."""
    if model.value is None:
        return
    if not model.value.running:
        rebuild(model.value.run_number + 1)
    model.value.step()
    tick.set(tick.value + 1)
    tab.set(1)


def play_pause() -> None:
    if model.value is None:
        return
    if playing.value:
        playing.set(False)
        return
    if not model.value.running:
        rebuild(model.value.run_number + 1)
    playing.set(True)
    tab.set(1)


def reset() -> None:
    rebuild(0)


def choose_episode(name: str | None) -> None:
    if not name or name == episode.value:
        return
    episode.set(name)
    settings.set({})
    ready_id.set(None)
    rebuild(0)


def move(spec: SliderSpec, value: float) -> None:
    """Fix a quantity at the slider's value. The browser's slider may report the value it was
    drawn with (snapped to its grid) without a move: that fixes nothing."""
    shown = settings.value.get(spec.key, spec.middle)
    if abs(float(value) - shown) < spec.step / 2:
        return
    settings.set({**settings.value, spec.key: spec.snap(float(value))})
    rebuild(0)
    tab.set(2)


def release(key: str | None = None) -> None:
    """Back to as sourced: one slider, or all (``key`` None)."""
    settings.set({} if key is None else {k: v for k, v in settings.value.items() if k != key})
    rebuild(0)


def choose_ready(what_if_id: str | None) -> None:
    ready_id.set(what_if_id or None)
    settings.set({})
    rebuild(0)
    tab.set(2)


def set_seed(value: int | None) -> None:
    if value is not None and value >= 0:
        seed.set(int(value))
        rebuild(0)


def play_loop(cancel: threading.Event) -> None:
    """While ▶ is on: one moment every PLAY_INTERVAL_S until the run ends (▶ then shows again)."""
    run = model.value
    while playing.value and run is not None and not cancel.is_set():
        time.sleep(PLAY_INTERVAL_S)
        if cancel.is_set() or not playing.value or model.value is not run:
            return
        run.step()
        tick.set(tick.value + 1)
        if not run.running:
            playing.set(False)


# -- what the page says -------------------------------------------------------------------------


def status_line(run: TracedRun) -> str:
    state = (f"over after {run.moments} moments" if not run.running
             else f"moment {run.moments}")
    return f"Run {run.run_number} of seed {seed.value}: {state} \u00b7 {run.when(run.now_h)}"


def guidance(run: TracedRun, is_playing: bool) -> str:
    n = run.run_number
    if is_playing:
        return f"Playing run {n}\u2026 \u275a\u275a pauses."
    if not run.running:
        return (f"Run {n} is over. Step or \u25b6 starts run {n + 1} (new draws from every "
                "sourced range); Reset goes back to run 0.")
    if run.moments == 0:
        return "Press Step for one moment, or \u25b6 to play this run to its end."
    return "Paused. Step or \u25b6 goes on; Reset starts again from run 0."


def end_labels(spec: SliderSpec) -> list[str]:
    """The range's ends under the slider, one label per position of the grid."""
    inner = round((spec.high - spec.low) / spec.step) - 1
    return [f"{spec.low:g}", *([""] * inner), f"{spec.high:g}"]


def slider_state(spec: SliderSpec, fixed: dict[str, float], ready_: ReadyWhatIf | None) -> str:
    if ready_ is not None and spec.key in ready_.set:
        return f"fixed by the what-if '{ready_.id}' at {ready_.set[spec.key]:g}"
    if spec.key in fixed:
        return f"fixed at {fixed[spec.key]:g} in every run"
    if spec.fixed_by_source:
        return f"given by the source: {spec.low:g}"
    return f"as sourced: drawn from {spec.low:g} to {spec.high:g} in each run"


def overlay_text(name: str, change_: Change, ready_: ReadyWhatIf | None) -> str:
    """The overlay file asking the command line for the same what-if."""
    question = ready_.question if ready_ else "set on the teaching page"
    look_for = (ready_.what_to_look_for if ready_ else
                "the decisions whose shares move between the two sides")
    lines = ["format: diplosim-overlay/3", f"id: {ready_.id if ready_ else 'from_the_page'}",
             f"base: {name}", f"question: \"{question}\"",
             f"what_to_look_for: \"{look_for}\"", "set:" + ("" if change_.set else " {}")]
    for key, value in change_.set.items():
        lines.append(f"  {key}: {{value: {value!r}, note: \"set on the teaching page\"}}")
    lines.append(f"remove_events: [{', '.join(change_.remove_events)}]")
    if change_.remove_elections:
        lines.append(f"remove_elections: [{', '.join(change_.remove_elections)}]")
    return "\n".join(lines)


def share_text(row: ShareRow, side: str) -> str:
    share, (low, high) = (row.base, row.base_ci) if side == "base" else (row.changed, row.changed_ci)
    return f"{share:.3f} [{low:.3f}, {high:.3f}]"


def difference_text(row: ShareRow) -> str:
    mean, low, high = row.difference
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def share_table_html(decision: str, rows: list[ShareRow]) -> str:
    """The numbers, as ``diplosim counterfactual`` prints them (3 decimals, 95% intervals)."""
    head = ("<tr><th>option</th><th>as sourced [95% CI]</th><th>what if [95% CI]</th>"
            "<th>difference [95% CI]</th></tr>")
    body = "".join(
        f"<tr class='dp-row{' dp-recorded' if r.recorded else ''}' data-decision='{decision}' "
        f"data-option='{r.option}'><td>{STAR if r.recorded else ''}{html.escape(r.label)}"
        f" <code>{r.option}</code></td><td class='dp-base'>{share_text(r, 'base')}</td>"
        f"<td class='dp-changed'>{share_text(r, 'changed')}</td>"
        f"<td class='dp-difference'>{difference_text(r)}</td></tr>" for r in rows)
    return f"<table class='dp-table'>{head}{body}</table>"


# -- the charts (ECharts: interactive, and its JavaScript ships with solara-assets) -------------


def _axis_label(row: ShareRow) -> str:
    label = "not reached" if row.option == "not_reached" else row.label
    return (STAR if row.recorded else "") + label


def _difference_span(rows: list[ShareRow]) -> float:
    """The difference axis: symmetric, from the widest interval up to the next 0.1."""
    widest = max([abs(x) for r in rows for x in r.difference[1:]] + [0.05])
    return min(1.0, round(widest + 0.05, 1))


def share_chart(rows: list[ShareRow], runs_: int) -> dict:
    """Left: the share of runs taking each option, as sourced and in the what-if; right: the
    paired difference with its 95% interval (a box from low to high, the line at the mean)."""
    labels = [_axis_label(r) for r in rows][::-1]
    rows, span = rows[::-1], _difference_span(rows)
    bar = {"type": "bar", "barGap": "10%", "label": {"show": True, "position": "right",
                                                      "formatter": "{c}", "fontSize": 12}}
    return {
        "animation": False, "textStyle": {"fontSize": 13},
        "title": [{"text": f"share of the {runs_} runs (\u2605 what happened)", "left": "2%",
                   "textStyle": {"fontSize": 14}},
                  {"text": "what if \u2212 as sourced (95% CI)", "left": "68%",
                   "textStyle": {"fontSize": 14}}],
        "legend": {"top": 26, "left": "2%", "data": ["as sourced", "what if"]},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": [{"left": 250, "right": "36%", "top": 60, "bottom": 30},
                 {"left": "68%", "right": 24, "top": 60, "bottom": 30}],
        "yAxis": [{"type": "category", "data": labels, "gridIndex": 0,
                   "axisLabel": {"width": 230, "overflow": "break", "fontSize": 13,
                                 "lineHeight": 16}},
                  {"type": "category", "data": labels, "gridIndex": 1,
                   "axisLabel": {"show": False}}],
        "xAxis": [{"type": "value", "min": 0, "max": 1, "gridIndex": 0},
                  {"type": "value", "gridIndex": 1, "min": -span, "max": span}],
        "series": [
            {**bar, "name": "as sourced", "color": SOURCED_COLOUR,
             "data": [round(r.base, 3) for r in rows]},
            {**bar, "name": "what if", "color": WHATIF_COLOUR,
             "data": [round(r.changed, 3) for r in rows]},
            {"type": "boxplot", "name": "difference", "xAxisIndex": 1, "yAxisIndex": 1,
             "itemStyle": {"color": "#bbdefb", "borderColor": WHATIF_COLOUR},
             "data": [[round(x, 3) for x in (lo, lo, m, hi, hi)]
                      for m, lo, hi in (r.difference for r in rows)],
             "markLine": {"symbol": "none", "silent": True, "data": [{"xAxis": 0}],
                          "label": {"show": False},
                          "lineStyle": {"color": "#000"}}},
        ],
    }


def _iso(run: TracedRun, hours: float) -> str:
    return run.moment(hours).strftime("%Y-%m-%dT%H:%M")


def _iso_at(run: TracedRun, moment) -> str:
    """An aware moment of the scenario, on the run's clock (its time zone)."""
    return moment.astimezone(run.moment(0).tzinfo).strftime("%Y-%m-%dT%H:%M")


def lean_chart(run: TracedRun, i: int, recorded) -> dict:
    """How likely the deciding actor found each option at each of its looks at decision ``i``,
    with the events so far (dotted), its choice (red) and the recorded one (black, dashed)."""
    d = run.scenario.decisions[i]
    looks = [look for look in run.looks if look.decision == i]
    series = [{"name": o.id, "type": "line", "step": "end", "symbolSize": 8,
               "data": [[_iso(run, look.hours), round(look.probabilities[k], 3)] for look in looks]}
              for k, o in enumerate(d.options)]
    marks = [{"xAxis": _iso(run, h), "name": e, "label": {"show": False},
              "lineStyle": {"color": "#aaa", "type": "dotted"}} for h, e in run.fired]
    m = run.member
    if m.status[i] == K.RESOLVED:
        marks.append(_mark(_iso(run, m.decided[i]), f"run: {d.options[m.option[i]].id}", "#d62728",
                           "solid", "insideEndTop"))
    if recorded is not None:
        marks.append(_mark(_iso_at(run, recorded.time), f"recorded: {recorded.option}",
                           "#000", "dashed", "insideEndBottom"))
    if series:
        series[0]["markLine"] = {"symbol": "none", "data": marks}
    return {
        "animation": False, "textStyle": {"fontSize": 13},
        "title": {"text": f"{d.id}: chance of each option at each look", "left": "center",
                  "textStyle": {"fontSize": 14}},
        "legend": {"top": 24}, "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 30, "top": 64, "bottom": 40},
        "xAxis": {"type": "time", "min": _iso_at(run, d.opens), "max": _iso_at(run, d.deadline)},
        "yAxis": {"type": "value", "min": 0, "max": 1, "name": "chance"},
        "series": series,
    }


def _mark(at: str, label: str, colour: str, kind: str, where: str) -> dict:
    return {"xAxis": at, "name": label, "label": {"formatter": label, "position": where},
            "lineStyle": {"color": colour, "type": kind, "width": 2}}


# -- the page ---------------------------------------------------------------------------------------

CSS = """
.dp-grid { display: grid; grid-template-columns: 400px minmax(0, 1fr); gap: 16px;
           padding: 8px 12px; align-items: start; }
.dp-side, .dp-main { min-width: 0; overflow-wrap: anywhere; }
.dp-side { position: sticky; top: 8px; max-height: calc(100vh - 80px); overflow-y: auto;
           padding-right: 4px; }
.dp-side .v-card, .dp-main .v-card { overflow-wrap: anywhere; }
.dp-slider { border-left: 3px solid #ddd; padding: 4px 0 8px 10px; margin: 6px 0; }
.dp-slider .v-input { margin-bottom: 18px; }
.dp-slider.dp-moved { border-left-color: #1565c0; background: #f3f8fe; }
.dp-slider-state { font-size: 0.9em; color: #333; }
.dp-moved .dp-slider-state { color: #1565c0; font-weight: 600; }
.dp-quote, .dp-note, .dp-slider-state { display: block; }
.dp-quote, .dp-note { font-size: 0.82em; color: #555; line-height: 1.3; margin-top: 2px; }
.dp-note { font-style: italic; }
.dp-who { font-weight: 600; margin-top: 10px; }
.dp-table { border-collapse: collapse; width: 100%; font-size: 0.95em; margin-top: 6px; }
.dp-table th, .dp-table td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }
.dp-table td:not(:first-child) { font-variant-numeric: tabular-nums; white-space: nowrap; }
.dp-recorded td:first-child { font-weight: 600; }
.dp-story { max-height: 360px; overflow-y: auto; font-size: 0.92em; }
.dp-status { font-weight: 600; display: block; }
.dp-guide { display: block; color: #333; margin-top: 4px; }
.dp-overlay { font-size: 0.85em; white-space: pre-wrap; overflow-wrap: anywhere; }
.v-toolbar__title { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.v-select__selection, .v-list-item__title { white-space: normal !important; }
"""


@solara.component
def EpisodePicker():
    items = []
    for country in dict.fromkeys(e.country for e in T.episodes()):
        items.append({"header": country})
        items.extend({"text": e.label, "value": e.name} for e in T.episodes()
                     if e.country == country)
    rv.Autocomplete(label="Episode (type to search: a country, a year, a word)", items=items,
                    v_model=episode.value, on_v_model=choose_episode, class_="dp-episode",
                    menu_props={"maxWidth": 560}, auto_select_first=True)


@solara.component
def Controls():
    tick.value  # redraw after every moment
    run = model.value
    solara.use_thread(play_loop, dependencies=[playing.value, run], intrusive_cancel=False)
    with solara.Card("One run", classes=["dp-controls"]):
        if run is None:
            if problem.value:
                solara.Error(f"This what-if cannot run: {problem.value}")
                solara.Button("Reset", on_click=lambda: choose_ready(None), color="primary")
            else:
                solara.ProgressLinear(True)
            return
        with solara.Row():
            solara.Button("Reset", on_click=reset, color="primary", outlined=True)
            solara.Button("\u275a\u275a" if playing.value else "\u25b6", on_click=play_pause,
                          color="primary")
            solara.Button("Step", on_click=step_once, color="primary", disabled=playing.value)
        solara.Text(status_line(run), classes=["dp-status"])
        solara.Text(guidance(run, playing.value), classes=["dp-guide"])


@solara.component
def QuantitySlider(spec: SliderSpec):
    fixed, ready_ = settings.value, ready()
    moved = spec.key in fixed
    with rv.Html(tag="div", class_=f"dp-slider {'dp-moved' if moved else 'dp-sourced'}",
                 attributes={"data-key": spec.key}):
        with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
            solara.Text(f"{spec.name}: {slider_state(spec, fixed, ready_)}",
                        classes=["dp-slider-state"])
            if moved:
                solara.Button("\u21ba as sourced", text=True, small=True,
                              on_click=lambda: release(spec.key), classes=["dp-release"])
        if not spec.fixed_by_source and not (ready_ and spec.key in ready_.set):
            solara.SliderFloat(spec.name, value=fixed.get(spec.key, spec.middle), min=spec.low,
                               max=spec.high, step=spec.step, on_value=lambda v: move(spec, v),
                               thumb_label=False, tick_labels=end_labels(spec))
        solara.Text(f"{spec.meaning}.", classes=["dp-note"])
        solara.Text(f"\u201c{spec.quote}\u201d \u2014 {spec.source}", classes=["dp-quote"])
        solara.Text(f"How the words became the range: {spec.note}", classes=["dp-note"])


@solara.component
def SliderGroup(group: str, heading: str, by_who: list):
    opened, set_opened = solara.use_state(False)
    moved = sum(1 for _, specs in by_who for s in specs if s.key in settings.value)
    count = sum(len(specs) for _, specs in by_who)
    arrow = "\u25be" if opened else "\u25b8"
    label = f"{arrow} {group} ({count} numbers{f', {moved} fixed' if moved else ''})"
    solara.Button(label, text=True, on_click=lambda: set_opened(not opened),
                  classes=["dp-group"], style={"text-transform": "none", "max-width": "100%"})
    if not opened:
        return
    solara.Text(heading, style={"display": "block", "font-style": "italic"})
    for who, specs in by_who:
        solara.Text(who, classes=["dp-who"], style={"display": "block"})
        for spec in specs:
            QuantitySlider(spec).key(spec.key)


@solara.component
def WhatIfInputs():
    specs = solara.use_memo(lambda: T.slider_specs(scenario()), [episode.value])
    whatifs = T.ready_whatifs(episode.value)
    with solara.Card("What if: the sourced numbers"):
        solara.Markdown("Each number is drawn from its sourced range in every run. **Move a "
                        "slider to fix it**; the *What if* tab compares the two.")
        if whatifs:
            solara.Select("a ready-made what-if", values=["(none)"] + [w.id for w in whatifs],
                          value=ready_id.value or "(none)",
                          on_value=lambda v: choose_ready(None if v == "(none)" else v))
        with solara.Div(style={"margin-bottom": "22px"}):
            solara.SliderInt(f"runs: {runs.value}", value=runs.value, min=MIN_RUNS,
                             max=MAX_RUNS, step=100, on_value=runs.set, tick_labels="end_points")
        solara.InputInt("seed (the same seed gives the same runs)", value=seed.value,
                        on_value=set_seed)
        solara.Button(f"Back to as sourced ({len(settings.value)} fixed)", on_click=release,
                      disabled=not settings.value, outlined=True, classes=["dp-release-all"])
        for group, heading, by_who in T.slider_groups(specs):
            SliderGroup(group, heading, by_who).key(f"{episode.value}:{group}")


@solara.component
def InfoTab():
    s = scenario()
    info = s.info
    if info is not None:
        solara.Markdown(f"### What happened\n{info.what_happened}\n\n### The question\n"
                        f"{info.question}\n\n### What to try\n{info.what_to_try}\n\n"
                        f"### What to look for\n{info.what_to_look_for}")
    solara.Markdown(f"### The decisions\n{' '.join(s.summary.split())}")
    for d in s.decisions:
        DecisionInfo(s, d)


@solara.component
def DecisionInfo(s, d):
    decider = s.actors[d.decider].name if d.decider else "a vote of " + ", ".join(
        s.actors[m.actor].name for m in d.body.members)
    record = s.recorded_outcome.get(d.id)
    options = "\n".join(f"- `{o.id}`: {o.label}" for o in d.options)
    with solara.Card(f"{d.id}: {d.question}", classes=["dp-decision-info"]):
        solara.Markdown(f"Decided by {decider}, between {d.opens:%Y-%m-%d} and "
                        f"{d.deadline:%Y-%m-%d}.\n\n{options}")
        if record is not None:
            solara.Markdown(f"**What happened:** `{record.option}` on {record.time:%Y-%m-%d %H:%M}"
                            f" \u2014 \u201c{' '.join(record.quote.split())}\u201d ({record.source})."
                            f" *{' '.join(record.time_note.split())}*")


@solara.component
def RunTab():
    tick.value
    run = model.value
    if run is None:
        solara.Error(f"No run: {problem.value}") if problem.value else solara.ProgressLinear(True)
        return
    s = scenario()
    solara.Markdown(f"Run {run.run_number} of the what-if: the numbers you fixed, every other "
                    f"number drawn from its sourced range (one of the runs on the *What if* tab).")
    for line in run.just_decided:
        solara.Success(f"Decided just now: {line}", classes=["dp-just-decided"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        for state in T.decision_states(run, s.recorded_outcome):
            with solara.Card(state["id"], classes=["dp-decision"], style={"flex": "1 1 260px"}):
                solara.Text(state["question"], style={"display": "block"})
                solara.Text(f"This run: {state['state']}", classes=["dp-decision-state"],
                            style={"display": "block", "font-weight": "600"})
                solara.Text(f"What happened: {state['recorded']}", style={"display": "block"})
    for i, d in enumerate(run.scenario.decisions):
        solara.FigureEcharts(option=lean_chart(run, i, s.recorded_outcome.get(d.id)),
                             responsive=True, attributes={"style": "height: 300px; width: 100%"})
    with solara.Card("The story so far", classes=["dp-story"]):
        if not run.story:
            solara.Text("Nothing yet: press Step or \u25b6.")
        for n, line in enumerate(run.story, start=1):
            solara.Text(f"{n}. {line}", classes=["dp-story-line"], style={"display": "block"})


@solara.component
def Headline(rows_by_decision: dict):
    clear = T.clear_differences(rows_by_decision)
    if not clear:
        solara.Info("With this what-if no share moves beyond its 95% interval: the change is "
                    "lost in the runs' noise (try the far end of a range, or more runs).",
                    classes=["dp-headline"])
        return
    solara.Success("Where the what-if moves the outcome: " + "; ".join(
        f"{d}: {r.option} {difference_text(r)}" for d, r in clear), classes=["dp-headline"])


@solara.component
def WhatIfTab():
    change_, ready_ = change(), ready()
    try:
        result = T.comparison(episode.value, change_, seed.value, runs.value)
    except InvalidArgument as exc:
        solara.Error(f"This what-if cannot run: {exc}")
        return
    if ready_ is not None:
        solara.Info(f"What if: {ready_.question} Look for: {ready_.what_to_look_for}")
    fixed = ", ".join(f"{k} = {v:g}" for k, v in change_.set.items()) or "nothing"
    removed = f"; events removed: {', '.join(change_.remove_events)}" if change_.remove_events else ""
    solara.Markdown(
        f"**{runs.value} runs, seed {seed.value}.** *As sourced*: every number drawn from its "
        f"range. *What if*: the same runs with **{fixed}** fixed{removed}. Every share counts "
        "all runs (*not reached*: the run never got to the decision), so what if \u2212 as "
        "sourced = the difference." + (" Nothing is fixed yet, so the two sides are the same "
                                       "runs: every difference is 0." if change_.is_empty() else ""))
    rows_by_decision = T.share_rows(scenario(), result)
    if not change_.is_empty():
        Headline(rows_by_decision)
    for decision, rows in rows_by_decision.items():
        with solara.Card(f"{decision}: {scenario().decision(decision).question}",
                         classes=["dp-result"]):
            solara.FigureEcharts(option=share_chart(rows, runs.value), responsive=True,
                                 attributes={"style": f"height: {110 + 60 * len(rows)}px; width: 100%"})
            solara.HTML(unsafe_innerHTML=share_table_html(decision, rows))
    with solara.Card("The same what-if from the command line"):
        solara.Markdown(f"Save this as `whatif.yaml`, then run `diplosim counterfactual "
                        f"whatif.yaml --runs {runs.value} --seed {seed.value}`:")
        solara.HTML(tag="pre", unsafe_innerHTML=html.escape(overlay_text(episode.value, change_, ready_)),
                    classes=["dp-overlay"])


@solara.component
def Page():
    solara.use_effect(lambda: rebuild(0) if model.value is None else None, [])
    s = scenario()
    solara.Style(CSS)
    solara.Title("diplosim")
    with solara.AppBar():
        solara.AppBarTitle(f"diplosim \u2014 {s.country} {s.year}: {' '.join(s.title.split())}")
    with solara.Div(classes=["dp-grid"]):
        with solara.Div(classes=["dp-side"]):
            with solara.Card("Episode"):
                EpisodePicker()
            Controls()
            WhatIfInputs()
        with solara.Div(classes=["dp-main"]):
            if s.info is not None:
                solara.Markdown(f"**{' '.join(s.info.question.split())}** \u2014 *Try:* "
                                f"{' '.join(s.info.what_to_try.split())}",
                                style={"margin": "0 0 8px 0"})
            with solara.lab.Tabs(value=tab.value, on_value=tab.set):
                for i, name in enumerate(TABS):
                    with solara.lab.Tab(name):
                        if tab.value == i:
                            (InfoTab, RunTab, WhatIfTab)[i]()
