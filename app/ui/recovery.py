"""Autosave to a recovery file, and finding the file a crashed editor left behind.

Each running editor writes ``recovery-<pid>.nodegrad`` (plus a small ``.json`` naming the file
it was editing) in the application data folder while its document has unsaved changes, and
removes them on a clean exit or save. It holds ``recovery-<pid>.lock`` (a ``QLockFile``) while it
runs. On start, a recovery file whose lock nobody holds (Qt's stale-lock detection: the process
that wrote it is gone, on every platform) is offered for restoring. A restored file is kept
until the restored document has been saved or autosaved again, so a second crash loses nothing.
The autosave delay after an edit is a setting (:func:`autosave_delay_ms`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QSettings, QStandardPaths

from app.graph import io
from app.graph.document import GraphDocument


def recovery_dir() -> Path:
    """Where recovery files live (the per-user application data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".nodegrad") / "recovery"


AUTOSAVE_KEY = "autosave/delay_ms"
AUTOSAVE_DEFAULT_MS = 3000
AUTOSAVE_RANGE_MS = (500, 600_000)


def autosave_delay_ms() -> int:
    """How long after the last edit the recovery file is written: the ``autosave/delay_ms``
    setting (QSettings), within half a second and ten minutes; 3 s when unset or invalid."""
    raw = QSettings().value(AUTOSAVE_KEY, AUTOSAVE_DEFAULT_MS)
    try:
        value = int(str(raw))
    except ValueError:
        return AUTOSAVE_DEFAULT_MS
    lo, hi = AUTOSAVE_RANGE_MS
    return min(max(value, lo), hi)


def lock_path(recovery_file: Path) -> Path:
    """The lock a running editor holds beside its recovery file."""
    return recovery_file.with_suffix(".lock")


def _held_by_a_running_editor(recovery_file: Path) -> bool:
    """Whether another running editor holds the recovery file's lock; a stale lock (its
    process gone) is taken over and released, so the file counts as left behind."""
    lock = QLockFile(str(lock_path(recovery_file)))
    lock.setStaleLockTime(0)  # long-lived locks: only a dead owner makes one stale
    if lock.tryLock(0):
        lock.unlock()  # removes the lock file
        return False
    return lock.error() == QLockFile.LockError.LockFailedError


@dataclass(frozen=True)
class Recovered:
    """A recovery file left by an editor that did not exit cleanly."""

    path: Path
    original: str | None
    pid: int
    base_dir: str | None = None

    def folder(self) -> Path | None:
        """Where the recovered graph's relative Dataset paths are read from: the folder it had
        before the crash (its original file's, or an example's), None for a new graph."""
        if self.base_dir:
            return Path(self.base_dir)
        return Path(self.original).parent if self.original else None


class Recovery:
    """This process's recovery file."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or recovery_dir()
        self.path = self.folder / f"recovery-{os.getpid()}.nodegrad"
        self.meta = self.path.with_suffix(".json")
        self.adopted: list[Recovered] = []
        self.lock: QLockFile | None = None

    def hold_lock(self) -> bool:
        """Take this process's lock (while the editor runs); False when it cannot be made."""
        if self.lock is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                return False
            self.lock = QLockFile(str(lock_path(self.path)))
            self.lock.setStaleLockTime(0)
        return self.lock.isLocked() or self.lock.tryLock(0)

    def release_lock(self) -> None:
        """Give the lock up (a clean exit)."""
        if self.lock is not None and self.lock.isLocked():
            self.lock.unlock()

    def adopt(self, recovered: Recovered) -> None:
        """Keep a restored recovery file until this document is saved or autosaved."""
        self.adopted.append(recovered)

    def _drop_adopted(self) -> None:
        for recovered in self.adopted:
            Recovery.discard(recovered)
        self.adopted = []

    def write(self, document: GraphDocument, original: str | None) -> None:
        """Save the document to the recovery file (atomically, via ``io.save``), with its
        original file and the folder its relative Dataset paths are read from beside it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        io.save(document, self.path)
        base_dir = str(document.base_dir) if document.base_dir is not None else None
        meta = {"original": original, "base_dir": base_dir}
        self.meta.write_text(json.dumps(meta), encoding="utf-8")
        self._drop_adopted()  # the restored work is safe in this process's file now

    def clear(self) -> None:
        """Remove this process's recovery file, and a restored one it kept (saved, or
        exiting cleanly)."""
        for path in (self.path, self.meta):
            path.unlink(missing_ok=True)
        self._drop_adopted()

    def left_behind(self) -> list[Recovered]:
        """Recovery files of editors that are no longer running, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob("recovery-*.nodegrad"):
            try:
                pid = int(path.stem.split("-", 1)[1])
            except ValueError:
                continue
            if pid == os.getpid() or _held_by_a_running_editor(path):
                continue
            if any(r.path == path for r in self.adopted):
                continue
            original, base_dir = _read_meta(path.with_suffix(".json"))
            found.append(Recovered(path, original, pid, base_dir))
        return sorted(found, key=lambda r: r.path.stat().st_mtime, reverse=True)

    @staticmethod
    def discard(recovered: Recovered) -> None:
        """Delete a left-behind recovery file."""
        recovered.path.unlink(missing_ok=True)
        recovered.path.with_suffix(".json").unlink(missing_ok=True)


def _read_meta(meta: Path) -> tuple[str | None, str | None]:
    """The original file and base folder a recovery file's ``.json`` names (None when the
    file is missing or unreadable)."""
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        original, base_dir = data.get("original"), data.get("base_dir")
    except (OSError, ValueError, AttributeError):
        return None, None
    return (
        original if isinstance(original, str) else None,
        base_dir if isinstance(base_dir, str) else None,
    )
