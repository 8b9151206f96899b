"""The layers of modern networks against PyTorch (forward, gradients, one optimizer step, the
state-dict keys) and against finite differences (float64)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engine
from engine import (
    GELU,
    GRU,
    SGD,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    EngineError,
    GlobalAvgPool2d,
    GRUCell,
    MultiHeadAttention,
    PositionalEmbedding,
    ShapeError,
    SiLU,
    Tensor,
    TransformerEncoderLayer,
    gradcheck,
)
from engine.nn.module import Layer


@pytest.fixture(autouse=True)
def float64() -> Any:
    engine.set_default_dtype(np.float64)
    np.random.seed(0)
    yield
    engine.set_default_dtype(np.float32)


# name -> (engine layer factory, torch module factory (torch, nn), input shape, call)
Case = tuple[Callable[[], Layer], Callable[[Any], Any], tuple[int, ...]]
CASES: dict[str, Case] = {
    "gelu": (GELU, lambda nn: nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda: GELU("tanh"), lambda nn: nn.GELU(approximate="tanh"), (3, 4)),
    "silu": (SiLU, lambda nn: nn.SiLU(), (3, 4)),
    "conv1d": (lambda: Conv1d(2, 3, 3), lambda nn: nn.Conv1d(2, 3, 3), (2, 2, 7)),
    "conv1d_strided": (
        lambda: Conv1d(2, 3, 3, stride=2, padding=1),
        lambda nn: nn.Conv1d(2, 3, 3, stride=2, padding=1),
        (2, 2, 8),
    ),
    "avg_pool2d": (lambda: AvgPool2d(2), lambda nn: nn.AvgPool2d(2), (2, 2, 5, 6)),
    "avg_pool2d_overlap": (
        lambda: AvgPool2d(3, stride=1),
        lambda nn: nn.AvgPool2d(3, stride=1),
        (1, 2, 5, 5),
    ),
    "global_avg_pool2d": (
        GlobalAvgPool2d,
        lambda nn: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        (2, 3, 4, 5),
    ),
    "batch_norm2d": (lambda: BatchNorm2d(3), lambda nn: nn.BatchNorm2d(3), (4, 3, 3, 2)),
    "gru": (lambda: GRU(3, 4), lambda nn: nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
    "gru_cell": (lambda: GRUCell(3, 4), lambda nn: nn.GRUCell(3, 4), (2, 3)),
    "mha": (
        lambda: MultiHeadAttention(8, 2),
        lambda nn: nn.MultiheadAttention(8, 2, batch_first=True),
        (2, 5, 8),
    ),
    "mha_causal_no_bias": (
        lambda: MultiHeadAttention(6, 3, bias=False),
        lambda nn: nn.MultiheadAttention(6, 3, bias=False, batch_first=True),
        (2, 4, 6),
    ),
    "transformer_pre_norm_causal": (
        lambda: TransformerEncoderLayer(8, 2, dim_feedforward=12, causal=True),
        lambda nn: nn.TransformerEncoderLayer(
            8, 2, 12, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        ),
        (2, 5, 8),
    ),
    "transformer_post_norm": (
        lambda: TransformerEncoderLayer(8, 4, dim_feedforward=6, norm_first=False),
        lambda nn: nn.TransformerEncoderLayer(
            8, 4, 6, dropout=0.0, activation="gelu", batch_first=True, norm_first=False
        ),
        (3, 4, 8),
    ),
}


def _torch_forward(name: str, module: Any, x: Any, torch: Any) -> Any:
    """The torch module's output for ``x``, in the engine layer's conventions."""
    if name == "gru":
        return module(x)[0]
    if name.startswith("mha"):
        steps = x.shape[1]
        mask = torch.triu(torch.ones(steps, steps, dtype=torch.bool), 1)
        return module(x, x, x, need_weights=False, attn_mask=mask if "causal" in name else None)[0]
    if name == "transformer_pre_norm_causal":
        steps = x.shape[1]
        mask = torch.nn.Transformer.generate_square_subsequent_mask(steps, dtype=torch.float64)
        return module(x, src_mask=mask, is_causal=True)
    return module(x)


def _engine_forward(name: str, layer: Layer, x: Tensor) -> Tensor:
    if name.startswith("mha"):
        out: Tensor = layer(x, causal="causal" in name)
        return out
    result: Tensor = layer(x)
    return result


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_pytorch_through_one_optimizer_step(name: str) -> None:
    torch = pytest.importorskip("torch")
    make, make_torch, shape = CASES[name]
    torch.manual_seed(0)
    theirs = make_torch(torch.nn).double()
    ours = make()
    assert list(ours.torch_state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.torch_state_dict()[key].shape == tuple(value.shape), key
    ours.load_torch_state_dict(theirs.state_dict())  # their initial weights into ours
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape)
    x, t = Tensor(a, autograd=True), torch.tensor(a, requires_grad=True)
    out, ref = _engine_forward(name, ours, x), _torch_forward(name, theirs, t, torch)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-11)
    weights = rng.standard_normal(ref.shape)
    out.backward(weights)
    ref.backward(torch.tensor(weights))
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    if ours.parameters():
        SGD(ours.parameters(), alpha=0.1).step()
        torch.optim.SGD(theirs.parameters(), lr=0.1).step()
    mine = ours.torch_state_dict()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(mine[key], value.numpy(), rtol=1e-8, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_copies_our_weights_into_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    make, make_torch, shape = CASES[name]
    ours, theirs = make(), make_torch(torch.nn).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.torch_state_dict().items()})
    ours.eval()
    theirs.eval()
    a = np.random.default_rng(2).standard_normal(shape)
    with torch.no_grad():
        ref = _torch_forward(name, theirs, torch.tensor(a), torch)
    np.testing.assert_allclose(
        _engine_forward(name, ours, Tensor(a)).data, ref.numpy(), rtol=1e-9, atol=1e-11
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name: str) -> None:
    make, _, shape = CASES[name]
    layer = make()
    x = Tensor(np.random.default_rng(3).standard_normal(shape), autograd=True)
    if name == "batch_norm2d":  # training-mode statistics change each call; freeze them
        layer.eval()
        layer.running_var[...] = np.random.default_rng(4).random(3) + 0.5
    params = layer.parameters()
    assert gradcheck(
        lambda x_, *_: _engine_forward(name, layer, x_), [x, *params], atol=1e-6, rtol=1e-5
    )


def test_batch_norm2d_training_gradient_matches_finite_differences() -> None:
    layer = BatchNorm2d(2)
    x = Tensor(np.random.default_rng(5).standard_normal((3, 2, 2, 2)), autograd=True)
    assert gradcheck(lambda x_, *_: layer(x_), [x, layer.weight, layer.bias], atol=1e-6, rtol=1e-5)


def test_gru_equals_its_cell_unrolled() -> None:
    gru, cell = GRU(3, 4), GRUCell(3, 4)
    cell.load_torch_state_dict({k[:-3]: v for k, v in gru.torch_state_dict().items()})
    x = np.random.default_rng(6).standard_normal((2, 6, 3))
    h = None
    states = []
    for t in range(6):
        h = cell(Tensor(x[:, t]), h)
        states.append(h.data)
    np.testing.assert_allclose(gru(Tensor(x)).data, np.stack(states, 1), rtol=1e-12)


def test_attention_keeps_its_weights_per_head() -> None:
    mha = MultiHeadAttention(8, 4)
    mha(Tensor(np.random.default_rng(7).standard_normal((2, 5, 8))), causal=True)
    attn = mha.last_attention
    assert attn.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(attn.sum(-1), 1.0)
    assert np.all(np.triu(attn, 1) == 0)  # nothing from the future


def test_cross_attention_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(6, 2, batch_first=True).double()
    ours = MultiHeadAttention(6, 2)
    ours.load_torch_state_dict(theirs.state_dict())
    rng = np.random.default_rng(8)
    q, kv = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 5, 6))
    ref = theirs(*(torch.tensor(a) for a in (q, kv, kv)), need_weights=False)[0]
    out = ours(Tensor(q), Tensor(kv))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-11)
    assert ours.last_attention.shape == (2, 2, 3, 5)


def test_positional_embedding_adds_a_vector_per_position() -> None:
    pos = PositionalEmbedding(6, 4)
    x = np.random.default_rng(9).standard_normal((2, 3, 4))
    np.testing.assert_allclose(pos(Tensor(x)).data, x + pos.weight.data[:3])
    state = pos.torch_state_dict()
    assert list(state) == ["weight"] and state["weight"].shape == (6, 4)
    t = Tensor(x, autograd=True)
    assert gradcheck(lambda x_, *_: pos(x_), [t, pos.weight], atol=1e-6)
    with pytest.raises(ShapeError, match="T <= 6"):
        pos(Tensor(np.zeros((1, 7, 4))))


def test_load_torch_state_dict_names_the_bad_key() -> None:
    mha = MultiHeadAttention(4, 2)
    state = dict(mha.torch_state_dict())
    with pytest.raises(EngineError, match="missing key 'in_proj_bias'"):
        mha.load_torch_state_dict({k: v for k, v in state.items() if k != "in_proj_bias"})
    with pytest.raises(EngineError, match="unexpected key 'extra'"):
        mha.load_torch_state_dict({**state, "extra": np.zeros(1)})
    with pytest.raises(EngineError, match=r"'out_proj.weight' has shape \(2, 2\)"):
        mha.load_torch_state_dict({**state, "out_proj.weight": np.zeros((2, 2))})
    with pytest.raises(EngineError, match="unexpected key 'weight'"):
        GELU().load_torch_state_dict({"weight": np.zeros(1)})


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(EngineError, match="embed_dim 10 is not divisible by 4 heads"):
        MultiHeadAttention(10, 4)
    with pytest.raises(ShapeError, match="expected input"):
        GRU(3, 4)(Tensor(np.zeros((2, 3))))
    with pytest.raises(ShapeError, match="expected input"):
        BatchNorm2d(3)(Tensor(np.zeros((2, 4, 2, 2))))


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_on_the_device_matches_the_cpu(name: str, device: str) -> None:
    """The same layer on ``device`` (the GPU where CuPy runs) gives the CPU's output and
    gradients (skipped without a GPU)."""
    make, _, shape = CASES[name]
    layer = make()
    twin = make()
    twin.load_state_dict(layer.state_dict())
    twin.to(device)
    a = np.random.default_rng(10).standard_normal(shape)
    x, xd = Tensor(a, autograd=True), Tensor(a, autograd=True, device=device)
    out, outd = _engine_forward(name, layer, x), _engine_forward(name, twin, xd)
    np.testing.assert_allclose(outd.numpy(), out.data, rtol=1e-9, atol=1e-11)
    weights = np.random.default_rng(11).standard_normal(out.shape)
    out.backward(weights)
    outd.backward(Tensor(weights, device=device))
    np.testing.assert_allclose(xd.grad.numpy(), x.grad.data, rtol=1e-8, atol=1e-10)
    for (key, p), (_, q) in zip(layer.named_parameters(), twin.named_parameters(), strict=True):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.data, rtol=1e-8, atol=1e-10, err_msg=key)
