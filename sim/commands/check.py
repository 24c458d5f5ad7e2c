"""diplosim check: validate scenario and overlay files without running them."""

from __future__ import annotations


HELP = "validate scenario files without running them"


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="+", help="library episodes, scenario or overlay files")
    p.add_argument("--sources", help="folder holding the cited source files")


def main(args) -> int:
    from sim import orchestrator

    from sim.formats.yamlmap import printable

    for name in args.scenarios:
        shown = printable(name)
        if _is_overlay(name):
            from sim.experiments.counterfactual import load_overlay

            overlay = load_overlay(name, args.sources)
            print(f"{shown}: ok (an overlay on {overlay.base.id}; its base checked like a "
                  "scenario)")
            continue
        loaded = orchestrator.load(name, args.sources)
        s = loaded.scenario
        quotes = (f"verified against {loaded.sources_root}" if loaded.quotes_verified
                  and loaded.sources_root else "verified" if loaded.quotes_verified
                  else "NOT checked: no sources folder")
        print(f"{shown}: ok (diplosim/3: {len(s.decisions)} decisions, {len(s.actors)} actors, "
              f"{len(s.events)} events; quotes {quotes})")
    return 0


def _is_overlay(path: str) -> bool:
    """Does the file declare an overlay format? (Anything unreadable is left to the loader.)"""
    from sim.formats.common import ScenarioError, read_text_file
    from sim.formats.yamlmap import YamlError, load_with_lines

    try:
        data, _ = load_with_lines(read_text_file(path)[0])
    except (ScenarioError, YamlError, OSError):
        return False
    return isinstance(data, dict) and str(data.get("format", "")).startswith("diplosim-overlay/")
