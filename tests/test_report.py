"""Reports: `diplosim report`, `validate --report` and `counterfactual --out`.

Every number checked here is recomputed from the folder's own data (runs.csv, dataset.parquet,
validation.json, comparison.json) and looked up in the HTML tables; every image must decode.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.model.summary import wilson_interval
from sim.model.scenario import load_scenario
from tests.conftest import ROOT, SCENARIO_2012, SCENARIO_2019, with_episode_sources

mpimg = pytest.importorskip("matplotlib.image")
pq = pytest.importorskip("pyarrow.parquet")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OVERLAY_2012 = ROOT / "library" / "gsomia_2012" / "counterfactuals" / "no_election_2012.yaml"


# -- helpers --------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Tables (caption and cell texts) and image sources of a report page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.images: list[str] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "table":
            self.tables.append({"caption": "", "header": [], "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row: list[str] = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self.tables[-1]["caption"] = "".join(self._caption)
            self._caption = None
        elif tag in ("td", "th"):
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr":
            table = self.tables[-1]
            if not table["header"] and not table["rows"]:
                table["header"] = self._row
            else:
                table["rows"].append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._caption is not None:
            self._caption.append(data)


def _page(folder: Path) -> _Page:
    page = _Page()
    page.feed((folder / "report.html").read_text(encoding="utf-8"))
    return page


def _table(page: _Page, starts: str) -> dict:
    found = [t for t in page.tables if t["caption"].startswith(starts)]
    assert len(found) == 1, [t["caption"] for t in page.tables]
    return found[0]


def _assert_png_bytes(data: bytes) -> None:
    assert data.startswith(PNG_SIGNATURE)
    image = mpimg.imread(io.BytesIO(data), format="png")
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # not a blank canvas


def _assert_report_files(folder: Path, expected_plots: set[str]) -> None:
    """report.html/md exist, every plot decodes, the HTML is self-contained and embeds them
    all, and report.md refers to exactly the plots on disk."""
    plots = {p.name for p in (folder / "plots").glob("*.png")}
    assert plots == expected_plots
    for name in plots:
        _assert_png_bytes((folder / "plots" / name).read_bytes())
    text = (folder / "report.html").read_text(encoding="utf-8")
    page = _page(folder)
    assert len(page.images) == len(plots)
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        _assert_png_bytes(base64.b64decode(src.split(",", 1)[1], validate=True))
    assert not {"script", "link", "a", "iframe"} & page.tags
    assert "http://" not in text and "https://" not in text
    md = (folder / "report.md").read_text(encoding="utf-8")
    referenced = {line.split("](plots/")[1].rstrip(")") for line in md.splitlines()
                  if "](plots/" in line}
    assert referenced == plots
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging left


def _runs_csv(folder: Path) -> list[dict]:
    with open(folder / "runs.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _expected_rows(rows: list[dict], decision: str, options: list[str], recorded: str | None):
    """The outcome table of one decision, recomputed from runs.csv."""
    mine = [r for r in rows if r["decision"] == decision]
    reached = [r for r in mine if r["outcome"] != "not_reached"]
    expected = []
    for option in options:
        chosen = [r for r in reached if r["outcome"] == option]
        low, high = wilson_interval(len(chosen), len(reached))
        hours = np.array([float(r["hours_before_deadline"]) for r in chosen])
        timing = (["-", "-"] if not hours.size else
                  [f"{np.median(hours):.1f}",
                   f"[{np.percentile(hours, 25):.1f}, {np.percentile(hours, 75):.1f}]"])
        expected.append([f"{option} (recorded)" if option == recorded else option,
                         str(len(chosen)), f"{len(chosen) / len(reached):.3f}",
                         f"[{low:.3f}, {high:.3f}]", *timing])
    return expected, len(mine) - len(reached)


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("diplosim: error: ") and "Traceback" not in err
    return err


# -- run folders ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run2019"
    assert main(["run", str(SCENARIO_2019), "--runs", "150", "--seed", "7", "--out", str(out),
                 "--quiet"]) == 0
    assert main(["report", str(out)]) == 0
    return out


def test_run_report_files_and_images(run_folder):
    _assert_report_files(run_folder, {
        "outcomes_termination_notice.png", "outcomes_japan_talks.png",
        "outcomes_termination_takes_effect.png", "timing_termination_notice.png",
        "timing_japan_talks.png", "timing_termination_takes_effect.png", "timeline_run0.png",
    })
    html = (run_folder / "report.html").read_text()
    assert "Not traced" not in html and "found by its SHA-256" in html


def test_run_report_numbers_match_runs_csv(run_folder):
    scenario = load_scenario(SCENARIO_2019, verify_quotes=False).scenario
    rows = _runs_csv(run_folder)
    page = _page(run_folder)
    for decision in scenario.decisions:
        recorded = scenario.recorded_outcome[decision.id].option
        expected, not_reached = _expected_rows(rows, decision.id, [o.id for o in decision.options],
                                               recorded)
        table = _table(page, f"{decision.id}: outcomes")
        assert table["header"] == ["outcome", "runs", "share", "95% CI", "median h before", "IQR"]
        assert table["rows"][: len(expected)] == expected
        if not_reached:
            assert table["rows"][-1][:3] == ["(not reached: share of all runs)", str(not_reached),
                                             f"{not_reached / 150:.3f}"]
    md = (run_folder / "report.md").read_text()
    assert "| " + " | ".join(expected[0]) + " |" in md  # same numbers in the Markdown


def test_run_report_traces_run_zero_with_events(run_folder):
    scenario = load_scenario(SCENARIO_2019, verify_quotes=False).scenario
    table = _table(_page(run_folder), "Events and decisions of the traced run")
    ids = [row[2] for row in table["rows"]]
    run0 = {r["decision"]: r["outcome"] for r in _runs_csv(run_folder) if r["run"] == "0"}
    dated = [e.id for e in sorted((e for e in scenario.events if e.time is not None),
                                  key=lambda e: e.time)]
    fired = [i for i in ids if not i.startswith("decision ")]
    assert [i for i in fired if i in dated] == dated  # every dated event, in time order
    branch = {e.id: e.if_ for e in scenario.events if e.if_ is not None}
    assert {i for i in fired if i in branch} == {  # a conditional one only on its branch
        i for i, p in branch.items() if run0.get(p.decision) == p.option}
    traced = {row[2].removeprefix("decision "): row[3].removeprefix("run 0: ").split(" ")[0]
              for row in table["rows"] if row[2].startswith("decision ")}
    assert traced == {d: o for d, o in run0.items() if o != "not_reached"}
    assert "differ from run 0" not in (run_folder / "report.html").read_text()


def test_report_without_the_scenario_file_says_so(tmp_path, capsys):
    moved = with_episode_sources(tmp_path, SCENARIO_2012) / "moved.yaml"
    moved.write_text(SCENARIO_2012.read_text().replace("id: gsomia_2012", "id: moved_away", 1))
    out = tmp_path / "run"
    assert main(["run", str(moved), "--runs", "50", "--out", str(out), "--quiet"]) == 0
    moved.unlink()
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "moved.yaml was not found" in html and "Not traced" in html
    assert "(recorded)" not in html
    _assert_report_files(out, {"outcomes_signing.png", "timing_signing.png"})
    # naming the file brings the record back
    (tmp_path / "elsewhere.yaml").write_text(SCENARIO_2012.read_text().replace(
        "id: gsomia_2012", "id: moved_away", 1))
    assert main(["report", str(out), "--scenario", str(tmp_path / "elsewhere.yaml")]) == 0
    assert "postpone (recorded)" in (out / "report.html").read_text()


# -- validation folders ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    base = tmp_path_factory.mktemp("validation")
    argv = ["validate", str(SCENARIO_2012), str(SCENARIO_2019), "--runs", "100", "--quiet"]
    import contextlib

    plain, reported = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(plain):
        assert main(argv) == 0
    with contextlib.redirect_stdout(reported):
        assert main([*argv, "--report", str(base / "val")]) == 0
    return base / "val", plain.getvalue(), reported.getvalue()


def test_validate_report_keeps_stdout_and_writes_the_table(validation):
    folder, plain, reported = validation
    lines = reported.splitlines()
    assert "\n".join(lines[:-1]) + "\n" == plain  # unchanged, plus one line saying what was written
    assert lines[-1].startswith("wrote ") and lines[-1].endswith(f" to {folder}")
    assert (folder / "validation.txt").read_text() == plain
    scores = json.loads((folder / "validation.json").read_text())
    assert [(s["scenario"], s["decision"], s["path"]) for s in scores] == [
        ("gsomia_2012", "signing", "reached"), ("gsomia_2019", "termination_notice", "reached"),
        ("gsomia_2019", "japan_talks", "reached"),
        ("gsomia_2019", "termination_takes_effect", "reached"),
        ("gsomia_2019", "japan_talks", "forced"),
        ("gsomia_2019", "termination_takes_effect", "forced")]
    table = _table(_page(folder), "Simulated against recorded decisions")
    for s, row in zip(scores, table["rows"], strict=True):
        label = s["decision"] + (" (forced)" if s["path"] == "forced" else "")
        assert row[:6] == [s["scenario"], label, s["recorded_outcome"],
                           f"{s['p_recorded']:.3f}", f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]",
                           f"{s['modal_outcome']} ({s['p_modal']:.3f})"]
        assert row[6:8] == [f"{s['recorded_hours_before_deadline']:.1f}",
                            f"{s['median_hours_before_deadline']:.1f}"]
        assert row[10:13] == [f"{s['brier']:.3f}", f"{s['brier_status_quo']:.3f}",
                              f"{s['brier_uniform']:.3f}"]
        if s["path"] == "forced":
            continue  # scored on runs forced along the record, which are not stored
        # and the score is what the stored runs say
        runs = [r for r in _runs_csv(folder / "runs" / s["scenario"])
                if r["decision"] == s["decision"] and r["outcome"] != "not_reached"]
        chosen = sum(r["outcome"] == s["recorded_outcome"] for r in runs)
        assert f"{chosen / len(runs):.3f}" == f"{s['p_recorded']:.3f}"


def test_validate_report_plots_every_scenario(validation):
    folder, _, _ = validation
    _assert_report_files(folder, {
        "gsomia_2012_outcomes_signing.png", "gsomia_2012_timing_signing.png",
        "gsomia_2012_timeline_run0.png",
        "gsomia_2019_outcomes_termination_notice.png", "gsomia_2019_timing_termination_notice.png",
        "gsomia_2019_outcomes_japan_talks.png", "gsomia_2019_timing_japan_talks.png",
        "gsomia_2019_outcomes_termination_takes_effect.png",
        "gsomia_2019_timing_termination_takes_effect.png", "gsomia_2019_timeline_run0.png",
        "reliability.png",
    })
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "validation" and manifest["runs"] == 100
    for entry in manifest["scenarios"]:
        run_manifest = json.loads((folder / entry["folder"] / "manifest.json").read_text())
        assert run_manifest["runs"] == 100
        assert (folder / entry["folder"] / entry["scenario_file"]).is_file()  # record travels along
    assert "postpone (recorded)" in (folder / "report.html").read_text()
    assert str(ROOT) not in (folder / "report.md").read_text()  # no machine paths


def test_validate_report_draws_the_reliability_of_every_forecast(validation):
    """Each option's forecast (its share in validation.json) against whether it was recorded,
    in bins of 0.2 with counts; the caption says how few decisions it rests on."""
    folder, _, _ = validation
    scores = [s for s in json.loads((folder / "validation.json").read_text())
              if s.get("path", "reached") == "reached"]  # each decision once, as run freely
    forecasts = [(p, o == s["recorded_outcome"]) for s in scores for o, p in s["shares"].items()]
    n = len(scores)
    assert n >= 3 and len(forecasts) >= 2 * n
    table = _table(_page(folder), f"Reliability: the {len(forecasts)} option forecasts of {n} "
                                  "recorded decisions")
    assert [row[0] for row in table["rows"]] == ["0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8",
                                                 "0.8-1.0"]
    for b, row in enumerate(table["rows"]):
        mine = [(p, hit) for p, hit in forecasts if min(int(p / 0.2), 4) == b]
        assert row[1:3] == [str(len(mine)), str(sum(hit for _, hit in mine))]
        if mine:
            assert row[3] == f"{np.mean([p for p, _ in mine]):.3f}"
            assert row[4] == f"{sum(hit for _, hit in mine) / len(mine):.3f}"
    md = (folder / "report.md").read_text()
    line = next(line for line in md.splitlines() if "](plots/reliability.png)" in line)
    assert f"Reliability diagram over only {n} recorded decisions" in line
    assert "diagonal" in line and "Too few decisions" in line
    _assert_png_bytes((folder / "plots" / "reliability.png").read_bytes())


def test_validate_report_refuses_a_foreign_folder(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    err = _error(capsys, ["validate", str(SCENARIO_2012), "--runs", "10", "--quiet",
                          "--report", str(foreign)])
    assert str(foreign) in err and "diplosim did not write" in err and "validation" in err
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_validate_report_is_all_or_nothing(tmp_path, monkeypatch, capsys):
    import sim.outputs.report.writing

    def broken(doc):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sim.outputs.report.writing, "render_html", broken)
    with pytest.raises(RuntimeError):
        main(["validate", str(SCENARIO_2012), "--runs", "10", "--quiet", "--report",
              str(tmp_path / "val")])
    assert list(tmp_path.iterdir()) == []


# -- sweep folders --------------------------------------------------------------------------


def _sweep(tmp_path: Path, name: str, method: str, parameters: dict, samples: int = 4) -> Path:
    lines = ["format: diplosim-sweep/3", "scenario: gsomia_2012", "parameters:",
             *[f"  {k}: [{lo}, {hi}]" for k, (lo, hi) in parameters.items()],
             "design:", f"  method: {method}", f"  samples: {samples}", "  levels: 3",
             "members: 20", "seed: 11", "chunk_points: 8", f"out: {tmp_path / name}"]
    spec = tmp_path / f"{name}.yaml"
    spec.write_text("\n".join(lines) + "\n")
    assert main(["sweep", str(spec), "--quiet"]) == 0
    return tmp_path / name


PATRON, PUBLIC = "signing.united_states.salience", "signing.public.position"
GRID = {PATRON: (0.0, 1.0), PUBLIC: (0.3, 0.8)}


def test_sweep_report_grid_heatmap_matches_dataset(tmp_path, capsys):
    out = _sweep(tmp_path, "grid", "grid", GRID)
    assert main(["report", str(out)]) == 0
    # defaults: first two parameters, first decision, its recorded option (2012: postpone)
    _assert_report_files(out, {"heatmap_signing_postpone.png"})
    data = pq.read_table(out / "dataset.parquet").to_pydict()
    x, y = PATRON, PUBLIC
    cells = dict(zip(zip(data[x], data[y]), data["share.signing.postpone"]))
    xs, ys = sorted({a for a, _ in cells}), sorted({b for _, b in cells}, reverse=True)
    table = _table(_page(out), "Mean share of postpone per cell")
    assert table["header"][1:] == [f"{v:.3f}" for v in xs]
    assert [row[0] for row in table["rows"]] == [f"{v:.3f}" for v in ys]
    assert [row[1:] for row in table["rows"]] == [[f"{cells[(a, b)]:.3f}" for a in xs] for b in ys]
    assert "Recorded outcome of signing: postpone." in (out / "report.md").read_text()
    # other axes and outcome on request
    assert main(["report", str(out), "--x", y, "--y", x, "--option", "sign"]) == 0
    table = _table(_page(out), "Mean share of sign per cell")
    assert table["header"][1:] == [f"{v:.3f}" for v in sorted(ys)]
    assert {p.name for p in (out / "plots").iterdir()} == {"heatmap_signing_sign.png"}


def test_sweep_report_bins_a_sampled_design(tmp_path, capsys):
    from sim.outputs.report import bins_for

    third = "signing.japan.salience"
    out = _sweep(tmp_path, "lhs", "lhs", {**GRID, third: (0.0, 1.0)}, samples=24)
    assert main(["report", str(out), "--x", third, "--option", "sign"]) == 0
    _assert_report_files(out, {"heatmap_signing_sign.png"})
    data = pq.read_table(out / "dataset.parquet").to_pydict()
    bins = bins_for(len(data["point"]))
    x, y = np.array(data[third]), np.array(data[PATRON])
    share = np.array(data["share.signing.sign"])
    edges = [np.linspace(0.0, 1.0, bins + 1)] * 2
    total, _, _ = np.histogram2d(y, x, bins=edges, weights=share)
    count, _, _ = np.histogram2d(y, x, bins=edges)
    with np.errstate(invalid="ignore"):
        mean = total / count
    expected = [[("-" if c == 0 else f"{m:.3f}") for m, c in zip(mean[a], count[a])]
                for a in reversed(range(bins))]
    table = _table(_page(out), "Mean share of sign per cell")
    assert "averaged over the other swept parameters" in table["caption"]
    assert [row[1:] for row in table["rows"]] == expected


# -- counterfactual folders -----------------------------------------------------------------


def test_counterfactual_out_and_report(tmp_path, capsys):
    out = tmp_path / "cf"
    argv = ["counterfactual", str(OVERLAY_2012), "--runs", "150", "--seed", "5"]
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert main([*argv, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.rstrip().endswith(f"to {out}")
    stored = json.loads((out / "comparison.json").read_text())
    assert stored == printed
    assert (out / "comparison.txt").read_text().rstrip() in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "counterfactual" and manifest["seed"] == 5
    assert manifest["runs"] == 150 and manifest["overlay_file"] == OVERLAY_2012.name

    assert main(["report", str(out)]) == 0
    _assert_report_files(out, {"counterfactual_signing.png"})
    (entry,) = stored["decisions"]
    assert entry["decision"] == "signing" and entry["options"][-1] == "not_reached"
    table = _table(_page(out), "signing: shares over all runs")
    expected = []
    for o in entry["options"]:
        d = entry["difference"][o]
        bl, bh = entry["baseline_ci"][o]
        cl, ch = entry["counterfactual_ci"][o]
        expected.append([o, f"{entry['baseline'][o]:.3f}", f"[{bl:.3f}, {bh:.3f}]",
                         f"{entry['counterfactual'][o]:.3f}", f"[{cl:.3f}, {ch:.3f}]",
                         f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"])
    assert table["rows"] == expected
    # the intervals are the Wilson intervals of the shares, over all 150 runs
    k = round(entry["baseline"]["postpone"] * 150)
    assert entry["baseline_ci"]["postpone"] == pytest.approx(list(wilson_interval(k, 150)))


def test_counterfactual_out_refuses_a_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", str(SCENARIO_2012), "--runs", "5", "--out", str(run), "--quiet"]) == 0
    err = _error(capsys, ["counterfactual", str(OVERLAY_2012), "--runs", "5", "--out", str(run)])
    assert str(run) in err and "counterfactual" in err
    assert (run / "runs.csv").is_file()


# -- errors ---------------------------------------------------------------------------------


def test_report_errors_name_the_path(tmp_path, capsys, run_folder):
    missing = tmp_path / "nowhere"
    err = _error(capsys, ["report", str(missing)])
    assert f"{missing}: no such folder" in err and "diplosim run --out" in err

    empty = tmp_path / "empty"
    empty.mkdir()
    err = _error(capsys, ["report", str(empty)])
    assert f"{empty}: no manifest.json" in err

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    err = _error(capsys, ["report", str(broken)])
    assert str(broken / "manifest.json") in err and "JSON" in err

    err = _error(capsys, ["report", str(run_folder), "--x", "japan.hard_line"])
    assert str(run_folder) in err and "sweep folders only" in err


def test_report_unknown_sweep_parameter(tmp_path, capsys):
    out = _sweep(tmp_path, "grid", "grid", GRID)
    err = _error(capsys, ["report", str(out), "--x", "japan.nothing"])
    assert str(out) in err and "'japan.nothing'" in err and PATRON in err
    err = _error(capsys, ["report", str(out), "--decision", "signing", "--option", "maybe"])
    assert "'maybe'" in err and "postpone" in err
    assert not (out / "report.html").exists()


def test_report_error_in_a_fresh_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sim.cli", "report", str(tmp_path / "none")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and str(tmp_path / "none") in result.stderr
