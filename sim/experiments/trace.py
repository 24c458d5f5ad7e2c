"""One traced run of a what-if: a Mesa run, one moment per ``step()``, that is a member of the
ensemble :func:`sim.experiments.whatif.compare` runs (same draws, the change's values fixed),
keeping each look's probabilities, the events and the decisions for the page and the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.experiments.whatif import Change, changed_scenario, paired_values
from sim.formats.common import as_aware
from sim.model import kernel as K
from sim.model.agents import DiplomacyModel
from sim.model.constants import Constants
from sim.model.engine import Engine
from sim.model.scenario import Scenario


def one_line(text: str | None) -> str:
    """``text`` on one line, its runs of whitespace made single spaces (as the page shows it)."""
    return " ".join((text or "").split())


@dataclass(frozen=True)
class Look:
    """A deciding actor's look: when, at which decision, how likely each option was."""

    hours: float
    decision: int
    probabilities: tuple[float, ...]
    taken: int  # the option taken at this look, or -1


class TracedRun(DiplomacyModel):
    """Run ``run`` of the what-if, one moment per ``step()``: the same member the ensemble
    runs (same draws, the change's values fixed), keeping each look for the page's chart."""

    def __init__(self, scenario: Scenario, change: Change, constants: Constants, seed: int,
                 run: int):
        values = run_values(scenario, change, constants, seed, run)
        super().__init__(changed_scenario(scenario, change), constants, seed, run, values)
        self.run_number = run
        self.moments = 0  # moments carried out so far
        self.now_h = 0.0  # the hour of the last one (the clock's start before the first)
        self.looks: list[Look] = []
        self.fired: list[tuple[float, str]] = []  # (hours, event id)
        self.just_decided: list[str] = []  # what the last moment decided, in words

    def tell(self, who: str, i: int, t: float, what: str) -> None:
        """The model's line; a look's line in the student's words, with its chances."""
        super().tell(who, i, t, what)
        if not what.startswith("looks"):
            return
        d = self.scenario.decisions[i]
        p = self.last_odds  # weighed before the look (a look may weigh other decisions)
        taken = int(self.member.last[3])
        self.looks.append(Look(float(t), i, p, taken))
        chances = ", ".join(f"{o.id} {q:.2f}" for k, (o, q) in enumerate(zip(d.options, p))
                            if self.member.available[k])
        why = what[len("looks"):].split(" [")[0].strip()  # the model's own odds come below
        self.story[-1] = (f"{self.when(t)} {who} looks at {d.id}{' ' + why if why else ''} "
                          f"(chances: {chances}): "
                          + (f"takes {d.options[taken].id}" if taken >= 0 else "no move yet"))

    def step(self) -> None:
        """One moment (nothing once the run is over), noting the events and decisions."""
        if not self.running:
            return
        before = self.member.status.copy()
        super().step()
        if not self.running:
            return
        self.moments += 1
        kind, i, t = int(self.member.last[0]), int(self.member.last[1]), self.member.last[2]
        self.now_h = float(t)
        if kind == K.EVENT:
            self.fired.append((float(t), self.scenario.events[i].id))
        self.just_decided = [
            f"{d.id}: {d.options[self.member.option[j]].id} at {self.when(t)}"
            for j, d in enumerate(self.scenario.decisions)
            if before[j] != K.RESOLVED and self.member.status[j] == K.RESOLVED]

    def when(self, hours: float) -> str:
        return f"{self.moment(hours):%Y-%m-%d %H:%M}"


def run_values(scenario: Scenario, change: Change, constants: Constants, seed: int,
               run: int) -> np.ndarray:
    """Run ``run``'s drawn values on the what-if side: exactly those :func:`compare` uses."""
    base, other = Engine(scenario, constants), Engine(changed_scenario(scenario, change), constants)
    members = np.array([run])
    return paired_values(base, other, base.values(seed, members), change.set)[0]


def decision_states(model: TracedRun, recorded: dict[str, Any]) -> list[dict[str, str]]:
    """Per decision: its question, where it stands in the traced run, and what happened."""
    names = {K.WAITING: "not open yet", K.OPEN: "open", K.NOT_REACHED: "not reached"}
    out = []
    for i, d in enumerate(model.scenario.decisions):
        m, record = model.member, recorded.get(d.id)
        status = int(m.status[i])
        if status == K.RESOLVED:
            how = " (by default, at the deadline)" if m.by_default[i] else ""
            state = f"chose {d.options[m.option[i]].id}{how} at {model.when(m.decided[i])}"
        elif status == K.OPEN:
            state = f"open until {model.when(m.window_deadline[i])}"
        else:
            state = names[status]
        out.append({"id": d.id, "question": one_line(d.question), "state": state,
                    "resolved": str(status == K.RESOLVED),
                    "recorded": (f"{record.option} on {as_aware(record.time):%Y-%m-%d %H:%M}"
                                 if record is not None else "nothing recorded")})
    return out
