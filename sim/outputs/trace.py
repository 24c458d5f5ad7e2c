"""The story of one run, step by step: agents' key state, events, utilities and the decision."""

from __future__ import annotations

from sim.model.model import DiplomacyModel

SHORT = {
    "opposition": "opp",
    "salience": "sal",
    "threat": "thr",
    "pressure": "prs",
    "coercion": "coer",
    "concession": "conc",
    "pressing": "press",
    "stance": "stance",
}


def trace_lines(model: DiplomacyModel) -> list[str]:
    """Lines of a finished traced run: one per step, events and decisions where they fire."""
    if model.datacollector is None:
        raise ValueError("the model was not built with trace=True")
    columns = model.datacollector.model_vars
    n = len(columns["time"])
    state_keys = [
        k
        for k in columns
        if "." in k and not k.startswith("utility.") and k.split(".", 1)[1] in SHORT
    ]
    story = sorted(model.story, key=lambda item: item[0])
    lines = [
        f"scenario {model.scenario.id}: {n} steps from {columns['time'][0]}",
        "state: " + ", ".join(f"{_label(k)} = {k}" for k in state_keys),
        "",
    ]
    cursor = 0
    for k in range(n):
        start = model.clock.boundaries[k]
        while cursor < len(story) and story[cursor][0] <= start:
            lines.append(f"  >> {story[cursor][1]}")
            cursor += 1
        state = " ".join(f"{_label(key)}={columns[key][k]:.2f}" for key in state_keys)
        utilities = [
            f"{key.split('.', 2)[2]}={columns[key][k]:+.3f}"
            for key in columns
            if key.startswith("utility.") and columns[key][k] == columns[key][k]
        ]
        text = f"{columns['time'][k][:16]}  {state}  lean={columns['lean_away'][k]:.2f}"
        if utilities:
            text += "  U: " + " ".join(utilities)
        lines.append(text)
    for _, message in story[cursor:]:
        lines.append(f"  >> {message}")
    return lines


def _label(key: str) -> str:
    actor, variable = key.split(".", 1)
    words = actor.split("_")
    initials = "".join(w[0] for w in words) if len(words) > 1 else actor[:2]
    return f"{initials.upper()}.{SHORT[variable]}"
