"""Opening a results folder: which kind it is (from its manifest, checked), reading its JSON
files, keeping every path inside it, and verifying the SHA-256 its manifest gives each file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sim.outputs.report.errors import KINDS_EXPECTED, ReportError
from sim.outputs.report.schemas import MANIFESTS, checked

JSON_LIMIT = 64 * 1024 * 1024  # bytes: far above any JSON file diplosim writes
KNOWN_KINDS = ("run", "sweep", "validation", "counterfactual")


def inside(folder: Path, relative: str | os.PathLike[str]) -> Path:
    """``folder / relative``, or a ReportError when it would resolve outside ``folder`` (an
    absolute path, ``..``, or a link pointing elsewhere): a results folder is read alone."""
    path = folder / relative
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ReportError(path, f"resolves outside the results folder {folder}; a results "
                                "folder may only refer to files inside it")
    return path


def read_json(path: Path) -> Any:
    """Parsed JSON, or a ReportError naming the file."""
    try:
        if not path.is_file():
            raise ReportError(path, "file not found" if not path.exists() else
                              "not a regular file; expected a JSON file")
        if path.stat().st_size > JSON_LIMIT:
            raise ReportError(path, f"larger than {JSON_LIMIT // 2**20} MiB; expected a JSON file "
                                    "written by diplosim")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportError(path, f"not a readable JSON file ({exc})") from None


def _kind_from(path: Path, folder: Path, manifest: dict[str, Any]) -> str:
    """The kind of folder: the manifest's ``kind``, else (older manifests) told by its keys."""
    kind = manifest.get("kind")
    if kind is not None:
        if kind not in KNOWN_KINDS:
            raise ReportError(path, f"kind {kind!r} is not a folder diplosim report knows; "
                                    f"expected {KINDS_EXPECTED}", ("kind",))
        return kind
    if (folder / "sweep.json").is_file() or "spec_sha256" in manifest:
        return "sweep"
    if "scenario_file" in manifest and "runs" in manifest:
        return "run"
    raise ReportError(path, f"not a manifest diplosim report knows; expected {KINDS_EXPECTED}")


def _manifest_path(folder: Path) -> Path:
    """The folder's manifest.json, or a ReportError saying what the folder is instead."""
    if not folder.exists():
        raise ReportError(folder, f"no such folder; expected {KINDS_EXPECTED}")
    if not folder.is_dir():
        raise ReportError(folder, f"not a folder; expected {KINDS_EXPECTED}")
    path = inside(folder, "manifest.json")
    if not path.is_file():
        if (folder / "sweep.json").is_file():
            raise ReportError(path, "missing: the sweep has not finished; run `diplosim sweep` "
                              "on its spec again to finish it")
        inner = sorted(p.parent.name for p in folder.glob("*/manifest.json"))
        hint = f" (its subfolders {inner} have one: report one of them)" if inner else ""
        raise ReportError(folder, f"no manifest.json{hint}; expected {KINDS_EXPECTED}")
    return path


def folder_kind(folder: Path) -> tuple[str, dict[str, Any]]:
    """('run' | 'sweep' | 'validation' | 'counterfactual', manifest) of a results folder, its
    manifest checked and the files it gives a SHA-256 for verified."""
    path = _manifest_path(folder)
    manifest = read_json(path)
    if not isinstance(manifest, dict):
        raise ReportError(path, "expected a JSON object")
    kind = _kind_from(path, folder, manifest)
    checked(path, manifest, MANIFESTS[kind])
    verify_hashes(folder, manifest)
    return kind, manifest


def file_sha256(path: Path) -> str:
    """The SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_hashes(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest gives a SHA-256 for is inside the folder and unchanged."""
    for name, expected in (manifest.get("sha256") or {}).items():
        path = inside(folder, name)
        if not path.is_file():
            raise ReportError(path, "missing or not a regular file, but manifest.json lists its "
                                    "SHA-256; the folder is incomplete")
        try:
            found = file_sha256(path)
        except OSError as exc:
            raise ReportError(path, f"cannot be read ({exc.strerror or exc})") from None
        if found != expected:
            raise ReportError(path, "its SHA-256 differs from the one in manifest.json: the file "
                                    "was changed or damaged after diplosim wrote it")
