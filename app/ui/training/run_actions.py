"""The run controls: Run menu entries, toolbar buttons, the device selector, the progress label."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QToolBar

DEVICES = (("cpu", "CPU"), ("gpu", "GPU"))


@dataclass
class RunActions:
    """The actions and widgets the training room adds to the main window."""

    run: QAction
    continue_: QAction
    pause: QAction
    stop: QAction
    step_forward: QAction
    step_backward: QAction
    reset_step: QAction
    device: QComboBox
    progress: QLabel

    def set_enabled(self, **states: bool) -> None:
        """Enable or disable actions by field name: ``set_enabled(run=False, stop=True)``."""
        for name, on in states.items():
            getattr(self, name).setEnabled(on)


def _action(
    window: QMainWindow,
    actions_by_name: dict[str, QAction],
    spec: tuple[str, str, str, tuple[str, ...], str],
) -> QAction:
    _field, name, text, keys, tip = spec
    action = QAction(text, window)
    action.setObjectName(name)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    tip = tip or text.replace("&", "")
    action.setToolTip(f"{tip} ({', '.join(keys)})" if keys else tip)
    action.setStatusTip(tip)
    window.addAction(action)
    actions_by_name[name] = action
    return action


def device_selector(gpu_reason: str | None) -> QComboBox:
    """CPU/GPU; the GPU entry is greyed out with ``gpu_reason`` as its tooltip when unusable."""
    box = QComboBox()
    box.setObjectName("deviceSelector")
    box.setToolTip("Device to train on")
    for key, text in DEVICES:
        box.addItem(text, key)
    if gpu_reason is not None:
        model = box.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(1)
        item.setEnabled(False)
        item.setToolTip(f"GPU unavailable: {gpu_reason}")
        item.setText("GPU (unavailable)")
        box.setToolTip(f"Device to train on. GPU unavailable: {gpu_reason}")
    return box


# The run controls: RunActions field, object name, text, keys, tooltip. The actions and their
# rows in Help > Keyboard Shortcuts (:func:`shortcut_rows`) both come from this table.
RUN_SPECS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    ("run", "actionRun", "&Run", ("F5",), "Train the graph from scratch"),
    (
        "continue_",
        "actionContinue",
        "&Continue Training",
        ("Ctrl+F5",),
        "Train more epochs from the current weights",
    ),
    ("pause", "actionPause", "&Pause", ("F6",), "Pause or resume training"),
    ("stop", "actionStop", "&Stop", ("Shift+F5",), "Stop training"),
    (
        "step_forward",
        "actionStepForward",
        "Step &Forward",
        ("F10",),
        "Run the next node on one batch",
    ),
    (
        "step_backward",
        "actionStepBackward",
        "Step &Backward",
        ("Shift+F10",),
        "Propagate the gradient through the next node",
    ),
    ("reset_step", "actionResetStep", "Reset S&tep", ("Ctrl+F10",), "Leave the step-through"),
)


#: Run > Evaluate's key (the action belongs to the results room, which adds it after this one).
EVALUATE_KEY = "F7"


def shortcut_rows() -> list[tuple[str, str]]:
    """(keys, menu text) of the run controls and Run > Evaluate, for the shortcut list."""
    rows = [(" / ".join(keys), text.replace("&", "")) for _f, _n, text, keys, _t in RUN_SPECS]
    return [*rows, (EVALUATE_KEY, "Evaluate")]


def build_run_actions(
    window: QMainWindow,
    menu: QMenu,
    bar: QToolBar,
    actions_by_name: dict[str, QAction],
    gpu_reason: str | None,
) -> RunActions:
    """Create the run controls on ``window`` (registered in ``actions_by_name``) and add them
    to the Run ``menu``, the toolbar ``bar`` and the status bar."""
    made = {spec[0]: _action(window, actions_by_name, spec) for spec in RUN_SPECS}
    actions = RunActions(**made, device=device_selector(gpu_reason), progress=QLabel(""))
    actions.pause.setCheckable(True)
    actions.progress.setObjectName("trainingProgress")
    actions.progress.setToolTip(
        "Training progress. The run trains one epoch at a time: a new "
        "epoch count applies when the epoch under way ends; a new "
        "learning rate at the next step."
    )
    for group in (
        (actions.run, actions.continue_, actions.pause, actions.stop),
        (actions.step_forward, actions.step_backward, actions.reset_step),
    ):
        for action in group:
            menu.addAction(action)
        menu.addSeparator()
    bar.addSeparator()
    for shown in (
        actions.run,
        actions.pause,
        actions.stop,
        None,
        actions.step_forward,
        actions.step_backward,
        actions.reset_step,
    ):
        if shown is None:
            bar.addSeparator()
        else:
            bar.addAction(shown)
    bar.addSeparator()
    bar.addWidget(actions.device)
    window.statusBar().addPermanentWidget(actions.progress)
    actions.progress.hide()  # shown while a run trains: its fixed width is room messages need
    return actions
