"""The try-it dock: give the trained model one input and see its output at once.

Image datasets get a grid to draw on, tabular ones a field per feature, text models a prompt.
The output (class probabilities, the predicted value, or the next-character distribution)
follows every change of the input.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.graph.compile import Program
from app.graph.errors import GraphError
from app.graph.evaluation import predict, split_of, task_of
from app.graph.sampling import next_char_probabilities
from app.graph.scores import probabilities
from app.ui.results.sampler import ProgramSource
from app.ui.results.samples import SampleKind, image_shape, pixel_range, sample_kind
from app.ui.results.widgets import DrawGrid, ProbabilityBars
from engine.data import Dataset

TOP_CHARACTERS = 12
MAX_FEATURES = 64


class TryItPanel(QWidget):
    """One input in, the model's answer out (``tryItPanel``).

    Call :meth:`refresh` when the trained model changes; the input editor is rebuilt for the
    model's dataset and the output recomputed.
    """

    def __init__(self, program: ProgramSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tryItPanel")
        self._program = program
        self.program: Program | None = None
        self.dataset: Dataset | None = None
        self.kind: SampleKind | None = None
        self.grid: DrawGrid | None = None
        self.fields: list[QDoubleSpinBox] = []
        self.prompt: QLineEdit | None = None
        self.sample: QSpinBox | None = None
        self.status = QLabel("")
        self.status.setObjectName("tryItStatus")
        self.status.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.value = QLabel("")
        self.value.setObjectName("tryItValue")
        self.input_area = QVBoxLayout()
        output = QVBoxLayout()
        output.addWidget(QLabel("<b>Model output</b>"))
        output.addWidget(self.value)
        output.addWidget(self.bars)
        output.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(self.input_area, 1)
        body.addLayout(output, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)
        self.refresh()

    # -- building the input editor ------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the input editor for the current trained model and show its output."""
        program = self._program()
        self.program = program
        self._clear_inputs()
        if program is None or program.dataset is None:
            self.dataset, self.kind = None, None
            self.status.setText("Train the model (or open it with its weights) to try it.")
            self.bars.set_probabilities([], np.zeros(0))
            self.value.setText("")
            return
        try:
            self.dataset, _ = split_of(program, "val")
        except GraphError as error:
            self.status.setText(str(error))
            return
        self.kind = sample_kind(self.dataset)
        builders = {
            SampleKind.IMAGE: self._build_image,
            SampleKind.TABULAR: self._build_tabular,
            SampleKind.TEXT: self._build_text,
            SampleKind.SEQUENCE: self._build_sequence,
        }
        builders[self.kind](self.dataset)
        self.update_output()

    def _clear_inputs(self) -> None:
        while self.input_area.count():
            item = self.input_area.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.grid, self.fields, self.prompt, self.sample = None, [], None, None

    def _sample_picker(self, dataset: Dataset) -> QWidget:
        """A row to load a sample of the validation split into the editor."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sample = QSpinBox()
        self.sample.setObjectName("tryItSample")
        self.sample.setRange(0, len(dataset) - 1)
        load = QPushButton("Load sample")
        load.setObjectName("tryItLoadSample")
        load.clicked.connect(lambda: self.load_sample(self.sample.value() if self.sample else 0))
        layout.addWidget(QLabel("Validation sample"))
        layout.addWidget(self.sample)
        layout.addWidget(load)
        layout.addStretch(1)
        return row

    def _build_image(self, dataset: Dataset) -> None:
        height, width = image_shape(dataset)
        low, high = pixel_range(dataset)
        self.grid = DrawGrid(height, width, low, high)
        self.grid.changed.connect(self.update_output)
        clear = QPushButton("Clear")
        clear.setObjectName("tryItClear")
        clear.clicked.connect(self.grid.clear)
        self.status.setText("Draw on the grid (left button draws, right button erases).")
        self.input_area.addWidget(self.grid, 1)
        self.input_area.addWidget(self._sample_picker(dataset))
        self.input_area.addWidget(clear)

    def _build_tabular(self, dataset: Dataset) -> None:
        holder = QWidget()
        form = QFormLayout(holder)
        features = int(np.prod(dataset.input_shape))
        low, high = dataset.x.min(axis=0).ravel(), dataset.x.max(axis=0).ravel()
        for k in range(min(features, MAX_FEATURES)):
            field = QDoubleSpinBox()
            field.setObjectName(f"tryItFeature{k}")
            span = float(high[k] - low[k]) or 1.0
            field.setRange(float(low[k]) - 10 * span, float(high[k]) + 10 * span)
            field.setDecimals(3)
            field.setSingleStep(span / 20)
            field.valueChanged.connect(self.update_output)
            form.addRow(f"feature {k}", field)
            self.fields.append(field)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.status.setText("Type feature values; the output follows each change.")
        self.input_area.addWidget(scroll, 1)
        self.input_area.addWidget(self._sample_picker(dataset))
        self.load_sample(0)

    def _build_text(self, dataset: Dataset) -> None:
        self.prompt = QLineEdit(dataset.decode(dataset.x[0][: min(12, dataset.x.shape[1])]))
        self.prompt.setObjectName("tryItPrompt")
        self.prompt.textChanged.connect(self.update_output)
        self.status.setText("Type a prompt: the bars show which character the model expects next.")
        self.input_area.addWidget(QLabel("Prompt"))
        self.input_area.addWidget(self.prompt)
        self.input_area.addStretch(1)

    def _build_sequence(self, dataset: Dataset) -> None:
        self.status.setText(
            "This model reads sequences; its predictions against the true series are in the "
            "Results dock (Series tab)."
        )

    # -- input and output ---------------------------------------------------------------------
    def load_sample(self, index: int) -> None:
        """Put sample ``index`` of the validation split into the input editor."""
        dataset = self.dataset
        if dataset is None:
            return
        x = np.asarray(dataset.x[index], dtype=np.float64).ravel()
        if self.grid is not None:
            self.grid.set_values(x.reshape(-1, *self.grid.values.shape).mean(axis=0))
        for field, value in zip(self.fields, x, strict=False):
            field.blockSignals(True)
            field.setValue(float(value))
            field.blockSignals(False)
        self.update_output()

    def current_input(self) -> np.ndarray | None:
        """The input being edited as a batch of one, shaped as the dataset's inputs."""
        dataset = self.dataset
        if dataset is None:
            return None
        shape = dataset.input_shape
        if self.grid is not None:
            size = int(np.prod(shape))
            channels = max(size // self.grid.values.size, 1)
            values = np.tile(self.grid.values.ravel(), channels)
            return values.reshape(1, *shape).astype(dataset.x.dtype)
        if self.fields:
            values = np.array([f.value() for f in self.fields], dtype=np.float64)
            return values.reshape(1, *shape).astype(dataset.x.dtype)
        return None

    def update_output(self) -> None:
        """Run the model on the current input and show its answer."""
        program, dataset = self.program, self.dataset
        if program is None or dataset is None:
            return
        try:
            if self.prompt is not None:
                self._show_next_characters(program, dataset, self.prompt.text())
                return
            x = self.current_input()
            if x is None:
                return
            scores = predict(program, x)[0]
        except GraphError as error:
            self.value.setText(str(error))
            self.bars.set_probabilities([], np.zeros(0))
            return
        if task_of(program) == "regression":
            values = ", ".join(f"{v:.4g}" for v in np.ravel(scores)[:8])
            self.value.setText(f"Predicted value: <b>{values}</b>")
            self.bars.set_probabilities([], np.zeros(0))
            return
        probs = probabilities(scores)
        names = [str(k) for k in range(len(probs))]
        best = int(probs.argmax())
        self.value.setText(f"Predicted class: <b>{names[best]}</b> ({100 * probs[best]:.1f}%)")
        self.bars.set_probabilities(names, probs)

    def _show_next_characters(self, program: Program, dataset: Dataset, text: str) -> None:
        if not text:
            self.value.setText("Type at least one character.")
            self.bars.set_probabilities([], np.zeros(0))
            return
        probs = next_char_probabilities(program, text)
        vocab = dataset.vocab or []
        top = np.argsort(-probs)[:TOP_CHARACTERS]
        names = [_visible(vocab[k]) for k in top]
        self.value.setText(f"Most likely next character: <b>{names[0]}</b>")
        self.bars.set_probabilities(names, probs[top])


def _visible(char: str) -> str:
    """A character as a label: spaces and line breaks named."""
    return {" ": "space", "\n": "⏎", "\t": "tab"}.get(char, char)
