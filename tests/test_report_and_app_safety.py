"""A results folder is data, not instructions; the teaching page starts quiet and stops whole.

`diplosim report` refuses, in one located line naming the file, a folder whose files are
damaged or do not match their manifest (counts, SHA-256), and reads nothing outside the folder
(but a bare scenario file name, looked up as before), so no manifest can make it copy another
file into a report. `diplosim app` becomes the Solara server (a signal stops it, nothing is
left listening) with Solara's telemetry and update check off. A Mesa agents ensemble frees
each model after its run.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2012

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

SECRET_KEY = "TOPSECRET_LINE_7f3a"  # what an error about the file would quote
SECRET = f"{SECRET_KEY}: do not copy"


# -- folders to damage ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A run and a validation folder, written once; every test damages a copy."""
    base = tmp_path_factory.mktemp("pristine")
    quiet = ["--quiet"]
    assert main(["run", str(SCENARIO_2012), "--runs", "5", "--out", str(base / "run"), *quiet]) == 0
    assert main(["validate", str(SCENARIO_2012), "--runs", "10", "--report", str(base / "val"),
                 *quiet]) == 0
    for written in ("report.md", "report.html", "plots"):  # what the tests must not write
        target = base / "val" / written
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    return base


@pytest.fixture(scope="module")
def pristine_all(pristine):
    """Beside them, a sweep and a counterfactual folder (their commands' own tests port them)."""
    base = pristine
    quiet = ["--quiet"]
    spec = base / "spec.yaml"
    spec.write_text(
        "format: diplosim-sweep/3\n"
        "scenario: gsomia_2019\n"
        "parameters:\n  termination_notice.united_states.salience: [0.0, 1.0]\n"
        "  termination_takes_effect.united_states.salience: [0.0, 1.0]\n"
        "design:\n  method: grid\n  levels: 2\n"
        "members: 5\nseed: 1\nchunk_points: 2\nout: sweep\n",
        encoding="utf-8",
    )
    assert main(["sweep", str(spec), *quiet]) == 0
    overlay = ROOT / "library" / "gsomia_2012" / "counterfactuals" / "no_election_2012.yaml"
    assert main(["counterfactual", str(overlay), "--runs", "10", "--out", str(base / "cf")]) == 0
    for written in ("report.md", "report.html", "plots"):
        target = base / "cf" / written
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    return base


@pytest.fixture()
def all_folders(pristine_all, tmp_path, capsys):
    return _copied(pristine_all, tmp_path, capsys)


@pytest.fixture()
def folders(pristine, tmp_path, capsys):
    """A fresh copy of every pristine folder under tmp_path/results (capsys cleared), its
    manifests without SHA-256s, as older versions wrote them (results/example): the checks of
    counts and contents must hold without them; the tests of hashes add them back."""
    return _copied(pristine, tmp_path, capsys)


def _copied(pristine, tmp_path, capsys):
    shutil.copytree(pristine, tmp_path / "results", ignore=shutil.ignore_patterns("spec.yaml"))
    for path in (tmp_path / "results").rglob("manifest.json"):
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest.pop("sha256", None)
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    capsys.readouterr()
    return tmp_path / "results"


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


_DROP = object()  # a manifest key to remove


def _set_manifest(folder: Path, **changes) -> None:
    manifest = {**_manifest(folder), **changes}
    manifest = {k: v for k, v in manifest.items() if v is not _DROP}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _written(folder: Path) -> list[Path]:
    return [p for p in (folder / "report.md", folder / "report.html", folder / "plots")
            if p.exists()]


