"""An Embedding feeding an LSTM folded into one projection table (``engine/nn/lstm_embedded.py``):
the same outputs and gradients as the lookup followed by the LSTM (float64 to rounding, float32
closely, PyTorch's Embedding + LSTM), gradients against finite differences, and the cases that
keep the plain path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine
from engine import LSTM, Embedding, Tensor, gradcheck, tagging
from engine.nn.lstm_embedded import EmbeddedLSTMFn
from engine.nn.sequence import LSTMSequenceFn
from engine.nn.torch_state import gate_order

V, F, H, B, T = 5, 32, 5, 3, 7  # F >= 32 and 4 V <= B T: the fold applies


@pytest.fixture(autouse=True)
def _default_dtype() -> Any:
    yield
    engine.set_default_dtype(np.float32)


def ids(seed: int = 0, low: int = -V) -> np.ndarray:
    """Token ids (B, T) in [low, V): negative ids count from the end, as a lookup's do."""
    return np.random.default_rng(seed).integers(low, V, (B, T))


def layers(dtype: Any) -> tuple[Embedding, LSTM]:
    engine.set_default_dtype(dtype)
    np.random.seed(1)
    return Embedding(V, F), LSTM(F, H)


def run(emb: Embedding, lstm: LSTM, tokens: np.ndarray, tag: str | None = None) -> dict[str, Any]:
    """Forward and backward of ``lstm(emb(tokens))`` (inside ``tagging(tag)`` when given):
    the op used, the output, the embedding output and every parameter gradient."""
    params = {"table": emb.weight, **dict(lstm.named_parameters())}
    for p in params.values():
        p.grad = None
    if tag is None:
        x = emb(Tensor(tokens))
        out = lstm(x)
    else:
        with tagging(tag):
            x = emb(Tensor(tokens))
            out = lstm(x)
    op = type(out._fn)
    weights = np.random.default_rng(2).normal(size=out.shape).astype(out.dtype)
    out.backward(Tensor(weights))
    grads = {name: np.array(p.grad) for name, p in params.items()}
    return {"op": op, "out": out.numpy(), "x": x, "grads": grads}


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_fold_equals_lookup_then_lstm(dtype: Any, tol: float) -> None:
    emb, lstm = layers(dtype)
    folded, plain = run(emb, lstm, ids()), run(emb, lstm, ids(), tag="node")
    assert folded["op"] is EmbeddedLSTMFn and plain["op"] is LSTMSequenceFn
    np.testing.assert_allclose(folded["out"], plain["out"], rtol=tol, atol=tol)
    for name, grad in plain["grads"].items():
        assert folded["grads"][name].dtype == dtype
        np.testing.assert_allclose(folded["grads"][name], grad, rtol=tol, atol=tol, err_msg=name)
    # the lookup's output is bypassed: no gradient reaches it (documented)
    assert folded["x"].grad is None and plain["x"].grad is not None


def test_fold_gradients_against_finite_differences() -> None:
    rng = np.random.default_rng(3)
    tensors = [
        Tensor(rng.normal(size=shape), autograd=True, dtype=np.float64)
        for shape in ((V, F), (F, 4 * H), (4 * H,), (H, 4 * H))
    ]
    tokens = ids(4)
    assert gradcheck(lambda *ts: EmbeddedLSTMFn.apply(*ts, ids=tokens), tensors, atol=1e-6)


