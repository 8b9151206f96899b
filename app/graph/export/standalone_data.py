"""The data code of a script that must run without nodegrad (the PyTorch export): a ``load_data()``
function giving the same arrays as the ``engine.data`` loader the Dataset node names, and a
``split()`` cutting the same validation part as ``engine.data.split`` (:func:`split_function`).

Every value taken from the graph (a file path, a column name, the bundled corpus) is written as a
Python literal (``repr``), never pasted as code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.graph.specs.data import loader_call

__all__ = ["SPLIT", "corpus_literal", "data_function", "data_imports", "split_function"]

SPLIT = '''def split(x, y, val_fraction, seed):
    """Shuffle with ``seed`` and cut off the validation part (as nodegrad's engine.data.split)."""
    n_val = round(len(x) * val_fraction)
    order = np.random.default_rng(seed).permutation(len(x))
    return (x[order[n_val:]], y[order[n_val:]]), (x[order[:n_val]], y[order[:n_val]])'''

TAIL_SPLIT = '''def split(x, y, val_fraction, seed):
    """The last windows of the text validate; training keeps the windows that end before them
    (as nodegrad's engine.data.split for overlapping windows; ``seed`` is not needed)."""
    n_val = round(len(x) * val_fraction)
    starts = np.arange(len(x)) * STRIDE
    train = starts + SEQ_LEN + 1 <= starts[len(x) - n_val]
    return (x[train], y[train]), (x[len(x) - n_val :], y[len(x) - n_val :])'''


def split_function(params: Mapping[str, Any]) -> list[str]:
    """The lines defining ``split(x, y, val_fraction, seed)`` for a Dataset node: a shuffled cut,
    or the text's tail when its windows overlap (as ``engine.data.split`` chooses)."""
    name, _, kwargs = loader_call(params)
    if name != "text" or int(kwargs.get("stride", kwargs["seq_len"])) >= int(kwargs["seq_len"]):
        return SPLIT.splitlines()
    stride, seq_len = repr(int(kwargs["stride"])), repr(int(kwargs["seq_len"]))
    return TAIL_SPLIT.replace("STRIDE", stride).replace("SEQ_LEN", seq_len).splitlines()


_SKLEARN = {"digits": "load_digits", "iris": "load_iris", "wine": "load_wine"}
_SKLEARN["breast_cancer"] = "load_breast_cancer"


def _xor(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    return [
        "x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)",
        "y = np.array([[0], [1], [1], [0]], dtype=np.float32)",
    ]


def _spiral(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    return [
        "rng = np.random.default_rng(0)",
        "radius = np.tile(np.linspace(0.0, 1.0, 100), 3)",
        "labels = np.repeat(np.arange(3), 100)",
        "angle = labels * (2 * np.pi / 3) + radius * 4.0 + rng.normal(0, 0.2, 300)",
        "x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)",
        "x, y = x.astype(np.float32), labels.astype(np.int64)",
    ]


def _moons(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    return [
        "rng = np.random.default_rng(0)",
        "labels = np.arange(200) % 2",
        "t = rng.uniform(0.0, np.pi, 200)",
        "upper = np.stack([np.cos(t), np.sin(t)], axis=1)",
        "lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)",
        "x = np.where(labels[:, None] == 0, upper, lower)",
        "x = x + rng.normal(0.0, 0.1, x.shape)",
        "x, y = x.astype(np.float32), labels.astype(np.int64)",
    ]


def _circles(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    return [
        "rng = np.random.default_rng(0)",
        "labels = np.arange(200) % 2",
        "t = rng.uniform(0.0, 2 * np.pi, 200)",
        "r = np.where(labels == 0, 1.0, 0.5)",
        "x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1) + rng.normal(0.0, 0.05, (200, 2))",
        "x, y = x.astype(np.float32), labels.astype(np.int64)",
    ]


def _sine_sequence(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    return [
        "rng = np.random.default_rng(0)",
        "phase = rng.uniform(0, 2 * np.pi, (200, 1))",
        "freq = rng.uniform(0.1, 0.4, (200, 1))",
        f"wave = np.sin(phase + freq * np.arange({int(kwargs['seq_len']) + 1})[None, :])",
        "x = wave[:, :-1, None].astype(np.float32)",
        "y = wave[:, 1:, None].astype(np.float32)",
    ]


def _sklearn(name: str) -> Callable[[tuple[Any, ...], Mapping[str, Any]], list[str]]:
    def lines(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
        body = [
            f"bunch = datasets.{_SKLEARN[name]}()",
            "x = np.asarray(bunch.data, dtype=np.float64)",
            "y = np.asarray(bunch.target, dtype=np.int64)",
        ]
        if name == "digits":
            body.append("x = x.astype(np.float32) / np.float32(16.0)")
            if kwargs.get("images"):
                body.append("x = x.reshape(-1, 1, 8, 8)")
            return body
        std = "std = x.std(axis=0)"
        scaled = "x = ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)"
        return [*body, std, scaled]

    return lines


def _text(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    source = "CORPUS" if not args[0] else f"Path({args[0]!r}).read_text(encoding='utf-8')"
    seq_len = int(kwargs["seq_len"])
    stride = int(kwargs.get("stride", seq_len))
    return [
        f"body = {source}",
        "vocab = sorted(set(body))",
        "index = {ch: i for i, ch in enumerate(vocab)}",
        "ids = np.array([index[ch] for ch in body], dtype=np.int64)",
        f"starts = np.arange((len(ids) - 1 - {seq_len}) // {stride} + 1) * {stride}",
        f"window = starts[:, None] + np.arange({seq_len})",
        "x, y = ids[window], ids[window + 1]",
    ]


def _csv(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    path, target = args
    return [
        f"with open({path!r}, newline='', encoding='utf-8-sig') as handle:",
        "    rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]",
        "header = [cell.strip() for cell in rows[0]]",
        "if all(is_number(cell) for cell in rows[0]):  # no header: columns are named 0, 1, ...",
        "    header = [str(i) for i in range(len(rows[0]))]",
        "else:",
        "    rows = rows[1:]",
        f"t = header.index({target!r})",
        "features = [[float(cell) for j, cell in enumerate(row) if j != t] for row in rows]",
        "x = np.array(features, dtype=np.float64).astype(np.float32)",
        "raw = [row[t].strip() for row in rows]",
        "if all(is_number(cell) for cell in raw):",
        "    values = np.array([float(cell) for cell in raw])",
        "    integral = bool(np.all(values == np.round(values))) and values.min() >= 0",
        "    if integral and len(set(raw)) <= 50:",
        "        y = values.astype(np.int64)",
        "    else:",
        "        y = values.astype(np.float32)[:, None]",
        "else:",
        "    lookup = {label: i for i, label in enumerate(sorted(set(raw)))}",
        "    y = np.array([lookup[cell] for cell in raw], dtype=np.int64)",
    ]


IS_NUMBER = '''def is_number(text):
    """Whether ``text`` reads as a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True'''


def _npz(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    return [
        f"with np.load({args[0]!r}, allow_pickle=False) as archive:",
        "    x, y = archive['x'], archive['y']",
        "if np.issubdtype(x.dtype, np.floating):",
        "    x = x.astype(np.float32)",
        "y = y.astype(np.int64 if np.issubdtype(y.dtype, np.integer) else np.float32)",
    ]


_LOADERS: dict[str, Callable[[tuple[Any, ...], Mapping[str, Any]], list[str]]] = {
    "xor": _xor,
    "spiral": _spiral,
    "moons": _moons,
    "circles": _circles,
    "sine_sequence": _sine_sequence,
    "text": _text,
    "csv": _csv,
    "npz": _npz,
    **{name: _sklearn(name) for name in _SKLEARN},
}


def data_function(params: Mapping[str, Any]) -> list[str]:
    """The module-level definitions that load a Dataset node's data: ``load_data()`` returning
    ``(x, y)`` (plus ``is_number`` for a csv file), as the engine's loader makes them."""
    name, args, kwargs = loader_call(params)
    body = _LOADERS[name](args, kwargs)
    lines = [
        "def load_data():",
        f'    """The inputs and targets, as nodegrad\'s engine.data.{name} makes them."""',
        *("    " + line for line in body),
        "    return x, y",
    ]
    return [*IS_NUMBER.splitlines(), "", "", *lines] if name == "csv" else lines


def data_imports(params: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The standard-library and third-party import lines ``load_data()`` needs."""
    name = str(params["name"])
    stdlib = ["import csv"] if name == "csv" else []
    third = ["from sklearn import datasets"] if name in _SKLEARN else []
    return stdlib, third


def corpus_literal(text: str, width: int = 72) -> list[str]:
    """``CORPUS = (...)``: ``text`` as a parenthesised run of string literals (each a ``repr``),
    lines short enough for a linter."""
    chunks: list[str] = []
    rest = text
    while rest:
        size = width
        while size > 1 and len(repr(rest[:size])) > width + 8:
            size //= 2
        chunks.append(repr(rest[:size]))
        rest = rest[size:]
    return ["CORPUS = (", *(f"    {chunk}" for chunk in chunks or ["''"]), ")"]
