"""Nothing the user did is lost: autosave soon after each edit (the delay a setting), a restored
recovery file kept until the restored work is safe again, and a QLockFile telling a running
editor's recovery file from one a crashed editor left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QSettings
from ui_driver import add_by_palette

import app.ui.recovery as recovery_module
from app.ui.main_window import MainWindow
from app.ui.recovery import AUTOSAVE_KEY, Recovery, autosave_delay_ms, lock_path


def test_autosave_follows_each_edit_after_the_delay_in_the_settings(qtbot) -> None:
    first = MainWindow()  # names the application, so QSettings below is the editor's
    qtbot.addWidget(first)
    settings = QSettings()
    settings.setValue(AUTOSAVE_KEY, 700)
    try:
        assert autosave_delay_ms() == 700
        window = MainWindow()
        qtbot.addWidget(window)
        assert window._autosave_timer.interval() == 700
        window.recovery.clear()
        add_by_palette(window, "tanh")
        assert not window.recovery.path.exists()  # debounced: not at the edit itself
        qtbot.waitUntil(window.recovery.path.exists, timeout=5000)
        settings.setValue(AUTOSAVE_KEY, "not a number")
        assert autosave_delay_ms() == 3000
        settings.setValue(AUTOSAVE_KEY, 1)
        assert autosave_delay_ms() == 500  # at least half a second
        window.recovery.clear()
    finally:
        settings.remove(AUTOSAVE_KEY)


def crash_file(window: MainWindow, pid: int) -> Path:
    """Turn the window's recovery file into one an editor with ``pid`` left behind."""
    window.autosave()
    crashed = window.recovery.folder / f"recovery-{pid}.nodegrad"
    os.replace(window.recovery.path, crashed)
    os.replace(window.recovery.meta, crashed.with_suffix(".json"))
    return crashed


def test_restored_work_survives_a_second_crash(qtbot) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    add_by_palette(first, "tanh")
    crashed = crash_file(first, 999_991)
    second = MainWindow()
    qtbot.addWidget(second)
    second.banner.restore_button.click()
    assert "tanh_1" in second.document.nodes
    assert crashed.exists()
    # second crash before any autosave: a new editor still finds the work
    found = [r.path for r in Recovery(second.recovery.folder).left_behind()]
    assert crashed in found
    add_by_palette(second, "relu")
    second.autosave()  # safe in this editor's own file now: the old one goes
    assert not crashed.exists() and second.recovery.path.exists()
    for window in (first, second):
        window.recovery.clear()


HOLD = textwrap.dedent(
    """
    import os, sys, time
    from PySide6.QtCore import QCoreApplication, QLockFile
    app = QCoreApplication([])
    app.setApplicationName("nodegrad")
    lock = QLockFile(sys.argv[1])
    lock.setStaleLockTime(0)
    assert lock.tryLock(0)
    print("locked", flush=True)
    if sys.argv[2] == "crash":
        os._exit(0)  # no unlock: the lock file stays, naming a process that is gone
    sys.stdin.readline()
    """
)


def test_a_lock_held_by_a_running_editor_hides_its_file_and_a_stale_one_does_not(
    tmp_path,
) -> None:
    assert not hasattr(recovery_module, "_alive")  # no os.kill(pid, 0) liveness check
    folder = tmp_path / "recovery"
    folder.mkdir()
    running, crashed = folder / "recovery-424242.nodegrad", folder / "recovery-424243.nodegrad"
    for path in (running, crashed):
        path.write_text("{}", encoding="utf-8")
    script = [sys.executable, "-c", HOLD]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    dead = subprocess.run(
        [*script, str(lock_path(crashed)), "crash"], capture_output=True, text=True, env=env
    )
    assert "locked" in dead.stdout and lock_path(crashed).exists()
    alive = subprocess.Popen(
        [*script, str(lock_path(running)), "hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert alive.stdout is not None and alive.stdout.readline().strip() == "locked"
        found = [r.path for r in Recovery(folder).left_behind()]
        assert found == [crashed]  # the running editor's file is not offered
        assert not lock_path(crashed).exists()  # the stale lock was cleaned up
    finally:
        alive.communicate("\n", timeout=30)
    found = sorted(r.path for r in Recovery(folder).left_behind())
    assert found == [running, crashed] or found == sorted([running, crashed])
