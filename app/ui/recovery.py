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


class Recovery:
    """This process's recovery file."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or recovery_dir()
        self.path = self.folder / f"recovery-{os.getpid()}.nodegrad"
        self.meta = self.path.with_suffix(".json")

    def write(self, document: GraphDocument, original: str | None) -> None:
        """Save the document to the recovery file (atomically, via ``io.save``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        io.save(document, self.path)
        self.meta.write_text(json.dumps({"original": original}), encoding="utf-8")

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
            original = None
            meta = path.with_suffix(".json")
            if meta.exists():
                try:
                    original = json.loads(meta.read_text(encoding="utf-8")).get("original")
                except (OSError, ValueError, AttributeError):
                    original = None
            found.append(Recovered(path, original, pid))
        return sorted(found, key=lambda r: r.path.stat().st_mtime, reverse=True)

    @staticmethod
    def discard(recovered: Recovered) -> None:
        """Delete a left-behind recovery file."""
        recovered.path.unlink(missing_ok=True)
        recovered.path.with_suffix(".json").unlink(missing_ok=True)
