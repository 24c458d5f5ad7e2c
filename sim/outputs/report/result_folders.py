"""Writing the folders that exist to be reported: ``validate --report DIR`` (scores, the runs
of every scenario and the report) and ``counterfactual --out DIR`` (the comparison), each
under the output-folder policy and written whole or not at all."""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sim.formats.common import LoadedScenario


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _json_text(value: Any) -> str:
    return json.dumps(json_safe(value), indent=2, sort_keys=False, allow_nan=False) + "\n"


def check_output_folder(out: str | os.PathLike[str], kind: str, *, force: bool = False,
                        flag: str = "--out") -> Any:
    """The output-folder policy (:func:`sim.outputs.output_folder.check`) for a ``kind`` folder given
    by ``flag``: a new or empty folder, or an earlier result of that kind (another kind only
    with ``force``); anything else is refused, so a mistyped DIR cannot wipe what it holds.
    Returns the checked :class:`sim.outputs.output_folder.Target`."""
    from sim.outputs.output_folder import Where, check

    return check(out, kind, force=force, where=Where.flag(out, flag))


def _staged(out: Path, kind: str, fill: Callable[[Path], list[str]], *, force: bool = False,
            flag: str = "--out") -> list[str]:
    """Fill a staging folder beside ``out`` and rename it into place; on error, remove it."""
    from sim.outputs.output_folder import Staging

    with Staging(check_output_folder(out, kind, force=force, flag=flag)) as staging:
        return fill(staging)


def _base_manifest(kind: str) -> dict[str, Any]:
    from sim.outputs.output_folder import base_manifest

    return base_manifest(kind)


@dataclass(frozen=True)
class ValidatedScenario:
    """One scenario's ensemble as ``diplosim validate`` ran it."""

    loaded: LoadedScenario
    constants: Any
    ensemble: Any
    engine: str
    wall_time_s: float


def _write_runs(staging: Path, item: ValidatedScenario, seed: int, runs: int) -> dict[str, str]:
    """One scenario's runs (and a copy of its file, where the report finds the record) under
    ``runs/<scenario>/``; returns its entry in the validation manifest."""
    from sim.outputs.results import ResultWriter, run_manifest

    e, loaded = item.ensemble, item.loaded
    folder = Path("runs") / loaded.scenario.id
    with ResultWriter(staging / folder, loaded.scenario.id, e.draw_keys) as writer:
        draws = np.asarray(e.draws, dtype=float).reshape(len(e.run_ids), len(e.draw_keys))
        writer.add(e.rows, e.run_ids, draws)
        writer.finish(run_manifest(
            scenario_id=loaded.scenario.id, scenario_file=loaded.file,
            scenario_sha256=loaded.sha256, quotes_verified=loaded.quotes_verified,
            seed=seed, runs=runs, engine=item.engine, constants=item.constants,
            wall_time_s=item.wall_time_s,
        ))
    shutil.copyfile(loaded.file, staging / folder / Path(loaded.file).name)
    return {"scenario_id": loaded.scenario.id, "scenario_file": Path(loaded.file).name,
            "folder": folder.as_posix()}


def write_validation_report(out: str | os.PathLike[str], scores: list[dict[str, Any]],
                            table_text: str, validated: list[ValidatedScenario], seed: int,
                            runs: int, *, force: bool = False) -> list[str]:
    """A validation folder (validation.json, validation.txt, manifest.json, and per scenario
    runs/<scenario>/ with its runs and a copy of the scenario file) with its report, written
    whole or not at all."""
    from sim.outputs.output_folder import write_manifest
    from sim.outputs.report.build import build_report

    def fill(staging: Path) -> list[str]:
        """Tables, runs and manifest into ``staging``, then the report built there."""
        (staging / "validation.json").write_text(_json_text(scores), encoding="utf-8")
        (staging / "validation.txt").write_text(table_text.rstrip("\n") + "\n", encoding="utf-8")
        entries = [_write_runs(staging, item, seed, runs) for item in validated]
        folders = [f"{entry['folder']}/" for entry in entries]
        write_manifest(staging, {
            **_base_manifest("validation"), "seed": seed, "runs": runs,
            "engine": ", ".join(sorted({item.engine for item in validated})),
            "scenarios": entries, "files": ["validation.json", "validation.txt", *folders]})
        _, report = build_report(staging)
        return ["manifest.json", "validation.json", "validation.txt", *folders, *report]

    return _staged(Path(out), "validation", fill, force=force, flag="--report")


def _counterfactual_manifest(loaded: Any, constants: Any, seed: int, runs: int) -> dict[str, Any]:
    """What a counterfactual folder's manifest says of the overlay, its base and the runs."""
    from sim.formats.common import read_text_file

    _, overlay_sha = read_text_file(loaded.file)
    _, base_sha = read_text_file(loaded.base_file)
    return {
        **_base_manifest("counterfactual"),
        "overlay_id": loaded.overlay.id,
        "overlay_file": Path(loaded.file).name,
        "overlay_sha256": overlay_sha,
        "question": loaded.overlay.question,
        "base_scenario_id": loaded.base.id,
        "base_scenario_file": Path(loaded.base_file).name,
        "base_scenario_sha256": base_sha,
        "seed": seed,
        "runs": runs,
        "constants": {k: getattr(constants, k) for k in constants.__dataclass_fields__},
        "files": ["comparison.json", "comparison.txt"],
    }


def write_counterfactual(out: str | os.PathLike[str], loaded: Any, comparison: dict[str, Any],
                         text: str, constants: Any, seed: int, runs: int, *,
                         force: bool = False) -> list[str]:
    """A counterfactual folder (comparison.json as ``--json`` prints it, comparison.txt as the
    command prints it, manifest.json) for ``diplosim report``; written whole or not at all."""
    from sim.outputs.output_folder import write_manifest

    manifest = _counterfactual_manifest(loaded, constants, seed, runs)

    def fill(staging: Path) -> list[str]:
        """The comparison, as JSON and as printed, and the manifest into ``staging``."""
        (staging / "comparison.json").write_text(_json_text(comparison), encoding="utf-8")
        (staging / "comparison.txt").write_text(text.rstrip("\n") + "\n", encoding="utf-8")
        write_manifest(staging, manifest)
        return ["comparison.json", "comparison.txt", "manifest.json"]

    return _staged(Path(out), "counterfactual", fill, force=force)
