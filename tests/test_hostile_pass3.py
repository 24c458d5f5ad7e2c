"""Hostile cases of the third pass (issue 18): nothing a user wrote is lost, nothing they can
read leaks, nothing crashes.

- a replace keeps every file added or edited since diplosim wrote the folder (and stops,
  naming them); a finished sweep is replaced only with --force; on resume a chunk from another
  sweep, or one cut short, is named and computed again;
- a file that is not a diplosim file of the expected kind, named where one is expected, never
  shows its content; control codes in keys and file names are escaped;
- the page answers only this machine (Host and websocket Origin), and a port in use is one
  error line;
- stepping a model past its clock is a no-op (in a subprocess: a segfault fails the test).

Each case failed on c2cef99 (before this pass) and passes now.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIO_2019

SECRET = "root:$6$s3cr3tHASHnobodyMaySee:19000:0:99999:7:::"
OVERLAY = ROOT / "library" / "gsomia_2019" / "counterfactuals" / "china_stays_silent_2019.yaml"
CLI = [sys.executable, "-c", "from sim.cli import main; raise SystemExit(main())"]


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("diplosim: error: "), err
    return lines[0]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- data loss --------------------------------------------------------------------------------


def _run(out: Path, seed: int) -> list[str]:
    return ["run", str(SCENARIO_2019), "--runs", "5", "--quiet", "--seed", str(seed),
            "--out", str(out)]


def test_a_rerun_keeps_the_users_added_and_edited_files_and_says_which(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(_run(out, 1)) == 0
    (out / "my_notes.txt").write_text("my notes\n")
    (out / "mine").mkdir()
    (out / "mine" / "fig.png").write_bytes(b"my figure")
    with open(out / "runs.csv", "a") as runs:
        runs.write("my own row\n")
    before = _files(out)
    capsys.readouterr()
    for force in ([], ["--force"]):
        assert main([*_run(out, 2), *force]) == 2
        line = _one_error_line(capsys.readouterr().err)
        for name in ("my_notes.txt (added)", "mine/fig.png (added)", "runs.csv (edited)"):
            assert name in line, line
        assert _files(out) == before, "nothing may be touched"
    assert [p.name for p in tmp_path.iterdir()] == ["o"], "no staging folder left"


def test_a_refusal_names_a_few_files_then_counts_the_rest(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(_run(out, 1)) == 0
    for i in range(7):
        (out / f"note{i}.txt").write_text("mine\n")
    capsys.readouterr()
    assert main(_run(out, 2)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "note0.txt (added)" in line and "and 4 more" in line and "note6" not in line


def test_a_rerun_of_diplosims_own_files_and_report_still_replaces(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(_run(out, 1)) == 0
    assert main(["report", str(out)]) == 0
    capsys.readouterr()
    assert main(_run(out, 2)) == 0
    assert "replaced the earlier run result" in capsys.readouterr().out
    assert not (out / "report.md").exists()


def test_a_counterfactual_rerun_keeps_an_added_file(tmp_path, capsys):
    out = tmp_path / "cf"
    command = ["counterfactual", str(OVERLAY), "--runs", "5", "--out", str(out)]
    assert main(command) == 0
    (out / "my_notes.txt").write_text("mine\n")
    capsys.readouterr()
    assert main([*command, "--seed", "3"]) == 2
    assert "my_notes.txt (added)" in _one_error_line(capsys.readouterr().err)
    assert (out / "my_notes.txt").read_text() == "mine\n"


def test_a_report_keeps_an_edited_report(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(_run(out, 1)) == 0
    assert main(["report", str(out)]) == 0
    with open(out / "report.md", "a") as report:
        report.write("my conclusions\n")
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "report.md (edited)" in _one_error_line(capsys.readouterr().err)
    assert (out / "report.md").read_text().endswith("my conclusions\n")


def _spec(folder: Path, seed: int, out: str) -> Path:
    path = folder / f"sweep_{seed}_{out}.yaml"
    path.write_text(
        "format: diplosim-sweep/3\n"
        "scenario: gsomia_2019\n"
        "parameters:\n  termination_notice.united_states.salience: [0.0, 1.0]\n"
        "design:\n  method: grid\n  levels: 4\n"
        f"members: 5\nseed: {seed}\nchunk_points: 1\nout: {out}\n")
    return path


def _dataset(folder: Path) -> dict:
    import pyarrow.parquet as pq

    return pq.read_table(folder / "dataset.parquet").to_pydict()


def test_a_finished_sweep_is_replaced_only_with_force(tmp_path, capsys):
    assert main(["sweep", str(_spec(tmp_path, 7, "s")), "--quiet"]) == 0
    before = _files(tmp_path / "s")
    capsys.readouterr()
    new_seed = _spec(tmp_path, 8, "s")
    assert main(["sweep", str(new_seed), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "finished sweep" in line and "--force" in line
    assert _files(tmp_path / "s") == before
    (tmp_path / "s" / "my_notes.txt").write_text("mine\n")
    assert main(["sweep", str(new_seed), "--quiet", "--force"]) == 2  # --force keeps a user file
    assert "my_notes.txt (added)" in _one_error_line(capsys.readouterr().err)
    (tmp_path / "s" / "my_notes.txt").unlink()
    assert main(["sweep", str(new_seed), "--quiet", "--force"]) == 0
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["seed"] == 8


def _unfinished(folder: Path) -> None:
    """What a sweep killed before its end leaves: its chunks and sweep.json, no dataset."""
    (folder / "manifest.json").unlink()
    (folder / "dataset.parquet").unlink()


def test_resume_refuses_a_chunk_of_another_sweep_and_recomputes_it(tmp_path, capsys):
    assert main(["sweep", str(_spec(tmp_path, 7, "clean")), "--quiet"]) == 0
    assert main(["sweep", str(_spec(tmp_path, 8, "other")), "--quiet"]) == 0
    spec = _spec(tmp_path, 7, "s")
    assert main(["sweep", str(spec), "--quiet"]) == 0
    _unfinished(tmp_path / "s")
    chunk = tmp_path / "s" / "chunks" / "chunk-000001.parquet"
    shutil.copyfile(tmp_path / "other" / "chunks" / chunk.name, chunk)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(chunk) in err[0] and "another sweep" in err[0], err
    assert _dataset(tmp_path / "s") == _dataset(tmp_path / "clean")


def test_resume_names_a_truncated_chunk_and_recomputes_it(tmp_path, capsys):
    assert main(["sweep", str(_spec(tmp_path, 7, "clean")), "--quiet"]) == 0
    spec = _spec(tmp_path, 7, "s")
    assert main(["sweep", str(spec), "--quiet"]) == 0
    _unfinished(tmp_path / "s")
    chunk = tmp_path / "s" / "chunks" / "chunk-000002.parquet"
    chunk.write_bytes(chunk.read_bytes()[:100])
    capsys.readouterr()
    assert main(["sweep", str(spec), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(chunk) in err[0] and "cut short" in err[0], err
    assert _dataset(tmp_path / "s") == _dataset(tmp_path / "clean")


# -- leaks ------------------------------------------------------------------------------------


@pytest.fixture()
def secret(tmp_path) -> Path:
    """A readable file that is not a diplosim file, like /etc/shadow, with a secret first line."""
    path = tmp_path / "shadow"
    path.write_text(f"{SECRET}\ndaemon:*:19000:0:99999:7:::\n")
    return path


def _refused_quietly(capsys, argv: list[str], secret: Path, folder: Path) -> str:
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 2, (code, printed)
    line = _one_error_line(printed.err)
    assert str(secret) in line, line
    assert "s3cr3t" not in printed.out + printed.err
    for path in folder.rglob("*"):
        if path.is_file() and path != secret:
            assert b"s3cr3t" not in path.read_bytes(), path
    return line


def test_an_overlay_base_that_is_not_a_scenario_is_not_quoted(tmp_path, capsys, secret):
    overlay = tmp_path / "overlay.yaml"
    text = OVERLAY.read_text()
    start = text.index("\nbase: ") + 1
    overlay.write_text(text[:start] + f"base: {secret}" + text[text.index("\n", start):])
    line = _refused_quietly(capsys, ["counterfactual", str(overlay), "--runs", "2"], secret,
                           tmp_path)
    assert "is not a diplosim/3 scenario" in line and "nothing of that file is shown" in line


def test_a_sweep_scenario_that_is_not_a_scenario_is_not_quoted(tmp_path, capsys, secret):
    spec = _spec(tmp_path, 7, "s")
    spec.write_text(spec.read_text().replace("scenario: gsomia_2019", f"scenario: {secret}"))
    line = _refused_quietly(capsys, ["sweep", str(spec), "--quiet"], secret, tmp_path)
    assert "not a diplosim scenario file" in line


def test_calibration_constants_that_are_not_constants_are_not_quoted(tmp_path, capsys, secret):
    _refused_quietly(capsys, ["calibrate", "--constants", str(secret), "--design-log2", "2",
                              "--quiet"], secret, tmp_path)


def test_a_scenario_named_by_a_file_that_is_not_one_is_not_quoted(tmp_path, capsys, secret):
    line = _refused_quietly(capsys, ["run", str(secret), "--runs", "2", "--quiet"], secret,
                            tmp_path)
    assert "not a diplosim scenario file" in line


def test_report_scenario_that_is_not_a_scenario_is_refused_unquoted(tmp_path, capsys, secret):
    out = tmp_path / "o"
    assert main(_run(out, 1)) == 0
    capsys.readouterr()
    line = _refused_quietly(capsys, ["report", str(out), "--scenario", str(secret)], secret,
                            tmp_path)
    assert "--scenario" in line and not (out / "report.md").exists()


def test_constants_that_are_not_constants_are_not_quoted(tmp_path, capsys, secret):
    _refused_quietly(capsys, ["run", str(SCENARIO_2019), "--runs", "2", "--constants",
                              str(secret)], secret, tmp_path)


def test_control_codes_in_a_key_are_escaped(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO_2019.read_text() + '"\\e]0;owned\\a\\e[2J": 1\n')
    assert main(["check", str(scenario)]) == 2
    err = capsys.readouterr().err
    line = _one_error_line(err)
    assert "\x1b" not in err and "\x07" not in err
    assert "unknown key '\\x1b]0;owned\\x07\\x1b[2J'" in line


def test_control_codes_and_newlines_in_a_file_name_are_escaped(tmp_path, capsys):
    name = tmp_path / "a\nfake ok\r\x1b[2J\x9b.yaml"
    name.write_text(SCENARIO_2019.read_text() + "nonsense: 1\n")
    assert main(["check", str(name)]) == 2
    err = capsys.readouterr().err
    line = _one_error_line(err)
    assert not any(c in err.rstrip("\n") for c in "\r\x1b\x9b")
    assert "a\\nfake ok\\r\\x1b[2J\\x9b.yaml" in line


# -- the page ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """`diplosim app` on a free loopback port; stopped (by its own process id) after."""
    port = _free_port()
    log = tmp_path_factory.mktemp("page") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([*CLI, "app", "--port", str(port)], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while _status(port, f"127.0.0.1:{port}") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the page did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _status(port: int, host: str) -> int | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _websocket(port: int, origin: str | None) -> int:
    """The HTTP status of a websocket handshake with ``origin``: 101 when upgraded."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{port}/jupyter/api/kernels/k/channels?session_id=s"
    try:
        with connect(url, origin=origin, open_timeout=20):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_the_page_refuses_a_foreign_host(page):
    assert _status(page, "evil.example") in (400, 403)
    assert _status(page, f"evil.example:{page}") in (400, 403)
    assert _status(page, f"localhost:{page + 1}") in (400, 403)
    for host in (f"127.0.0.1:{page}", f"localhost:{page}", "localhost"):
        assert _status(page, host) == 200, host


