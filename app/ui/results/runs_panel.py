"""The runs dock: the run history beside the graph as a sortable table.

Ticking runs overlays their loss curves on the loss plot; a run's settings can be restored, a
run renamed (edit its name) or deleted; a run of a graph edited since says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.graph.runs import RunHistory, RunRecord, delete_run, load_runs, rename_run

COLUMNS = ("Run", "Started", "Epochs", "Time", "Loss", "Val loss", "Val acc", "End", "Graph")
NAME, STARTED = 0, 1
ID_ROLE = Qt.ItemDataRole.UserRole


class _SortItem(QTableWidgetItem):
    """A cell sorted by the value kept under ``Qt.UserRole + 1`` (numbers, ISO times)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(ID_ROLE + 1), other.data(ID_ROLE + 1)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return bool(mine < theirs)


def _cell(text: str, key: object = None) -> QTableWidgetItem:
    item = _SortItem(text)
    item.setData(ID_ROLE + 1, key if key is not None else text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _number(value: float | None, percent: bool = False) -> QTableWidgetItem:
    if value is None:
        return _cell("–", float("-inf"))
    return _cell(f"{100 * value:.2f}%" if percent else f"{value:.4f}", float(value))


class RunsPanel(QWidget):
    """Recorded runs, newest first (``runsPanel``; table ``runsTable``).

    Signals: ``overlay_changed(list[RunRecord])`` (the ticked runs), ``restore_requested(
    RunRecord)`` (put its settings back), ``message(str)`` (status-bar text).
    """

    overlay_changed = Signal(list)
    restore_requested = Signal(object)
    message = Signal(str)

    def __init__(self, fingerprint: Callable[[], str | None], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self._fingerprint = fingerprint
        self.graph_path: Path | None = None
        self.history = RunHistory()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.table.itemChanged.connect(self._on_item_changed)
        self.note = QLabel("")
        self.note.setObjectName("runsNote")
        self.note.setWordWrap(True)
        self.restore = QPushButton("Restore settings")
        self.restore.setObjectName("runsRestore")
        self.restore.clicked.connect(self._on_restore)
        self.delete = QPushButton("Delete")
        self.delete.setObjectName("runsDelete")
        self.delete.clicked.connect(self._on_delete)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Tick runs to compare their loss curves."), 1)
        buttons.addWidget(self.restore)
        buttons.addWidget(self.delete)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self._filling = False
        self._marks = QTimer(self)
        self._marks.setSingleShot(True)
        self._marks.setInterval(200)
        self._marks.timeout.connect(self._fill)

    # -- contents -----------------------------------------------------------------------------
    def load(self, graph_path: Path | None) -> None:
        """Read the history beside ``graph_path`` (none for an unsaved graph) and list it."""
        self.graph_path = graph_path
        self.history = load_runs(graph_path) if graph_path is not None else RunHistory()
        self._fill()

    def reload(self) -> None:
        """Read the history again (a run was recorded)."""
        self.load(self.graph_path)

    def refresh_marks(self) -> None:
        """Recompute the "edited since" column soon (after a burst of edits, once)."""
        self._marks.start()

    def _fill(self) -> None:
        ticked = set(self.ticked_ids())
        current = self._fingerprint() if self.history.runs else None  # nothing to compare
        self._filling = True
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.history.runs))
        for row, run in enumerate(self.history.runs):
            name = QTableWidgetItem(run.name)
            name.setData(ID_ROLE, run.id)
            name.setFlags(
                name.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable
            )
            name.setCheckState(
                Qt.CheckState.Checked if run.id in ticked else Qt.CheckState.Unchecked
            )
            name.setToolTip("Tick to overlay this run's loss on the plot; double-click to rename")
            edited = current is not None and run.fingerprint != current
            cells = [
                name, _cell(run.started_local, (run.started, row)),
                _cell(str(len(run.epochs)), len(run.epochs)),
                _cell(f"{run.duration_s:.1f} s", run.duration_s),
                _number(run.final.get("train_loss")), _number(run.final.get("val_loss")),
                _number(run.final.get("val_accuracy"), percent=True),
                _cell(run.outcome), _cell("edited since" if edited else "same"),
            ]  # fmt: skip
            if edited:
                cells[-1].setToolTip("The graph was edited after this run")
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(STARTED, Qt.SortOrder.DescendingOrder)
        self._filling = False
        notes = list(self.history.notes)
        if self.graph_path is None:
            notes.insert(0, "Save the graph to keep a history of its runs.")
        elif not self.history.runs:
            notes.insert(0, "No runs recorded yet.")
        self.note.setText("\n".join(notes))
        self.overlay_changed.emit(self.ticked())

    def run_at(self, row: int) -> RunRecord | None:
        """The run shown in table row ``row``."""
        item = self.table.item(row, NAME)
        run_id = item.data(ID_ROLE) if item is not None else None
        return next((r for r in self.history.runs if r.id == run_id), None)

    def row_of(self, run_id: str) -> int:
        """The table row of run ``run_id`` (-1 when not listed)."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, NAME)
            if item is not None and item.data(ID_ROLE) == run_id:
                return row
        return -1

    def ticked_ids(self) -> list[str]:
        """Ids of the ticked runs, in table order."""
        ids = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, NAME)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                ids.append(str(item.data(ID_ROLE)))
        return ids

    def ticked(self) -> list[RunRecord]:
        """The ticked runs, in table order."""
        by_id = {r.id: r for r in self.history.runs}
        return [by_id[i] for i in self.ticked_ids() if i in by_id]

    def selected(self) -> RunRecord | None:
        """The run of the current row."""
        row = self.table.currentRow()
        return self.run_at(row) if row >= 0 else None

    # -- actions --------------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != NAME:
            return
        run = next((r for r in self.history.runs if r.id == item.data(ID_ROLE)), None)
        if run is None:
            return
        if item.text().strip() and item.text() != run.name and self.graph_path is not None:
            try:
                rename_run(self.graph_path, run.id, item.text())
            except (OSError, LookupError, ValueError) as error:
                self.message.emit(f"Cannot rename the run: {error}")
            else:
                self.message.emit(f"Renamed '{run.name}' to '{item.text().strip()}'")
            self.reload()
        elif not item.text().strip():
            self.reload()
        else:
            self.overlay_changed.emit(self.ticked())

    def _on_restore(self) -> None:
        run = self.selected()
        if run is None:
            self.message.emit("Select a run to restore its settings")
            return
        self.restore_requested.emit(run)

    def _on_delete(self) -> None:
        run = self.selected()
        if run is None or self.graph_path is None:
            self.message.emit("Select a run to delete")
            return
        if not self.ask_delete(run):
            return
        try:
            delete_run(self.graph_path, run.id)
        except (OSError, LookupError) as error:
            self.message.emit(f"Cannot delete the run: {error}")
            return
        self.message.emit(f"Deleted run '{run.name}'")
        self.reload()

    def ask_delete(self, run: RunRecord) -> bool:
        """Whether to delete ``run`` (asks; tests replace this)."""
        answer = QMessageBox.question(
            self, "Delete run", f"Delete the run '{run.name}' from the history?"
        )
        return answer == QMessageBox.StandardButton.Yes