def test_embedding_output_used_twice_gets_both_gradients() -> None:
    """When the lookup's output also feeds something else, the table's gradient is the sum of
    both paths, as without the fold."""
    emb, lstm = layers(np.float64)

    def grads(tag: str | None) -> np.ndarray:
        emb.weight.grad = None
        with tagging(tag):
            x = emb(Tensor(ids(5)))
            loss = lstm(x).sum() + (x * x).sum()
        loss.backward()
        return np.array(emb.weight.grad)

    np.testing.assert_allclose(grads(None), grads("node"), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "case",
    [
        "tagged",
        "vocabulary over a quarter of the batch's tokens",
        "few features",
        "float16 table",
        "table without gradient",
        "table changed after the lookup",
        "ids changed after the lookup",
    ],
)
def test_plain_path_is_kept(case: str) -> None:
    emb, lstm = layers(np.float32)
    tokens, tag = ids(low=0), None
    if case == "tagged":
        tag = "node"
    elif case == "vocabulary over a quarter of the batch's tokens":
        emb = Embedding(B * T // 4 + 1, F)
    elif case == "few features":
        emb, lstm = Embedding(V, 16), LSTM(16, H)
    elif case == "float16 table":
        emb.weight.data = emb.weight.data.astype(np.float16)
    elif case == "table without gradient":
        emb.weight.autograd = False
    with tagging(tag):
        x = emb(tokens)  # the array itself: the lookup keeps it, not a copy
    if case == "table changed after the lookup":
        emb.weight.data += 1.0
    elif case == "ids changed after the lookup":
        tokens[:] = (tokens + 1) % V
    out = lstm(x)
    assert type(out._fn) is LSTMSequenceFn
    np.testing.assert_allclose(out.numpy(), lstm.run(x.numpy())[0], rtol=1e-6)


def test_table_changed_before_backward_does_not_change_the_gradients() -> None:
    """The fold keeps the table as it was at the forward pass, as the plain path keeps ``x``."""

    def grads(tag: str | None) -> dict[str, np.ndarray]:
        emb, lstm = layers(np.float64)
        with tagging(tag):
            out = lstm(emb(Tensor(ids())))
        emb.weight.data += 1.0  # in place, as an optimizer step
        out.sum().backward()
        return {name: np.array(p.grad) for name, p in lstm.named_parameters()}

    folded, plain = grads(None), grads("node")
    for name, grad in plain.items():
        np.testing.assert_allclose(folded[name], grad, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32])
def test_small_integer_ids_fold_for_any_vocabulary(dtype: Any) -> None:
    """uint8 ids of a 256-row table (a byte model): wrapping negative ids must not overflow."""
    np.random.seed(8)
    emb, lstm = Embedding(256, 32), LSTM(32, 4)
    tokens = np.random.default_rng(9).integers(0, 128, (8, 128)).astype(dtype)
    out = lstm(emb(Tensor(tokens)))
    assert type(out._fn) is EmbeddedLSTMFn
    np.testing.assert_allclose(out.numpy(), lstm.run(emb(tokens).numpy())[0], rtol=2e-5, atol=1e-6)


def test_matches_pytorch_embedding_and_lstm() -> None:
    torch = pytest.importorskip("torch")
    emb, lstm = layers(np.float32)
    tokens = ids(6, low=0)
    ours = run(emb, lstm, tokens)
    assert ours["op"] is EmbeddedLSTMFn
    t_emb, t_lstm = torch.nn.Embedding(V, F), torch.nn.LSTM(F, H, batch_first=True)
    t_emb.load_state_dict({k: torch.from_numpy(v) for k, v in emb.torch_state_dict().items()})
    t_lstm.load_state_dict({k: torch.from_numpy(v) for k, v in lstm.torch_state_dict().items()})
    out, _ = t_lstm(t_emb(torch.from_numpy(tokens)))
    weights = np.random.default_rng(2).normal(size=out.shape).astype(np.float32)
    (out * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(ours["out"], out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ours["grads"]["table"], t_emb.weight.grad.numpy(), rtol=1e-4, atol=1e-6
    )
    torch_grads = {k: v.grad.numpy() for k, v in t_lstm.named_parameters()}
    expected = {
        "weight_ih": gate_order(torch_grads["weight_ih_l0"]).T,
        "weight_hh": gate_order(torch_grads["weight_hh_l0"]).T,
        "bias": gate_order(torch_grads["bias_ih_l0"]),
    }
    for name, grad in expected.items():
        np.testing.assert_allclose(ours["grads"][name], grad, rtol=1e-4, atol=1e-6, err_msg=name)
