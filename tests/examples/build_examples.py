"""Build the bundled example graphs through the document API and save them as .nodegrad files.

Run ``python -m tests.examples.build_examples`` from the repository root to (re)write
``examples/*.nodegrad``; the example tests check the committed files match these builders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.graph import io
from app.graph.document import GraphDocument

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

Wire = tuple[str, str, str, str]
COLUMN = 260.0  # node width 160 + 100 for the widest shape label (e.g. N×16×8×8) and its ports


def chain(
    doc: GraphDocument,
    nodes: list[tuple[str, str, dict[str, Any]]],
    wires: list[Wire],
    settings: dict[str, Any],
) -> GraphDocument:
    """Add ``(node id, type id, params)`` left to right, then the wires and settings.

    The loss and the Output head share the last column, the loss below, the head above.
    Columns are ``COLUMN`` apart, so the shape label of every wire fits between the nodes.
    """
    heads = {"output": -90.0, "mse_loss": 90.0, "cross_entropy_loss": 90.0}
    column = 0
    for node_id, type_id, params in nodes:
        if type_id in heads:
            position = ((len(nodes) - 2) * COLUMN, heads[type_id])
        else:
            position, column = (column * COLUMN, 0.0), column + 1
        doc.add_node(type_id, params, position=position, node_id=node_id)
    for src, src_port, dst, dst_port in wires:
        doc.connect(src, src_port, dst, dst_port)
    for name, value in settings.items():
        doc.set_setting(name, value)
    return doc


def xor() -> GraphDocument:
    """The book's first network: 2 inputs, 4 tanh units, 1 output, squared error."""
    return chain(
        GraphDocument(),
        [
            ("xor", "dataset", {"name": "xor"}),
            ("hidden", "linear", {"units": 4}),
            ("tanh", "tanh", {}),
            ("out", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
            ("output", "output", {"task": "regression"}),
        ],
        [
            ("xor", "x", "hidden", "x"),
            ("hidden", "y", "tanh", "x"),
            ("tanh", "y", "out", "x"),
            ("out", "y", "loss", "pred"),
            ("xor", "y", "loss", "target"),
            ("out", "y", "output", "x"),
        ],
        {"optimizer": "sgd", "learning_rate": 0.1, "momentum": 0.9, "batch_size": 4,
         "epochs": 200, "val_split": 0.0},
    )  # fmt: skip


def mlp(
    dataset: dict[str, Any], hidden: list[int], classes: int, settings: dict[str, Any]
) -> GraphDocument:
    """A ReLU multi-layer perceptron classifier with a cross-entropy loss."""
    nodes: list[tuple[str, str, dict[str, Any]]] = [("data", "dataset", dataset)]
    wires: list[Wire] = []
    last = "data", "x"
    for k, units in enumerate(hidden, start=1):
        nodes += [(f"dense{k}", "linear", {"units": units}), (f"relu{k}", "relu", {})]
        wires += [(*last, f"dense{k}", "x"), (f"dense{k}", "y", f"relu{k}", "x")]
        last = f"relu{k}", "y"
    nodes += [("logits", "linear", {"units": classes}), ("loss", "cross_entropy_loss", {})]
    nodes.append(("output", "output", {"task": "classification"}))
    wires += [
        (*last, "logits", "x"),
        ("logits", "y", "loss", "logits"),
        ("data", "y", "loss", "target"),
        ("logits", "y", "output", "x"),
    ]
    return chain(GraphDocument(), nodes, wires, settings)


def spiral() -> GraphDocument:
    """Three interleaved spirals: two hidden layers of 64 ReLU units."""
    return mlp(
        {"name": "spiral"}, [64, 64], 3,
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32, "epochs": 60},
    )  # fmt: skip


def digits_mlp() -> GraphDocument:
    """8×8 handwritten digits, flattened: one hidden layer of 128 ReLU units."""
    return mlp(
        {"name": "digits"}, [128], 10,
        {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 20},
    )  # fmt: skip