def _refused(capsys, folder: Path, *expected: str) -> str:
    """`diplosim report FOLDER` exits 2 with one `diplosim: error:` line holding ``expected``
    and writes no report."""
    code = main(["report", str(folder)])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("diplosim: error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    assert not _written(folder)
    return lines[0]


# -- damaged or inconsistent data: refused, located, nothing written -------------------------


def _keep_runs(path: Path, keep: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].split(",").index("run")
    path.write_text(lines[0] + "".join(
        line for line in lines[1:] if int(line.split(",")[header]) < keep), encoding="utf-8")


def _replace_cell(path: Path, column: str, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = lines[0].rstrip("\n").split(",").index(column)
    cells = lines[1].rstrip("\n").split(",")
    cells[index] = value
    path.write_text(lines[0] + ",".join(cells) + "\n" + "".join(lines[2:]), encoding="utf-8")


RUN_DAMAGE = {
    "runs.csv holds 2 of 5 runs": (lambda f: _keep_runs(f / "runs.csv", 2),
                                   ["runs.csv", "holds 2 runs", "says 5 runs"]),
    "runs.csv is binary": (lambda f: (f / "runs.csv").write_bytes(bytes(range(256)) * 8),
                           ["runs.csv", "UTF-8"]),
    "runs.csv hours not a number": (
        lambda f: _replace_cell(f / "runs.csv", "hours_before_deadline", "soon"),
        ["runs.csv:2: hours_before_deadline", "'soon'"]),
    "runs.csv decision is a path": (
        lambda f: _replace_cell(f / "runs.csv", "decision", "../../outside"),
        ["runs.csv:2: decision", "'../../outside'"]),
    "runs.csv short row": (
        lambda f: (f / "runs.csv").write_text((f / "runs.csv").read_text() + "gsomia_2012,9\n"),
        ["runs.csv", "one value per column"]),
    "runs.parquet is garbage": (lambda f: (f / "runs.parquet").write_bytes(b"PAR1 not at all"),
                                ["runs.parquet", "not a readable Parquet"]),
    "draws.csv lost runs": (lambda f: _keep_lines(f / "draws.csv", 3),
                            ["draws.csv", "holds 2 rows where 5 were expected"]),
    "manifest runs is text": (lambda f: _set_manifest(f, runs="5"),
                              ["manifest.json:", "runs: ", "integer"]),
    "manifest seed negative": (lambda f: _set_manifest(f, seed=-1), ["manifest.json:", "seed: "]),
    "manifest constants not numbers": (
        lambda f: _set_manifest(f, constants={"temperature_decider": "hot"}),
        ["manifest.json:", "constants.temperature_decider"]),
    "manifest kind unknown": (lambda f: _set_manifest(f, kind="shopping_list"),
                              ["manifest.json:", "kind: ", "'shopping_list'"]),
    "manifest without runs": (lambda f: _set_manifest(f, kind="run", runs=_DROP),
                              ["manifest.json:", "missing required key 'runs'"]),
    "sha256 of a changed file": (lambda f: _hashes(f, damage="draws.csv"),
                                 ["draws.csv", "SHA-256 differs"]),
    "sha256 of a missing file": (lambda f: _hashes(f, extra="lost.csv"), ["lost.csv", "missing"]),
    "sha256 names a file outside": (lambda f: _hashes(f, extra="../run/runs.csv"),
                                    ["manifest.json:", "sha256: ", "inside the results folder"]),
}


def _keep_lines(path: Path, count: int) -> None:
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(True)[:count]),
                    encoding="utf-8")


def _hashes(folder: Path, damage: str | None = None, extra: str | None = None) -> None:
    """Give the manifest the SHA-256 of its files (as manifests now carry), then damage one."""
    manifest = _manifest(folder)
    digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
               for name in manifest["files"]}
    if extra:
        digests[extra] = "0" * 64
    _set_manifest(folder, kind="run", sha256=digests)
    if damage:
        with open(folder / damage, "a", encoding="utf-8") as handle:
            handle.write("1,2,3\n")


@pytest.mark.parametrize("case", list(RUN_DAMAGE))
def test_a_damaged_run_folder_is_refused_in_one_located_line(folders, capsys, case):
    damage, expected = RUN_DAMAGE[case]
    folder = folders / "run"
    damage(folder)
    _refused(capsys, folder, str(folder), *expected)


def test_an_intact_run_folder_with_hashes_is_reported(folders, capsys):
    folder = folders / "run"
    _hashes(folder)
    assert main(["report", str(folder)]) == 0
    assert (folder / "report.md").is_file()


