"""diplosim init: copy the library (records, scenarios, overlays) and the constants out, to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

from sim.commands import common

HELP = "copy the library's episodes, overlays and the constants into a new folder, to edit"
CONSTANTS = ("constants3.yaml", "constants3_as_set.yaml")


def add_arguments(p) -> None:
    p.add_argument("folder", metavar="DIR")


def main(args) -> int:
    from sim.paths import CALIBRATION, LIBRARY, library_scenarios

    target = Path(args.folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        common.say("error", f"{target}: exists and is not an empty folder; expected a new "
                   "folder to copy the library into")
        return 2
    (target / "calibration").mkdir(parents=True, exist_ok=True)
    for name in CONSTANTS:
        shutil.copyfile(CALIBRATION / name, target / "calibration" / name)
    for path in library_scenarios():
        _copy_episode(path.parent, target / "library" / path.parent.name)
    shutil.copyfile(LIBRARY / "README.md", target / "library" / "README.md")
    print(f"copied the library ({len(library_scenarios())} episodes) and the constants to {target}")
    return 0


def _copy_episode(source: Path, episode: Path) -> None:
    episode.mkdir(parents=True)
    for name in ("scenario.yaml", "record.md"):
        if (source / name).is_file():
            shutil.copyfile(source / name, episode / name)
    for folder, pattern in (("counterfactuals", "*.yaml"), ("sources", "*.txt")):
        files = sorted((source / folder).glob(pattern))  # overlays; the sources quoted
        if files:
            (episode / folder).mkdir()
            for path in files:
                shutil.copyfile(path, episode / folder / path.name)
