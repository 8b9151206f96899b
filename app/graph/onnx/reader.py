"""Reading an ONNX file safely: bounded size, parsed without executing anything, weights only
from the file itself (external data refused), checked by the ``onnx`` checker."""

from __future__ import annotations

import os
from pathlib import Path

import onnx

from app.graph.errors import GraphError

MAX_BYTES = 1 << 30  # 1 GiB: protobuf itself stops at 2 GiB
MAX_NODES = 20_000
MAX_WEIGHT_VALUES = 250_000_000


class OnnxImportError(GraphError):
    """An ONNX model that cannot be imported; the message says why (and lists every problem)."""


def read_model(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Parse and check the ONNX model in ``path``; raises :class:`OnnxImportError` in one line."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        if size > MAX_BYTES:
            raise OnnxImportError(f"{name}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit")
        data = Path(name).read_bytes()
    except OSError as error:
        raise OnnxImportError(f"{name}: cannot read the file: {error.strerror}") from None
    return parse_model(data, name)


def parse_model(data: bytes, name: str = "model") -> onnx.ModelProto:
    """Parse serialised ONNX bytes; every refusal is one line naming ``name``."""
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError (its package has no type information)
        raise OnnxImportError(f"{name}: not an ONNX model (the file does not parse)") from None
    if not model.HasField("graph") or not model.opset_import:
        raise OnnxImportError(f"{name}: not an ONNX model (no graph or no operator set)")
    graph = model.graph
    if len(graph.node) > MAX_NODES:
        raise OnnxImportError(f"{name}: {len(graph.node)} nodes is over the {MAX_NODES} limit")
    values = 0
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise OnnxImportError(
                f"{name}: weight {tensor.name!r} is stored in an external file, which is never "
                "read; save the model with its weights inside"
            )
        count = 1
        for dim in tensor.dims:
            count *= max(int(dim), 0)
        values += count
    if values > MAX_WEIGHT_VALUES:
        raise OnnxImportError(f"{name}: {values:,} weights is over the {MAX_WEIGHT_VALUES:,} limit")
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OnnxImportError(f"{name}: not a valid ONNX model: {first}") from None
    return model


def default_opset(model: onnx.ModelProto) -> int:
    """The version of the default (``ai.onnx``) operator set the model uses."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise OnnxImportError("the model does not use the standard ONNX operator set")
