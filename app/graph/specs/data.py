"""Data nodes: Dataset (every dataset of ``engine.data``), Input and Constant."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from app.graph.errors import ShapeError
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortKind,
    PortSpec,
    Role,
    Shape,
    Shapes,
)
from app.graph.specs.common import dims_check, engine, parse_dims
from app.graph.specs.registry import register

if TYPE_CHECKING:
    from engine.data import Dataset

DATASETS = (
    "xor",
    "spiral",
    "moons",
    "circles",
    "sine_sequence",
    "digits",
    "iris",
    "wine",
    "breast_cancer",
    "text",
    "csv",
    "npz",
)
FILE_DATASETS = ("csv", "npz", "text")
#: The bundled text corpora (``engine.data.CORPORA``), read when a text dataset names no file.
CORPORA = ("lighthouse", "stories")
SEQUENCE_DATASETS = ("text", "sine_sequence")


def loader_call(params: Mapping[str, Any]) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """The ``engine.data`` function a Dataset node calls, its positional and keyword arguments.

    Loading (:func:`load_dataset`) and export (:func:`dataset_call`) both read it.
    """
    name, path = params["name"], params["path"]
    if name == "digits":
        return name, (), {"images": params["images"]}
    if name == "sine_sequence":
        return name, (), {"seq_len": params["seq_len"]}
    if name == "text":
        kwargs = {"seq_len": params["seq_len"]}
        if params.get("stride"):  # 0: windows side by side, the engine's default
            kwargs["stride"] = params["stride"]
        if not path and params.get("corpus", CORPORA[0]) != CORPORA[0]:
            kwargs["corpus"] = params["corpus"]
        return name, (path or None,), kwargs
    if name == "csv":
        return name, (path, params["target"]), {}
    if name == "npz":
        return name, (path,), {}
    return name, (), {}


def dataset_call(params: Mapping[str, Any]) -> str:
    """The ``engine.data`` call that loads this dataset, e.g. ``data.digits(images=True)``."""
    name, args, kwargs = loader_call(params)
    words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"data.{name}({', '.join(words)})"


def load_dataset(params: Mapping[str, Any]) -> Dataset:
    """The ``engine.data.Dataset`` a Dataset node reads (cached while its file is unchanged).

    Raises
    ------
    ShapeError
        When the file is missing or the engine refuses it (the message names the file).
    """
    name, path = params["name"], params["path"]
    if name in ("csv", "npz") and not path:
        raise ShapeError(f"The {name} dataset needs a file: set 'path'", port="path")
    if name == "text" and params.get("stride", 0) > params["seq_len"]:
        reason = (
            f"stride {params['stride']} is longer than seq_len {params['seq_len']}: characters "
            f"between windows would be skipped; use at most {params['seq_len']} (0 = seq_len)"
        )
        raise ShapeError(reason, port="stride")
    stamp = None
    if name in FILE_DATASETS and path:
        try:
            info = os.stat(path)
        except OSError as err:
            reason = f"Cannot read dataset file {path!r}: {err.strerror}"
            raise ShapeError(reason, port="path") from err
        if not stat.S_ISREG(info.st_mode):  # a folder, a device such as /dev/zero, a pipe
            reason = f"Cannot read dataset file {path!r}: not a regular file"
            raise ShapeError(reason, port="path")
        stamp = info.st_mtime_ns
    key = tuple(sorted(params.items()))
    return _load_cached(key, stamp)


@functools.lru_cache(maxsize=16)
def _load_cached(key: tuple[tuple[str, Any], ...], stamp: int | None) -> Dataset:
    from engine import data

    name, args, kwargs = loader_call(dict(key))
    loader: Callable[..., Dataset] = getattr(data, name)
    try:
        return loader(*args, **kwargs)
    except (data.DatasetError, OSError, ValueError) as err:
        raise ShapeError(f"Cannot load dataset: {err}", port="path") from err


def _infer_dataset(params: Mapping[str, Any], in_shapes: Shapes) -> dict[str, Shape]:
    ds = load_dataset(params)
    return {"x": (None, *ds.x.shape[1:]), "y": (None, *ds.y.shape[1:])}


def _pass_batch(
    module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
) -> dict[str, Any]:
    return dict(inputs)


def _dataset_summary(params: Mapping[str, Any]) -> str:
    name = str(params["name"])
    if name in ("csv", "npz") or (name == "text" and params["path"]):
        return f"{name}: {os.path.basename(params['path']) or '(no file)'}"
    if name == "text":
        return f"text: {params['corpus']}"
    if name == "digits" and params["images"]:
        return "digits (images)"
    return name


register(
    NodeSpec(
        type_id="dataset",
        title="Dataset",
        category=Category.DATA,
        help="Where training batches enter: inputs on x, targets on y.",
        role=Role.DATA,
        infer=_infer_dataset,
        outputs=(
            PortSpec("x", PortKind.DATA, help="a batch of inputs"),
            PortSpec("y", PortKind.DATA, help="the batch's targets", target=True),
        ),
        params=(
            ParamSpec(
                "name",
                ParamType.CHOICE,
                "spiral",
                choices=DATASETS,
                help="a built-in dataset, or csv/npz/text to read your own file",
            ),
            ParamSpec(
                "path",
                ParamType.STR,
                "",
                help="the file to read, relative to the graph's folder (text: empty = a "
                "bundled corpus)",
                when=("name", FILE_DATASETS),
                file=True,
            ),
            ParamSpec(
                "corpus",
                ParamType.CHOICE,
                CORPORA[0],
                choices=CORPORA,
                help="the bundled text read when no file is set: lighthouse (6.6 KB, quick) or "
                "stories (88 KB, enough for a transformer)",
                when=("name", ("text",)),
            ),
            ParamSpec(
                "target",
                ParamType.STR,
                "target",
                help="the CSV column holding targets",
                when=("name", ("csv",)),
            ),
            ParamSpec(
                "images",
                ParamType.BOOL,
                False,
                help="digits as 1×8×8 images",
                when=("name", ("digits",)),
                shape_fix=True,
            ),
            ParamSpec(
                "seq_len",
                ParamType.INT,
                25,
                minimum=2,
                maximum=1000,
                help="time steps per sequence",
                when=("name", SEQUENCE_DATASETS),
            ),
            ParamSpec(
                "stride",
                ParamType.INT,
                0,
                minimum=0,
                maximum=1000,
                help="characters from one window's start to the next: 0 = seq_len (side by "
                "side); smaller overlaps the windows, giving more samples, and the validation "
                "split then takes the end of the text",
                when=("name", ("text",)),
            ),
        ),
        forward=_pass_batch,
        engine_code=CodeTemplate(init="{dataset_call}"),
        torch_code=CodeTemplate(init="{dataset_call}"),
        template_values=lambda p, s: {"dataset_call": dataset_call(p)},
        summarize=_dataset_summary,
        load=load_dataset,
    )
)


def _infer_input(params: Mapping[str, Any], in_shapes: Shapes) -> dict[str, Shape]:
    return {"x": (None, *parse_dims(params["shape"]))}


register(
    NodeSpec(
        type_id="input",
        title="Input",
        category=Category.DATA,
        help="A batch fed by the caller (e.g. a tensor to step through), shape given per sample.",
        role=Role.INPUT,
        infer=_infer_input,
        outputs=(PortSpec("x", PortKind.DATA, help="the fed batch"),),
        params=(
            ParamSpec(
                "shape",
                ParamType.STR,
                "2",
                help="size of one sample, e.g. 1,8,8",
                check=dims_check(),
            ),
            ParamSpec(
                "dtype",
                ParamType.CHOICE,
                "float",
                choices=("float", "int"),
                help="float values or integer indices",
            ),
        ),
        forward=_pass_batch,
        summarize=lambda p: f"N×{p['shape'].replace(',', '×')}",
    )
)


def _constant_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    return parse_dims(params["shape"])


def _constant_forward(
    module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
) -> dict[str, Any]:
    import numpy as np

    eng = engine()
    value = np.full(_constant_shape(params), params["value"], dtype=eng.get_default_dtype())
    return {"y": eng.Tensor(value)}


register(
    NodeSpec(
        type_id="constant",
        title="Constant",
        category=Category.DATA,
        help="A fixed tensor (no batch dimension) that broadcasts against batches.",
        role=Role.OP,
        infer=lambda p, s: {"y": _constant_shape(p)},
        outputs=(PortSpec("y", help="the constant"),),
        params=(
            ParamSpec("value", ParamType.FLOAT, 1.0, help="every element's value"),
            ParamSpec("shape", ParamType.STR, "1", help="its shape, e.g. 3,4", check=dims_check()),
        ),
        forward=_constant_forward,
        engine_code=CodeTemplate(call="Tensor(np.full({shape_tuple}, {value}, dtype=np.float32))"),
        torch_code=CodeTemplate(call="torch.full({shape_tuple}, {value})"),
        template_values=lambda p, s: {"shape_tuple": repr(_constant_shape(p))},
        summarize=lambda p: f"{p['value']:g} × {p['shape']}",
    )
)