def _rewrite_dataset(folder: Path, change) -> None:
    path = folder / "dataset.parquet"
    pq.write_table(change(pq.read_table(path)), path)


RENEW = "share.termination_notice.renew"
SWEEP_DAMAGE = {
    "truncated": (lambda f: (f / "dataset.parquet").write_bytes(
        (f / "dataset.parquet").read_bytes()[:300]), ["dataset.parquet", "not a readable Parquet"]),
    "garbage": (lambda f: (f / "dataset.parquet").write_text("point,share\n0,1\n"),
                ["dataset.parquet", "not a readable Parquet"]),
    "half of its rows": (lambda f: _rewrite_dataset(f, lambda t: t.slice(0, 2)),
                         ["dataset.parquet", "holds 2 rows", "says 4"]),
    "share as text": (lambda f: _rewrite_dataset(f, lambda t: t.set_column(
        t.column_names.index(RENEW), RENEW, pa.array([str(v) for v in t[RENEW].to_pylist()]))),
        ["dataset.parquet", f"column '{RENEW}'"]),
    "shares that do not sum to 1": (lambda f: _rewrite_dataset(f, lambda t: t.set_column(
        t.column_names.index(RENEW), RENEW, pa.array([0.0] * t.num_rows))),
        ["dataset.parquet", "termination_notice", "sum to 1"]),
    "manifest says more points": (lambda f: _set_manifest(f, points=5),
                                  ["dataset.parquet", "holds 4 points", "says 5"]),
    "manifest says more chunks": (lambda f: _set_manifest(f, chunks=3),
                                  ["sweep.json", "3 chunks"]),
    "manifest points not a number": (lambda f: _set_manifest(f, points=[4]),
                                     ["manifest.json:", "points: "]),
}


@pytest.mark.parametrize("case", list(SWEEP_DAMAGE))
def test_a_damaged_sweep_folder_is_refused_in_one_located_line(all_folders, capsys, case):
    damage, expected = SWEEP_DAMAGE[case]
    folder = all_folders / "sweep"
    damage(folder)
    _refused(capsys, folder, str(folder), *expected)


def test_a_damaged_validation_file_is_refused(folders, capsys):
    (folders / "val" / "validation.json").write_text('[{"scenario": 1}]', encoding="utf-8")
    _refused(capsys, folders / "val", "validation.json:1: [0].scenario")


def test_a_damaged_counterfactual_file_is_refused(all_folders, capsys):
    folders = all_folders
    (folders / "cf" / "comparison.json").write_text('[{"decision": "signing", "baseline": {}}]',
                                                    encoding="utf-8")
    _refused(capsys, folders / "cf", "comparison.json:1: [0]", "counterfactual")


# -- nothing outside the results folder is read -----------------------------------------------


