"""Where a command may write its results folder, and how: one policy for every command.

``run --out``, ``sweep`` (the spec's ``out``), ``validate --report``, ``counterfactual --out``,
``sensitivity --out`` and ``calibrate --out`` all go through :func:`check` before any work and
write through :class:`Staging`:

- a path that does not exist is created (with its parents), an empty folder is used;
- a folder whose ``manifest.json`` says diplosim wrote it, of the same kind, is replaced whole
  (the command says so); one of another kind only with ``--force``, and so is a finished sweep;
- but only when every file in it is one diplosim wrote and still vouches for: listed in the
  manifest (or the report's ``report.sha256``) with the SHA-256 it has now, or left by work
  written in place (a sweep's ``sweep.json`` and chunks). A file added or edited since stops
  the command, whatever the flags: one line names those files, and nothing is replaced or
  written;
- anything else is refused, with one located message, and left untouched: a regular file, a
  symbolic link (to anything), a device, pipe or socket, a non-empty folder without a diplosim
  manifest, an empty path, a path whose parent cannot be created or written. ``--force`` never
  lets any of these be replaced.

A result is written into a staging folder beside the target and renamed into place, so the
target holds the earlier result or the complete new one, never half. Every way out of a write
removes the staging folder: an error, a full disk, Ctrl-C, SIGTERM (turned into
:class:`~sim.signals.Terminated` by :func:`~sim.signals.sigterm_raises`). A staging folder
left by a process that was killed outright (SIGKILL, power loss) is removed by the next write
beside it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import stat
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, NoReturn

from sim.formats.common import ScenarioError
from sim.signals import signals_deferred

KINDS = ("run", "sweep", "validation", "counterfactual", "sensitivity", "calibration")
MANIFEST = "manifest.json"
REPORT_LISTING = "report.sha256"  # the SHA-256 of each file ``diplosim report`` wrote (sha256sum -c)
NAMED_AT_MOST = 3  # files named in a refusal before "and N more"
MANIFEST_LIMIT = 64 * 1024 * 1024  # bytes; a manifest diplosim writes is a few KB
# sensitivity manifests written before every manifest carried "kind" and "package"
_LEGACY_SENSITIVITY_KEYS = {"scenario_id", "scenario_sha256", "decision", "option", "samples",
                            "points", "members", "seed"}
_SIDE = re.compile(r"^\.(?P<name>.+)\.diplosim-(?P<role>staging|old)-(?P<pid>\d+)-[0-9a-f]+$")


class OutputError(ScenarioError):
    """An output path that cannot be used, or a write that failed: one line for the user.
    ``located=False`` gives the bare message (e.g. "no space left writing DIR")."""

    def __init__(self, file: str, path: tuple[str | int, ...], line: int | None, message: str,
                 *, located: bool = True):
        super().__init__(file, path, line, message)
        if not located:
            self.args = (message,)


@dataclass(frozen=True)
class Where:
    """Where the output path was given, for messages: a command-line flag, or a spec's key."""

    file: str
    key: tuple[str | int, ...]
    line: int | None = None

    @classmethod
    def flag(cls, out: str | os.PathLike[str], flag: str = "--out") -> Where:
        return cls(str(out), (flag,))

    def names_target(self, out: str) -> bool:
        return self.file == out


@dataclass(frozen=True)
class Target:
    """A checked output path: ``state`` is new, empty, replace (an earlier diplosim result of
    ``earlier`` kind) or resume (the same unfinished work, for sweeps)."""

    given: str
    path: Path  # absolute
    kind: str
    state: Literal["new", "empty", "replace", "resume"]
    earlier: str | None
    force: bool
    where: Where

    def replaced_note(self) -> str | None:
        """What the command prints after replacing an earlier result, or None."""
        if self.state != "replace":
            return None
        return f"replaced the earlier {self.earlier} result in {self.given}"


