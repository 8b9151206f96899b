"""Python's cyclic garbage collection on the GUI thread only.

The collector runs on whichever thread happens to allocate when a generation fills up: in the
editor, often a training or evaluation worker thread. A Qt widget that only Python owns (no
parent) and sits in a reference cycle is then destroyed there. Qt widgets may only be destroyed
on the GUI thread, and doing it elsewhere crashed the UI tests (a segmentation fault, or a
deadlock between the worker's destructor and the GUI thread's deferred deletions).

:func:`collect_on_gui_thread` turns automatic collection off and collects on a one-second timer
of the GUI thread instead, generation by generation with the collector's own thresholds
(pyqtgraph's ``GarbageCollector``, made for this). The engine's training steps leave no cyclic
garbage (each step's graph is freed by reference counting), so memory does not grow between the
timer's checks. When the application quits, automatic collection comes back on
(:func:`stop_collecting`).
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["collect_on_gui_thread", "collecting", "stop_collecting"]

_collector: Any = None


def collect_on_gui_thread() -> None:
    """Move cyclic garbage collection to a timer of the calling (GUI) thread, once per process;
    a QApplication must exist."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector
        from PySide6.QtCore import QCoreApplication

        _collector = GarbageCollector(interval=1.0)
        application = QCoreApplication.instance()
        if application is not None:
            application.aboutToQuit.connect(stop_collecting)


def stop_collecting() -> None:
    """Stop the GUI thread's collector and turn automatic collection back on (when the
    application quits, or for code that goes on without an event loop)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
        gc.enable()


def collecting() -> bool:
    """Whether the GUI thread's collector is installed."""
    return _collector is not None
