"""The results dock's content: metrics and, by task, the views of an :class:`Evaluation`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.graph.evaluation import Evaluation
from app.ui.results.charts import ScatterView, SeriesView
from app.ui.results.confusion import ConfusionView
from app.ui.results.gallery import SampleGallery
from app.ui.results.sampler import ProgramSource, SamplerWidget

METRIC_NAMES = {
    "loss": "Loss",
    "accuracy": "Accuracy",
    "macro_f1": "Macro F1",
    "mse": "MSE",
    "mae": "MAE",
    "r2": "R²",
    "perplexity": "Perplexity",
}


def format_metric(name: str, value: float) -> str:
    """A metric for people: accuracy in percent, the others with 4 significant digits."""
    if name == "accuracy":
        return f"{100 * value:.2f}%"
    return f"{value:.4g}"


class ResultsPanel(QWidget):
    """Metrics, confusion matrix, per-class table, mistakes, regression plots and the text
    sampler of the last evaluation (``resultsPanel``).

    ``evaluate_requested(split)`` asks the owner to evaluate the loaded weights again.
    """

    evaluate_requested = Signal(str)

    def __init__(self, program: ProgramSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPanel")
        self.result: Evaluation | None = None
        self.title = QLabel("No results yet: train the model, or open it with its weights "
                            "and choose Run > Evaluate.")  # fmt: skip
        self.title.setObjectName("resultsTitle")
        self.title.setWordWrap(True)
        self.split = QComboBox()
        self.split.setObjectName("resultsSplit")
        self.split.addItem("Validation split", "val")
        self.split.addItem("Training split", "train")
        self.split.activated.connect(lambda _: self.request())
        self.evaluate = QPushButton("Evaluate")
        self.evaluate.setObjectName("resultsEvaluate")
        self.evaluate.clicked.connect(self.request)
        self.metrics = QLabel("")
        self.metrics.setObjectName("resultsMetrics")
        self.metrics.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("resultsTabs")
        self.confusion = ConfusionView()
        self.confusion.cell_clicked.connect(self.show_cell)
        self.per_class = QTableWidget(0, 5)
        self.per_class.setObjectName("perClassTable")
        self.per_class.setHorizontalHeaderLabels(["Class", "Precision", "Recall", "F1", "Support"])
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.gallery = SampleGallery()
        self.scatter = ScatterView()
        self.series = SeriesView()
        self.sampler = SamplerWidget(program)
        self.classification = QSplitter()
        self.classification.addWidget(self.confusion)
        self.classification.addWidget(self.gallery)
        self.classification.setStretchFactor(0, 1)
        self.classification.setStretchFactor(1, 1)
        self.classification.setSizes([440, 460])
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.split)
        header.addWidget(self.evaluate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.metrics)
        layout.addWidget(self.tabs, 1)
        # pages not on a tab yet belong to the panel, so Qt deletes them with it on the GUI
        # thread (an unparented widget is freed by Python, on whichever thread collects)
        for page in (self.classification, self.per_class, self.scatter, self.series, self.sampler):
            page.setParent(self)
            page.hide()

    def request(self) -> None:
        """Ask for an evaluation on the chosen split."""
        self.evaluate_requested.emit(str(self.split.currentData()))

    def clear(self, text: str = "") -> None:
        """Forget the results shown (another graph, or the model was edited)."""
        self.result = None
        self.metrics.setText("")
        self.tabs.clear()
        self.title.setText(text or "No results yet.")

    def show_error(self, text: str) -> None:
        """Say why there are no results."""
        self.clear(text)

    def show_busy(self, text: str) -> None:
        """An evaluation is under way: the old results go, ``text`` says what is coming."""
        self.clear(text)

    def show_evaluation(self, result: Evaluation) -> None:
        """Fill the panel with ``result``: the views its task has."""
        self.result = result
        split = "validation" if result.split == "val" else "training"
        note = f" ({result.note})" if result.note else ""
        self.title.setText(
            f"<b>{result.task.capitalize()}</b> on the {split} split, {result.samples} samples"
            + note
        )
        self.metrics.setText(
            " &nbsp;·&nbsp; ".join(
                f"{METRIC_NAMES.get(k, k)}: <b>{format_metric(k, v)}</b>"
                for k, v in result.metrics.items()
            )
        )
        current = self.tabs.tabText(self.tabs.currentIndex())
        self.tabs.clear()
        if result.task == "classification":
            self._show_classification(result)
        elif result.task == "regression":
            self.scatter.show_result(result)
            self.tabs.addTab(self.scatter, "Predicted vs actual")
            if result.is_sequence:
                self.series.show_result(result)
                self.tabs.addTab(self.series, "Series")
        else:
            if result.dataset is not None:
                self.sampler.suggest_prompt(result.dataset)
            self.tabs.addTab(self.sampler, "Sampler")
        for index in range(self.tabs.count()):
            if self.tabs.tabText(index) == current:
                self.tabs.setCurrentIndex(index)

    def _show_classification(self, result: Evaluation) -> None:
        if result.confusion is not None:
            self.confusion.set_matrix(result.confusion, result.classes)
        self.tabs.addTab(self.classification, "Confusion matrix")
        self.per_class.setRowCount(len(result.per_class))
        for row, scores in enumerate(result.per_class):
            cells = [scores.name, f"{scores.precision:.3f}", f"{scores.recall:.3f}",
                     f"{scores.f1:.3f}", str(scores.support)]  # fmt: skip
            for column, text in enumerate(cells):
                self.per_class.setItem(row, column, QTableWidgetItem(text))
        self.tabs.addTab(self.per_class, "Per class")
        self.show_mistakes()

    def show_mistakes(self) -> None:
        """List the mistakes, most confident first."""
        result = self.result
        if result is not None:
            indices = [m.index for m in result.mistakes]
            self.gallery.show_samples(result, indices, "Mistakes, most confident first")

    def show_cell(self, true: int, predicted: int) -> None:
        """List the samples of class ``true`` predicted as ``predicted``."""
        result = self.result
        if result is None:
            return
        names = result.classes
        self.gallery.show_samples(
            result,
            result.cell_samples(true, predicted),
            f"True {names[true]}, predicted {names[predicted]}",
        )