# -- what a folder holds ----------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest.json as a dict, or None when it is missing, a link, too large or
    not a JSON object (such a folder is not one diplosim wrote)."""
    path = folder / MANIFEST
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MANIFEST_LIMIT:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def manifest_kind(manifest: dict[str, Any], folder: Path | None = None) -> str | None:
    """The kind of result a diplosim manifest describes, or None. Manifests written before
    every manifest said its kind are recognised by their keys: a run has ``scenario_file`` and
    ``runs``, a sweep ``spec_sha256``, a sensitivity its design keys (and sensitivity.csv)."""
    kind = manifest.get("kind")
    if manifest.get("package") == "diplosim":
        if kind in KINDS:
            return kind
        if kind is None and "spec_sha256" in manifest:
            return "sweep"
        if kind is None and "scenario_file" in manifest and "runs" in manifest:
            return "run"
        return None
    if (kind is None and _LEGACY_SENSITIVITY_KEYS <= set(manifest) and folder is not None
            and (folder / "sensitivity.csv").is_file()):
        return "sensitivity"
    return None


def folder_kind(folder: Path) -> str | None:
    """The kind of the diplosim result in ``folder`` (a real folder), or None."""
    manifest = read_manifest(folder)
    return manifest_kind(manifest, folder) if manifest is not None else None


def _file_kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a folder"


# -- the policy -------------------------------------------------------------------------------


def check(
    out: str | os.PathLike[str],
    kind: str,
    *,
    force: bool = False,
    where: Where | None = None,
    unfinished: Callable[[Path], str | None] | None = None,
    in_place: Callable[[str], bool] | None = None,
) -> Target:
    """Decide whether ``out`` may receive a result of ``kind``, touching nothing.

    ``unfinished`` (sweeps) tells about work written in place: it returns "same" when the
    folder holds this very work unfinished (resumed), "other" for different unfinished work of
    this kind (replaced only with ``force``), or None; ``in_place`` tells which files (paths
    relative to the folder) that work leaves, vouched for without a manifest entry. Raises
    :class:`OutputError`."""
    given = os.fspath(out)
    where = where or Where.flag(given)
    expected = f"expected a new folder, an empty folder or an earlier {kind} result of diplosim"

    def refuse(what: str, hint: str = "") -> OutputError:
        subject = "" if where.names_target(given) else f"{given} "
        return OutputError(where.file, where.key, where.line,
                           f"{subject}{what}; {hint or expected}")

    if given == "":
        _refuse_empty(where, kind)
    path = Path(os.path.abspath(given))
    if _holds_cwd(path):
        raise refuse("is the current folder or holds it", f"expected a folder of its own for the "
                     f"{kind} result")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        _check_creatable(path, refuse)
        return Target(given, path, kind, "new", None, force, where)
    except OSError as exc:
        raise refuse(f"cannot be inspected ({exc.strerror})", expected) from None
    if stat.S_ISLNK(info.st_mode):
        raise refuse(f"is a symbolic link (to {os.readlink(path)}), and links are never "
                     "followed or replaced", expected)
    if not stat.S_ISDIR(info.st_mode):
        raise refuse(f"is {_file_kind(info.st_mode)}", expected)
    _check_creatable(path, refuse)
    try:
        with os.scandir(path) as entries:
            empty = next(entries, None) is None
    except OSError as exc:
        raise refuse(f"cannot be listed ({exc.strerror})", expected) from None
    if empty:
        return Target(given, path, kind, "empty", None, force, where)
    occupied = _Occupied(path, given, kind, force, where, refuse, in_place)
    return occupied.decide(folder_kind(path), unfinished(path) if unfinished is not None else None,
                           expected)


@dataclass(frozen=True)
class _Occupied:
    """A folder that holds something: resumed, replaced, or refused (the policy's second half)."""

    path: Path
    given: str
    kind: str
    force: bool
    where: Where
    refuse: Callable[..., OutputError]
    in_place: Callable[[str], bool] | None

    def target(self, state: str, earlier: str) -> Target:
        return Target(self.given, self.path, self.kind, state, earlier, self.force, self.where)

    def replace(self, earlier: str) -> Target:
        _refuse_changed(self.path, self.given, earlier, self.refuse, self.in_place)
        return self.target("replace", earlier)

    def decide(self, found: str | None, work: str | None, expected: str) -> Target:
        kind, force, refuse = self.kind, self.force, self.refuse
        if work == "same":
            _refuse_changed(self.path, self.given, kind, refuse, self.in_place, edited_only=True)
            return self.target("resume", kind)
        if found == kind == "sweep" and not force:
            raise refuse("holds a finished sweep of another spec (or chunking)", "pass --force "
                         "to replace it, or choose another folder")
        if found == kind:
            return self.replace(kind)
        if work == "other":
            if force:
                return self.replace(f"unfinished {kind}")
            raise refuse(f"holds a different unfinished {kind} (its spec or chunking differ)",
                         f"run that {kind}'s own spec to finish it, choose another folder, or "
                         "pass --force to replace it")
        if found is not None:
            if force:
                return self.replace(found)
            raise refuse(f"holds an earlier {found} result of diplosim, not a {kind} result",
                         f"choose another folder, or pass --force to replace the {found} result")
        note = " (--force replaces only folders diplosim wrote)" if force else ""
        raise refuse(f"is a folder that holds files diplosim did not write (no diplosim "
                     f"{MANIFEST}){note}", expected)


def _refuse_changed(path: Path, given: str, earlier: str, refuse: Callable[..., OutputError],
                    in_place: Callable[[str], bool] | None, edited_only: bool = False) -> None:
    """Stop, naming them, when the folder holds files added or edited since diplosim wrote it
    (``edited_only``: when resuming, which overwrites but removes nothing, only the edits)."""
    changed = changed_files(path, in_place)
    if edited_only:
        changed = [(name, how) for name, how in changed if how == "edited"]
    if not changed:
        return
    named = ", ".join(f"{name} ({how})" for name, how in changed[:NAMED_AT_MOST])
    more = f" and {len(changed) - NAMED_AT_MOST} more" if len(changed) > NAMED_AT_MOST else ""
    raise refuse(f"holds files diplosim did not write or that changed since it wrote them: "
                 f"{named}{more}; nothing was replaced or written",
                 f"move them out of {given} to replace the earlier {earlier} result there, or "
                 "choose another folder")


def changed_files(folder: Path, in_place: Callable[[str], bool] | None = None
                  ) -> list[tuple[str, str]]:
    """(path relative to ``folder``, "added" or "edited") for every entry in it that diplosim
    does not vouch for, in path order. Vouched for: manifest.json; each file the manifest (or
    ``report.sha256``) gives a SHA-256 for, as a regular file with that SHA-256 now; and what
    ``in_place`` accepts. Anything else, an empty folder or a link included, was added."""
    manifest = read_manifest(folder) or {}
    hashes = {**_listed_hashes(manifest.get("sha256")), **_report_hashes(folder)}
    vouched = {MANIFEST, *([REPORT_LISTING] if (folder / REPORT_LISTING).is_file() else [])}
    changed = []
    for name in _entries(folder):
        if name in vouched:
            continue
        if name in hashes:
            if not _holds(folder / name, hashes[name]):
                changed.append((name, "edited"))
        elif in_place is None or not in_place(name):
            changed.append((name, "added"))
    return sorted(changed)


def _entries(folder: Path) -> Iterator[str]:
    """Every file, link and empty folder under ``folder`` (links are not followed), relative,
    an empty folder ending in ``/``."""
    for root, dirs, files in os.walk(folder):
        here = Path(root).relative_to(folder)
        links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = [d for d in dirs if d not in links]
        for name in [*files, *links]:
            yield (here / name).as_posix()
        if not dirs and not files and not links and here != Path("."):
            yield here.as_posix() + "/"


def _listed_hashes(listed: Any) -> dict[str, str]:
    if not isinstance(listed, dict):
        return {}
    return {k: v for k, v in listed.items() if isinstance(k, str) and isinstance(v, str)}


_LISTING_LINE = re.compile(r"^(?P<sha>[0-9a-f]{64})  (?P<name>[^\n]+)$")


def _report_hashes(folder: Path) -> dict[str, str]:
    """The files ``diplosim report`` wrote into ``folder`` and their SHA-256, from its
    ``report.sha256``; {} when it is missing, a link, too large or not such a listing."""
    path = folder / REPORT_LISTING
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > MANIFEST_LIMIT:
            return {}
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    found = [_LISTING_LINE.match(line) for line in lines]
    return {m["name"]: m["sha"] for m in found if m} if all(found) else {}


def report_listing(folder: Path, names: list[str]) -> str:
    """The text of ``report.sha256`` for the report files ``names`` in ``folder``."""
    return "".join(f"{sha}  {name}\n" for name, sha in sorted(file_hashes(folder, names).items()))


def _holds(path: Path, sha256: str) -> bool:
    """Whether ``path`` is a regular file (not a link, pipe or device) with that SHA-256."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        return file_hashes(path.parent, [path.name])[path.name] == sha256
    except OSError:
        return False


def _holds_cwd(path: Path) -> bool:
    try:
        return Path.cwd().is_relative_to(path)
    except OSError:  # the working folder was removed: it is not the target
        return False


def _refuse_empty(where: Where, kind: str) -> NoReturn:
    message = f"an empty path; expected the folder to write the {kind} result to"
    if where.file:
        raise OutputError(where.file, where.key, where.line, message)
    raise OutputError("", where.key, None, f"{where.key[0]}: {message}", located=False)


def _check_creatable(path: Path, refuse: Callable[..., OutputError]) -> None:
    """The nearest existing ancestor must be a folder this process can write in (probed by
    creating and removing a folder there: permission bits alone do not tell, e.g. in /proc)."""
    ancestor = path.parent
    while not os.path.lexists(ancestor):
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise refuse(f"cannot be created: {ancestor} is {_file_kind(os.lstat(ancestor).st_mode)}",
                     "expected a path inside a folder")
    probe = ancestor / f".diplosim-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as exc:
        raise refuse(f"cannot be written: no folder can be created in {ancestor} "
                     f"({exc.strerror})", "expected a path in a folder you can write to") from None


# -- writing ----------------------------------------------------------------------------------


class Staging:
    """The staging folder of one result: opened beside the target, committed by renaming it
    into place, discarded (with any parent folders it created) on every other way out.

    As a context manager it opens on entry, commits on a clean exit, discards otherwise, and
    turns an OSError while writing into one :class:`OutputError` naming the target."""

    def __init__(self, target: Target):
        self.target = target
        self.folder: Path | None = None
        self.committed = False
        self._created: list[Path] = []

    def __enter__(self) -> Path:
        return self.open()

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
            return
        self.discard()
        if isinstance(value, OSError) and not isinstance(value, BrokenPipeError):
            raise write_error(self.target.given, value) from None

    def open(self) -> Path:
        """Create the parents and the staging folder; remove stale ones left by dead runs."""
        target = self.target.path
        try:
            self._created = _make_parents(target.parent)
            remove_stale(target)
            name = f".{target.name}.diplosim-staging-{os.getpid()}-{secrets.token_hex(4)}"
            folder = target.parent / name
            os.mkdir(folder, 0o777)  # the umask applies, as for any folder the user makes
            self.folder = folder
        except OSError as exc:
            self.discard()
            raise write_error(self.target.given, exc) from None
        return folder

    def commit(self) -> None:
        """Rename the staging folder into place, after checking again that the target is still
        one the policy allows (it may have changed while the result was computed)."""
        if self.folder is None or self.committed:
            return
        t = self.target
        try:
            check(t.given, t.kind, force=t.force, where=t.where)
            with signals_deferred():
                _swap_into_place(self.folder, t.path)
                self.committed = True
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError):
                raise write_error(t.given, exc) from None
            raise
        finally:
            self._created = []  # the parents now hold the result (or were removed)

    def discard(self) -> None:
        """Remove the staging folder and any parent folders it created (idempotent)."""
        with signals_deferred():
            if self.folder is not None and not self.committed:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
            for parent in reversed(self._created):
                try:
                    parent.rmdir()
                except OSError:
                    break
            self._created = []


def _make_parents(folder: Path) -> list[Path]:
    """mkdir -p ``folder``; the folders it created, outermost first."""
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    created = []
    for path in reversed(missing):
        os.mkdir(path)
        created.append(path)
    return created


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename ``staging`` to ``out``; an earlier result there is moved aside, then removed."""
    if not os.path.lexists(out):
        os.replace(staging, out)
        return
    old = out.parent / f".{out.name}.diplosim-old-{os.getpid()}-{secrets.token_hex(4)}"
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def prepare_in_place(target: Target, unfinished: Callable[[Path], str | None] | None = None,
                     in_place: Callable[[str], bool] | None = None) -> None:
    """For work written in place (a sweep's chunks): create the folder, or clear the way by
    removing the earlier result it replaces (checked again first, with the same
    ``unfinished`` and ``in_place`` as :func:`check`). Raises :class:`OutputError`."""
    try:
        remove_stale(target.path)
        if target.state == "replace":
            again = check(target.given, target.kind, force=target.force, where=target.where,
                          unfinished=unfinished, in_place=in_place)
            if again.state != "replace":
                return prepare_in_place(again, unfinished, in_place)
            with signals_deferred():
                old = (target.path.parent /
                       f".{target.path.name}.diplosim-old-{os.getpid()}-{secrets.token_hex(4)}")
                os.replace(target.path, old)
                shutil.rmtree(old, ignore_errors=True)
        target.path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(target.given, exc) from None


def owner_gone(pid: int) -> bool:
    """Whether the process ``pid`` no longer exists (so what it left behind is stale)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def remove_stale(target: Path) -> None:
    """Remove staging folders beside ``target`` left by processes that no longer run. An
    earlier result left moved aside (a kill between the two renames of a swap) is put back
    when nothing took its place, else removed."""
    try:
        with os.scandir(target.parent) as found:
            entries = list(found)
    except FileNotFoundError:
        return
    for entry in entries:
        match = _SIDE.match(entry.name)
        if (not match or match["name"] != target.name or not entry.is_dir(follow_symlinks=False)
                or not owner_gone(int(match["pid"]))):
            continue
        path = Path(entry.path)
        if match["role"] == "old" and not os.path.lexists(target):
            os.replace(path, target)
        else:
            shutil.rmtree(path, ignore_errors=True)


def no_space(exc: OSError) -> bool:
    """Whether ``exc`` means the disk (or quota) is full; pyarrow says so only in words."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc)


def write_error(out: str, exc: OSError, after: str = "") -> OutputError:
    """One line for a failed write of the result to ``out``; ``after`` says what was kept."""
    if no_space(exc):
        message = f"no space left writing {out}"
        tail = after or "the partial result was removed"
    else:
        name = exc.filename if exc.filename and ".diplosim-staging-" not in str(exc.filename) else out
        message = f"cannot write {name}: {exc.strerror or exc}"
        tail = after or f"nothing was written to {out}"
    return OutputError(out, (), None, f"{message}; {tail}", located=False)


def write_file(out: str | os.PathLike[str], text: str, flag: str = "--out") -> None:
    """Write one text file atomically (temporary file beside it, then renamed). A regular file
    there is replaced only when it is an earlier copy (a JSON object with the same "title",
    as for ``diplosim schema``); a folder, link, device, pipe or other file is refused, as is
    a path whose folder cannot be written. Raises :class:`OutputError`."""
    given = os.fspath(out)
    where = Where.flag(given, flag)
    expected = "expected a new file or an earlier copy of this file"
    if given == "":
        raise OutputError("", where.key, None, f"{flag}: an empty path; expected a file name",
                          located=False)
    path = Path(os.path.abspath(given))
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(given, where.key, None, f"cannot be inspected ({exc.strerror})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(given, where.key, None, f"is {_file_kind(info.st_mode)}; {expected}")
    if info is not None and not _same_document(path, text):
        raise OutputError(given, where.key, None, f"is a file this command did not write; {expected}")
    tmp = path.parent / f".{path.name}.diplosim-staging-{os.getpid()}-{secrets.token_hex(4)}"
    created: list[Path] = []
    try:
        created = _make_parents(path.parent)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException as exc:
        with signals_deferred():
            try:
                tmp.unlink(missing_ok=True)
                for parent in reversed(created):
                    parent.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise write_error(given, exc, after=f"nothing was written to {given}") from None
        raise


def _same_document(path: Path, text: str) -> bool:
    """Whether the file at ``path`` is an earlier copy of the JSON document ``text``."""
    try:
        if path.stat().st_size > MANIFEST_LIMIT:
            return False
        old = json.loads(path.read_text(encoding="utf-8"))
        new = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(old, dict) and isinstance(new, dict) and old.get("title") == new.get("title")


# -- manifests --------------------------------------------------------------------------------


def package_version() -> str:
    try:
        return metadata.version("diplosim")
    except metadata.PackageNotFoundError:
        return "unknown"


def base_manifest(kind: str) -> dict[str, Any]:
    """What every manifest starts with: its kind, the tool and the versions that wrote it."""
    import numpy as np

    return {"kind": kind, "package": "diplosim", "version": package_version(),
            "python": platform.python_version(), "mesa": metadata.version("mesa"),
            "numpy": np.__version__}


def file_hashes(folder: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of each listed file; a listed folder (``name/``) gives every file under it."""
    hashes: dict[str, str] = {}
    for name in names:
        path = folder / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest = hashlib.sha256()
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            hashes[file.relative_to(folder).as_posix()] = digest.hexdigest()
    return hashes


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` into ``folder`` with the SHA-256 of every file it lists."""
    manifest = {**manifest, "sha256": file_hashes(folder, list(manifest.get("files", [])))}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                   encoding="utf-8")
