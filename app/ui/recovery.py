"""Autosave to a recovery file, and finding the file a crashed editor left behind.

Each running editor writes ``recovery-<pid>.nodegrad`` (plus a small ``.json`` naming the file
it was editing) in the application data folder while its document has unsaved changes, and
removes them on a clean exit or save. On start, a recovery file whose process is gone is
offered for restoring.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from app.graph import io
from app.graph.document import GraphDocument


def recovery_dir() -> Path:
    """Where recovery files live (the per-user application data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".nodegrad") / "recovery"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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

    def write(self, document: GraphDocument, original: str | None) -> None:
        """Save the document to the recovery file (atomically, via ``io.save``), with its
        original file and the folder its relative Dataset paths are read from beside it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        io.save(document, self.path)
        base_dir = str(document.base_dir) if document.base_dir is not None else None
        meta = {"original": original, "base_dir": base_dir}
        self.meta.write_text(json.dumps(meta), encoding="utf-8")

    def clear(self) -> None:
        """Remove this process's recovery file (saved, or exiting cleanly)."""
        for path in (self.path, self.meta):
            path.unlink(missing_ok=True)

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
            if pid == os.getpid() or _alive(pid):
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
