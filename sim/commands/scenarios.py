"""diplosim scenarios: the library's episodes by country, year and kind, and its overlays."""

from __future__ import annotations

HELP = "list the library's episodes and what-if overlays (name them by folder name)"


def add_arguments(p) -> None:
    pass


def main(args) -> int:
    from sim.formats.common import ScenarioError
    from sim.model.scenario import load_scenario
    from sim.paths import IN_CHECKOUT, LIBRARY, library_scenarios

    rows = []
    for path in library_scenarios():
        try:
            s = load_scenario(path, verify_quotes=False).scenario
            rows.append((s.country, s.year, s.kind, path.parent.name, f"{len(s.decisions)} decisions"))
        except ScenarioError as exc:
            rows.append(("?", 0, "?", path.parent.name, f"does not load: {exc.message}"))
    where = "the project's library/" if IN_CHECKOUT else LIBRARY  # never a machine path in a doc
    print(f"library of recorded decisions in {where}:")
    for country, year, kind, name, what in sorted(rows, key=lambda r: (r[0], r[1], r[3])):
        print(f"  {country:<16} {year:<5} {kind:<18} {name:<36} {what}")
    overlays = sorted(LIBRARY.glob("*/counterfactuals/*.yaml"))
    if overlays:
        print("what-if overlays (diplosim counterfactual NAME):")
        for path in overlays:
            print(f"  {path.stem:<40} on {path.parent.parent.name}")
    print("name one by its folder name (diplosim run gsomia_2019) or copy the library out with "
          "diplosim init DIR")
    return 0