def _assert_secret_absent(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path.name != "secret.yaml":
            assert SECRET_KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("pointer", ["../secret.yaml", "{outside}", "sub/../../secret.yaml"])
def test_a_manifest_pointing_outside_is_refused_and_nothing_is_copied(folders, capsys, pointer):
    secret = folders.parent / "secret.yaml"
    secret.write_text(f"{SECRET}\n", encoding="utf-8")
    folder = folders / "run"
    _set_manifest(folder, scenario_file=pointer.format(outside=secret), scenario_sha256=None)
    line = _refused(capsys, folder, "manifest.json:", "scenario_file: ", "bare file name")
    assert SECRET_KEY not in line
    _assert_secret_absent(folders)


def test_a_bare_name_finding_a_foreign_file_copies_none_of_it(folders, capsys, monkeypatch):
    """Looked up beside the results folder and in the working directory as before: a file of
    that name that is no scenario is named, never quoted."""
    (folders / "secret.yaml").write_text(f"{SECRET}\n", encoding="utf-8")
    monkeypatch.chdir(folders)
    folder = folders / "run"
    _set_manifest(folder, scenario_file="secret.yaml", scenario_sha256=None)
    assert main(["report", str(folder)]) == 0
    assert "secret.yaml" in (folder / "report.md").read_text(encoding="utf-8")
    _assert_secret_absent(folders)


def test_a_link_out_of_the_results_folder_is_refused(folders, capsys):
    secret = folders.parent / "secret.yaml"
    secret.write_text(f"{SECRET}\n", encoding="utf-8")
    folder = folders / "run"
    name = _manifest(folder)["scenario_file"]  # the bare name a report looks up first
    (folder / name).symlink_to(secret)
    _refused(capsys, folder, name, "outside the results folder")
    (folder / name).unlink()
    (folder / "runs.csv").unlink()
    (folder / "runs.csv").symlink_to(folders / "val" / "manifest.json")
    _refused(capsys, folder, "runs.csv", "outside the results folder")
    _assert_secret_absent(folders)


def test_a_validation_folder_entry_pointing_outside_is_refused(folders, capsys):
    folder = folders / "val"
    manifest = _manifest(folder)
    manifest["scenarios"][0]["folder"] = "../run"
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _refused(capsys, folder, "manifest.json:", "scenarios[0].folder", "'../run'")


# -- diplosim app ------------------------------------------------------------------------------


def test_app_serves_in_this_process_with_telemetry_and_update_check_off(monkeypatch):
    import uvicorn
    from solara.server import settings
    from solara.server.settings import Telemetry

    served: dict = {}
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, sockets=None: served.update(config=self.config,
                                                                 sockets=sockets))
    monkeypatch.setattr(subprocess, "call", lambda *a, **k: served.setdefault("child", a) and 0)
    monkeypatch.setattr(os, "execve", lambda *a: served.setdefault("exec", a))
    for key in ("SOLARA_APP", "SOLARA_TELEMETRY_MIXPANEL_ENABLE", "SERVER_NAME", "SERVER_PORT"):
        monkeypatch.setenv(key, "")  # serve() sets them: restored after the test
    monkeypatch.setattr(settings.main, "mode", settings.main.mode)
    monkeypatch.setattr(settings.telemetry, "mixpanel_enable", settings.telemetry.mixpanel_enable)
    assert main(["app", "--port", "0"]) == 0
    assert "child" not in served and "exec" not in served  # the server is this process
    (sock,) = served["sockets"]
    assert sock.fileno() == -1  # closed once the server stopped
    assert settings.main.mode == "production" and os.environ["SOLARA_APP"] == "sim.app"
    # the telemetry: off in this process and in what solara reads from the environment
    assert settings.telemetry.mixpanel_enable is False and Telemetry().mixpanel_enable is False
    # (the start-up check of PyPI is a step of `solara run` only, which is no longer used)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_sigterm_to_diplosim_app_leaves_nothing_listening():
    """Started as the browser test starts it; SIGTERM (what `terminate()` sends) must stop the
    server itself: no orphan keeps the port."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; raise SystemExit(main())",
         "app", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 15
        while not _listening(port):
            assert process.poll() is None and time.monotonic() < deadline, "the page did not start"
            time.sleep(0.2)
        children = _descendants(process.pid)
        process.terminate()
        process.wait(timeout=10)
        deadline = time.monotonic() + 3
        while (_listening(port) or any(map(_alive, children))) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port), "a server still listens after SIGTERM"
        assert not [c for c in children if _alive(c)], "a child outlived diplosim app"
    finally:
        for pid in [c for c in children if _alive(c)]:
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()


# -- memory of the agents engine ----------------------------------------------------------------


def test_an_agent_run_frees_its_model(scenario_2019, constants):
    from sim.model.agents import DiplomacyModel
    from sim.model.engine import run_ensemble

    model = DiplomacyModel(scenario_2019, constants, 1, 0)
    while model.running:
        model.step()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None, "something keeps a finished model alive"
    before = sum(isinstance(o, DiplomacyModel) for o in gc.get_objects())
    run_ensemble(scenario_2019, constants, 1, 20, engine="agents")
    gc.collect()
    assert sum(isinstance(o, DiplomacyModel) for o in gc.get_objects()) == before