def digits_cnn() -> GraphDocument:
    """8×8 digit images: a 3×3 convolution, 2×2 max-pooling and a linear classifier."""
    return chain(
        GraphDocument(),
        [
            ("data", "dataset", {"name": "digits", "images": True}),
            ("conv", "conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
            ("relu", "relu", {}),
            ("pool", "max_pool2d", {"kernel_size": 2, "stride": 2}),
            ("flatten", "flatten", {}),
            ("logits", "linear", {"units": 10}),
            ("loss", "cross_entropy_loss", {}),
            ("output", "output", {"task": "classification"}),
        ],
        [
            ("data", "x", "conv", "x"),
            ("conv", "y", "relu", "x"),
            ("relu", "y", "pool", "x"),
            ("pool", "y", "flatten", "x"),
            ("flatten", "y", "logits", "x"),
            ("logits", "y", "loss", "logits"),
            ("data", "y", "loss", "target"),
            ("logits", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 8},
    )


#: The text both language-model examples read, so their validation text is the same: the
#: stories corpus in windows of 32 characters, one every 8 (overlapping windows, so the
#: validation split is the end of the text, which no training window touches).
LM_TEXT = {"name": "text", "corpus": "stories", "seq_len": 32, "stride": 8}
LM_VOCAB = 56  # the characters of the stories corpus
#: Epochs that take about the same wall time for both (measured with `nodegrad train`; README).
TRANSFORMER_EPOCHS, LSTM_EPOCHS = 7, 20


def char_lstm(vocab_size: int = LM_VOCAB) -> GraphDocument:
    """A character-level language model on the bundled stories: embedding, LSTM, linear."""
    return chain(
        GraphDocument(),
        [
            ("text", "dataset", LM_TEXT),
            ("embed", "embedding", {"vocab_size": vocab_size, "dim": 16}),
            ("lstm", "lstm", {"hidden": 64}),
            ("logits", "linear", {"units": vocab_size}),
            ("loss", "cross_entropy_loss", {}),
            ("output", "output", {"task": "classification"}),
        ],
        [
            ("text", "x", "embed", "x"),
            ("embed", "y", "lstm", "x"),
            ("lstm", "y", "logits", "x"),
            ("logits", "y", "loss", "logits"),
            ("text", "y", "loss", "target"),
            ("logits", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": LSTM_EPOCHS,
         "val_split": 0.1},
    )  # fmt: skip


def sine_lstm() -> GraphDocument:
    """Predict the next value of sine waves: an LSTM read out by a linear layer, squared error."""
    return chain(
        GraphDocument(),
        [
            ("sine", "dataset", {"name": "sine_sequence", "seq_len": 20}),
            ("lstm", "lstm", {"hidden": 32}),
            ("readout", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
            ("output", "output", {"task": "regression"}),
        ],
        [
            ("sine", "x", "lstm", "x"),
            ("lstm", "y", "readout", "x"),
            ("readout", "y", "loss", "pred"),
            ("sine", "y", "loss", "target"),
            ("readout", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 15},
    )


def residual_cnn() -> GraphDocument:
    """Digit images through a residual block: the block's output is added to its input (a skip
    connection), BatchNorm2d after each convolution, global average pooling before the head."""
    conv = {"out_channels": 32, "kernel_size": 3, "padding": 1}
    doc = GraphDocument()
    nodes: list[tuple[str, str, dict[str, Any], tuple[float, float]]] = [
        ("data", "dataset", {"name": "digits", "images": True}, (0, 0)),
        ("stem", "conv2d", conv, (1, 0)),
        ("stem_bn", "batch_norm2d", {}, (2, 0)),
        ("stem_relu", "relu", {}, (3, 0)),
        ("stem_pool", "max_pool2d", {"kernel_size": 2, "stride": 2}, (4, 0)),
        ("conv1", "conv2d", conv, (5, -1)),
        ("bn1", "batch_norm2d", {}, (6, -1)),
        ("relu1", "relu", {}, (7, -1)),
        ("conv2", "conv2d", conv, (8, -1)),
        ("bn2", "batch_norm2d", {}, (9, -1)),
        ("skip", "add", {}, (10, 0)),
        ("block_relu", "relu", {}, (11, 0)),
        ("pool", "global_avg_pool2d", {}, (12, 0)),
        ("logits", "linear", {"units": 10}, (13, 0)),
        ("loss", "cross_entropy_loss", {}, (14, 0.6)),
        ("output", "output", {"task": "classification"}, (14, -0.6)),
    ]
    for node_id, type_id, params, (col, row) in nodes:
        doc.add_node(type_id, params, position=(col * COLUMN, row * 150.0), node_id=node_id)
    wires = [
        ("data", "x", "stem", "x"), ("stem", "y", "stem_bn", "x"),
        ("stem_bn", "y", "stem_relu", "x"), ("stem_relu", "y", "stem_pool", "x"),
        ("stem_pool", "y", "conv1", "x"),
        ("conv1", "y", "bn1", "x"), ("bn1", "y", "relu1", "x"), ("relu1", "y", "conv2", "x"),
        ("conv2", "y", "bn2", "x"), ("bn2", "y", "skip", "a"), ("stem_pool", "y", "skip", "b"),
        ("skip", "y", "block_relu", "x"), ("block_relu", "y", "pool", "x"),
        ("pool", "y", "logits", "x"), ("logits", "y", "loss", "logits"),
        ("data", "y", "loss", "target"), ("logits", "y", "output", "x"),
    ]  # fmt: skip
    for wire in wires:
        doc.connect(*wire)
    settings = {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 10}
    for name, value in settings.items():
        doc.set_setting(name, value)
    return doc


def gru_sine() -> GraphDocument:
    """The sine task of ``sine_lstm`` with a GRU: fewer gates, the same fit."""
    return chain(
        GraphDocument(),
        [
            ("sine", "dataset", {"name": "sine_sequence", "seq_len": 20}),
            ("gru", "gru", {"hidden": 32}),
            ("readout", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
            ("output", "output", {"task": "regression"}),
        ],
        [
            ("sine", "x", "gru", "x"),
            ("gru", "y", "readout", "x"),
            ("readout", "y", "loss", "pred"),
            ("sine", "y", "loss", "target"),
            ("readout", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 15},
    )


def char_transformer(vocab_size: int = LM_VOCAB) -> GraphDocument:
    """A small causal transformer language model on the bundled stories: token and position
    embeddings, two pre-norm encoder layers (each step sees only the past), a linear head."""
    layer = {"heads": 4, "dim_feedforward": 128, "causal": True}
    return chain(
        GraphDocument(),
        [
            ("text", "dataset", LM_TEXT),
            ("embed", "embedding", {"vocab_size": vocab_size, "dim": 64}),
            ("position", "positional_embedding", {"max_len": LM_TEXT["seq_len"]}),
            ("block1", "transformer_encoder", layer),
            ("block2", "transformer_encoder", layer),
            ("logits", "linear", {"units": vocab_size}),
            ("loss", "cross_entropy_loss", {}),
            ("output", "output", {"task": "classification"}),
        ],
        [
            ("text", "x", "embed", "x"),
            ("embed", "y", "position", "x"),
            ("position", "y", "block1", "x"),
            ("block1", "y", "block2", "x"),
            ("block2", "y", "logits", "x"),
            ("logits", "y", "loss", "logits"),
            ("text", "y", "loss", "target"),
            ("logits", "y", "output", "x"),
        ],
        {"optimizer": "adamw", "learning_rate": 0.005, "weight_decay": 0.01, "batch_size": 32,
         "epochs": TRANSFORMER_EPOCHS, "val_split": 0.1, "lr_schedule": "cosine",
         "grad_clip": 1.0},
    )  # fmt: skip


EXAMPLES: dict[str, Callable[[], GraphDocument]] = {
    "xor": xor,
    "spiral": spiral,
    "digits_mlp": digits_mlp,
    "digits_cnn": digits_cnn,
    "char_lstm": char_lstm,
    "sine_lstm": sine_lstm,
    "residual_cnn": residual_cnn,
    "gru_sine": gru_sine,
    "char_transformer": char_transformer,
}


def main() -> None:
    """Write every example into ``examples/``."""
    EXAMPLES_DIR.mkdir(exist_ok=True)
    for name, build in EXAMPLES.items():
        io.save(build(), EXAMPLES_DIR / f"{name}.nodegrad")
        print(f"wrote examples/{name}.nodegrad")


if __name__ == "__main__":
    main()