def test_the_page_refuses_a_websocket_from_another_origin(page):
    assert _websocket(page, "http://evil.example") in (400, 403)
    assert _websocket(page, f"http://evil.example:{page}") in (400, 403)
    assert _websocket(page, "null") in (400, 403)
    assert _websocket(page, f"http://127.0.0.1:{page}") == 101
    assert _websocket(page, f"http://localhost:{page}") == 101
    assert _websocket(page, None) == 101


def test_a_port_in_use_is_one_error_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run([*CLI, "app", "--port", str(port)], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode != 0
    line = _one_error_line(done.stderr)
    assert str(port) in line and "in use" in line, line
    assert "ERROR" not in done.stderr and "uvicorn" not in done.stderr.lower()


# -- crashes ----------------------------------------------------------------------------------


def test_stepping_ten_steps_past_the_clock_is_a_no_op():
    script = (
        "from sim.model.agents import DiplomacyModel\n"
        "m = DiplomacyModel('gsomia_2019', seed=1)\n"
        "while m.running:\n"
        "    m.step()\n"
        "done = (m.outcomes(), m.member.status.tolist(), len(m.story))\n"
        "for _ in range(10):\n"
        "    m.step()\n"
        "print(m.running, done == (m.outcomes(), m.member.status.tolist(), len(m.story)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split() == ["False", "True"]
