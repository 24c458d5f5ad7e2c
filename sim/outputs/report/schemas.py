"""What the files of a results folder may hold, type-checked: the manifests of the four kinds,
the score rows of ``validation.json``, the decisions of ``comparison.json`` and a sweep's
``sweep.json``. A file that does not fit is refused with one ReportError at the first
problem's key path and line."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator,
)

from sim.formats.yamlmap import YamlError, line_for, load_with_lines
from sim.outputs.report.errors import ReportError

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")  # scenario, decision and option ids


def _bare_name(value: str) -> str:
    """A file name without any folder part (looked up beside the results and in scenarios/)."""
    if (not value or value in (".", "..") or "/" in value or "\\" in value or "\0" in value
            or len(value) > 255):
        raise ValueError(f"expected a bare file name (no folder part), got {value!r}")
    return value


def _relative(value: str) -> str:
    """A relative path inside the folder: no absolute path, no ``..`` part."""
    parts = PurePosixPath(value).parts
    if (not value or "\\" in value or "\0" in value or value.startswith("/")
            or any(p == ".." for p in parts) or len(value) > 1000):
        raise ValueError(f"expected a path inside the results folder, got {value!r}")
    return value


BareName = Annotated[str, AfterValidator(_bare_name)]
RelativePath = Annotated[str, AfterValidator(_relative)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Count = Annotated[int, Field(ge=0)]
Bounds = Annotated[list[float], Field(min_length=2, max_length=2)]  # [low, high]
Number = float | None  # null where a score is undefined (NaN or infinite before writing)
Share = Annotated[float, Field(ge=0.0, le=1.0)] | None
Interval = Annotated[list[Number], Field(min_length=2, max_length=2)]  # [low, high]


class _Checked(BaseModel):
    """A file diplosim wrote: the fields the report uses are type-checked (strictly: no
    coercion of text to numbers); other keys are kept, as newer versions add some."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, allow_inf_nan=False)


# -- manifests ------------------------------------------------------------------------------


class Manifest(_Checked):
    """What every manifest may carry."""

    kind: Literal["run", "sweep", "validation", "counterfactual"] | None = None
    version: str | None = None
    files: list[RelativePath] | None = None
    sha256: dict[RelativePath, Sha256] | None = None  # data file -> its SHA-256 hex digest


class RunManifest(Manifest):
    """``diplosim run --out`` (and each run folder of a validation)."""

    scenario_file: BareName
    scenario_id: Id | None = None
    scenario_sha256: Sha256 | None = None
    runs: int = Field(ge=1)
    rows: Count | None = None
    seed: Count | None = None
    engine: str | None = None
    constants: dict[str, Annotated[float, Field(gt=0)]] | None = None  # as constants.yaml


class _Design(_Checked):
    method: str | None = None


class SweepManifest(Manifest):
    """``diplosim sweep``."""

    scenario_file: BareName | None = None
    scenario_id: Id | None = None
    scenario_sha256: Sha256 | None = None
    spec_sha256: Sha256 | None = None
    parameters: dict[str, Bounds] | None = None
    design: _Design | None = None
    points: int = Field(ge=1)
    members_per_point: int = Field(ge=1)
    chunks: int = Field(ge=1)
    rows: Count
    seed: Count | None = None


class _ValidatedScenario(_Checked):
    scenario_id: Id | None = None
    scenario_file: BareName | None = None
    folder: RelativePath


class ValidationManifest(Manifest):
    """``diplosim validate --report``."""

    scenarios: list[_ValidatedScenario]
    runs: int | None = Field(default=None, ge=1)
    seed: Count | None = None
    engine: str | None = None


class CounterfactualManifest(Manifest):
    """``diplosim counterfactual --out``."""

    overlay_id: Id | None = None
    overlay_file: BareName | None = None
    base_scenario_id: Id | None = None
    base_scenario_file: BareName | None = None
    question: str | None = None
    runs: int | None = Field(default=None, ge=1)
    seed: Count | None = None


MANIFESTS: dict[str, type[Manifest]] = {
    "run": RunManifest, "sweep": SweepManifest, "validation": ValidationManifest,
    "counterfactual": CounterfactualManifest,
}


# -- the other JSON files -------------------------------------------------------------------


class ScoreRow(_Checked):
    """One row of validation.json, as the report's table and reliability diagram read it."""

    scenario: str
    decision: str
    recorded_outcome: str
    modal_outcome: str
    p_recorded: Number
    ci_low: Number
    ci_high: Number
    p_modal: Number = None
    recorded_hours_before_deadline: Number
    median_hours_before_deadline: Number
    q25_hours_before_deadline: Number = None
    q75_hours_before_deadline: Number = None
    median_hours_if_recorded_option: Number = None
    brier: Number
    brier_status_quo: Number
    brier_uniform: Number
    p_reached: Number = None
    shares: dict[str, Share] | None = None  # option -> share among the runs reaching it
    path: Literal["reached", "forced"] | None = None  # forced: along the recorded path


class SweepState(_Checked):
    """``sweep.json``: which sweep a folder holds and how it was cut into chunks."""

    spec_sha256: Sha256 | None = None
    points: int = Field(ge=1)
    chunk_points: int = Field(ge=1)


class _Difference(_Checked):
    mean: Number
    ci_low: Number
    ci_high: Number


class _Term(_Checked):
    """Model 2's attribution row: a utility term on both sides."""

    term: str
    baseline: Number
    counterfactual: Number


class _Pull(_Checked):
    """One actor's term in U(most) - U(least) on both sides."""

    actor: Id
    baseline: Number
    counterfactual: Number


class _Attribution(_Checked):
    """Model 3's attribution by actor at the baseline's decision moment."""

    most: Id
    least: Id
    actors: list[_Pull]


class Comparison(_Checked):
    """One decision of comparison.json, as the report reads it."""

    decision: Id
    options: list[str] | None = None
    baseline: dict[str, Number]
    counterfactual: dict[str, Number]
    difference: dict[str, _Difference]
    baseline_ci: dict[str, Interval] | None = None
    counterfactual_ci: dict[str, Interval] | None = None
    baseline_reached: float | None = None
    counterfactual_reached: float | None = None
    baseline_median_hours: Number = None
    counterfactual_median_hours: Number = None
    attribution: list[_Term] | _Attribution | None = None

    @model_validator(mode="after")
    def _complete(self) -> Comparison:
        """Every option has a share on each side and a difference; both reached or neither."""
        for option in self.options or list(self.baseline):
            for name in ("baseline", "counterfactual", "difference", "baseline_ci",
                         "counterfactual_ci"):
                if getattr(self, name) and option not in getattr(self, name):
                    raise ValueError(f"{name}: missing option '{option}'")
        if (self.baseline_reached is None) != (self.counterfactual_reached is None):
            raise ValueError("expected baseline_reached and counterfactual_reached, or neither")
        return self


class CounterfactualFile(_Checked):
    """comparison.json of a Model 3 counterfactual: the overlay, then every decision."""

    overlay: Id
    episode: Id
    question: str
    what_to_look_for: str
    set: dict[str, float]
    remove_events: list[Id]
    remove_elections: list[Id] | None = None
    seed: Count
    runs: int = Field(ge=1)
    decisions: list[Comparison]


def checked(path: Path, data: Any, model: Any) -> Any:
    """``data`` (read from the JSON file ``path``) validated against ``model`` (a model or a
    type such as ``list[Model]``), or one ReportError at the first problem's key path and line."""
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = tuple(error["loc"])
        if "[key]" in key:  # a bad mapping key: locate the mapping, the message names the key
            key = key[:key.index("[key]") - 1]
        try:
            lines = load_with_lines(path.read_text(encoding="utf-8"))[1]
        except (OSError, UnicodeDecodeError, YamlError, RecursionError):
            lines = {}
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = f"missing required key '{key[-1]}'"
        elif not isinstance(error.get("input"), (dict, list)) and "got" not in message:
            message += f" (got {error.get('input')!r})"
        raise ReportError(path, message, key, line_for(lines, key)) from None
