"""Finite-difference gradient checks (float64) for every layer, conv/pool and recurrent ones."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import (
    LSTM,
    RNN,
    BatchNorm1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    LeakyRelu,
    Linear,
    LSTMCell,
    MaxPool2d,
    Relu,
    Reshape,
    RNNCell,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    Tensor,
    gradcheck,
)
from engine.nn.sequence import LSTMSequenceFn


@pytest.fixture(autouse=True)
def float64():
    engine.set_default_dtype(np.float64)
    np.random.seed(0)
    yield
    engine.set_default_dtype(np.float32)


def randn(*shape, scale=1.0):
    return Tensor(np.random.randn(*shape) * scale, autograd=True)


def check_layer(layer, *inputs):
    """Gradients of the output w.r.t. the inputs and every parameter match finite differences."""
    params = layer.get_parameters()
    n = len(inputs)
    assert gradcheck(lambda *ts: layer(*ts[:n]), [*inputs, *params], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: Linear(4, 3), (5, 4)),
        (lambda: Linear(4, 3, bias=False), (5, 4)),
        (lambda: Linear(4, 3), (2, 3, 4)),
        (lambda: Tanh(), (3, 4)),
        (lambda: Sigmoid(), (3, 4)),
        (lambda: Relu(), (3, 4)),
        (lambda: LeakyRelu(0.1), (3, 4)),
        (lambda: Softmax(), (3, 4)),
        (lambda: Softmax(0), (3, 4)),
        (lambda: Flatten(), (2, 3, 2, 2)),
        (lambda: Reshape((2, 3)), (4, 6)),
        (lambda: Dropout(0.5).eval(), (3, 4)),
        (lambda: LayerNorm(4), (3, 4)),
        (lambda: BatchNorm1d(4), (6, 4)),
        (lambda: BatchNorm1d(4).eval(), (6, 4)),
        (lambda: Sequential([Linear(4, 5), Tanh(), Linear(5, 2)]), (3, 4)),
        (lambda: Conv2d(2, 3, 3), (2, 2, 5, 5)),
        (lambda: Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 6, 5)),
        (lambda: Conv2d(1, 2, 2, stride=1, padding=2), (1, 1, 3, 3)),
        (lambda: MaxPool2d(2), (2, 3, 4, 4)),
        (lambda: MaxPool2d(3, stride=2), (1, 2, 7, 6)),
        (lambda: RNN(3, 4), (2, 5, 3)),
        (lambda: RNN(3, 4, activation="relu"), (2, 3, 3)),
        (lambda: LSTM(3, 4), (2, 5, 3)),
    ],
)
def test_layer_gradients(make, shape):
    layer = make()
    if isinstance(layer, BatchNorm1d) and not layer.training:
        layer.running_mean[:] = np.random.randn(4)
        layer.running_var[:] = np.random.rand(4) + 0.5
    check_layer(layer, randn(*shape))


def test_maxpool_routes_ties_to_one_element():
    x = Tensor(np.zeros((1, 1, 2, 2)), autograd=True)
    MaxPool2d(2)(x).sum().backward()
    assert x.grad.numpy().sum() == 1.0


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2), (2, 3)])
def test_maxpool_gradient_goes_to_the_first_maximum_of_each_window(kernel, stride):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 3, size=(2, 3, 7, 7)).astype(float)  # many ties
    x = Tensor(data, autograd=True)
    out = MaxPool2d(kernel, stride)(x)
    weights = rng.normal(size=out.shape)
    out.backward(Tensor(weights))
    expected = np.zeros_like(data)
    for b, c, i, j in np.ndindex(*out.shape):
        window = data[b, c, i * stride : i * stride + kernel, j * stride : j * stride + kernel]
        r, q = np.unravel_index(np.argmax(window), window.shape)  # argmax: first maximum
        expected[b, c, i * stride + r, j * stride + q] += weights[b, c, i, j]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_embedding_gradient_accumulates_repeated_ids():
    emb = Embedding(5, 3)
    ids = np.array([[0, 2, 2], [4, 0, 2]])
    assert gradcheck(lambda w: emb(ids), [emb.weight], atol=1e-6)
    emb.zero_grad()
    emb(ids).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy()[:, 0], [2, 0, 3, 0, 1])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_rnn_cell_over_several_steps(activation):
    cell = RNNCell(3, 4, 2, activation=activation)
    xs = [randn(2, 3) for _ in range(3)]

    def unrolled(*inputs):
        hidden = cell.init_hidden(2)
        outputs = []
        for x in inputs[:3]:
            out, hidden = cell.forward(input=x, hidden=hidden)
            outputs.append(out)
        return engine.stack(outputs)

    assert gradcheck(unrolled, [*xs, *cell.get_parameters()], atol=1e-6, rtol=1e-5)


def unroll_cell(cell, x_seq):
    """Run an LSTMCell over (B, T, F), return all hidden states (B, T, H) and all outputs."""
    hidden = cell.init_hidden(x_seq.shape[0])
    hs, outs = [], []
    for t in range(x_seq.shape[1]):
        out, hidden = cell.forward(input=x_seq[:, t], hidden=hidden)
        hs.append(hidden[0])
        outs.append(out)
    return engine.stack(hs, dim=1), engine.stack(outs, dim=1)


def test_lstm_cell_over_several_steps():
    cell = LSTMCell(3, 4, 2)
    x = randn(2, 4, 3)
    assert gradcheck(
        lambda *ts: unroll_cell(cell, ts[0])[1], [x, *cell.get_parameters()], atol=1e-6, rtol=1e-5
    )


def lstm_from_cell(cell):
    """An LSTM sequence layer holding the same weights as a book LSTMCell."""
    lstm = LSTM(cell.n_inputs, cell.n_hidden)
    lstm.weight_ih.data[...] = np.concatenate(
        [cell.xf.weight.data, cell.xi.weight.data, cell.xo.weight.data, cell.xc.weight.data], 1
    )
    lstm.weight_hh.data[...] = np.concatenate(
        [cell.hf.weight.data, cell.hi.weight.data, cell.ho.weight.data, cell.hc.weight.data], 1
    )
    lstm.bias.data[...] = np.concatenate(
        [cell.xf.bias.data, cell.xi.bias.data, cell.xo.bias.data, cell.xc.bias.data]
    )
    return lstm


def test_fused_lstm_equals_book_cell_values_and_gradients():
    cell = LSTMCell(3, 5, 2)
    lstm = lstm_from_cell(cell)
    x_data = np.random.randn(2, 6, 3)
    x1, x2 = Tensor(x_data, autograd=True), Tensor(x_data, autograd=True)
    weights = np.random.randn(2, 6, 5)
    hs_cell = unroll_cell(cell, x1)[0]
    hs_fused = lstm(x2)
    np.testing.assert_allclose(hs_fused.numpy(), hs_cell.numpy(), atol=1e-12)
    (hs_cell * weights).sum().backward()
    (hs_fused * weights).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), x1.grad.numpy(), atol=1e-12)
    dw_hh = np.concatenate(
        [getattr(cell, n).weight.grad.numpy() for n in ("hf", "hi", "ho", "hc")], 1
    )
    np.testing.assert_allclose(lstm.weight_hh.grad.numpy(), dw_hh, atol=1e-12)


def test_lstm_run_carries_state_like_one_long_sequence():
    lstm = LSTM(2, 3)
    x = np.random.randn(1, 8, 2)
    whole = lstm(Tensor(x)).numpy()
    first, state = lstm.run(x[:, :5])
    second, _ = lstm.run(x[:, 5:], state)
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 3])
def test_fused_lstm_gradients_with_a_given_initial_state(steps):
    x, w_ih, b, w_hh = randn(2, steps, 3), randn(3, 8), randn(8), randn(2, 8)
    h0, c0 = np.random.randn(2, 2), np.random.randn(2, 2)

    def run(*ts):
        return LSTMSequenceFn.apply(*ts, h0=h0, c0=c0)

    assert gradcheck(run, [x, w_ih, b, w_hh], atol=1e-6, rtol=1e-5)
    assert gradcheck(
        lambda *ts: LSTMSequenceFn.apply(*ts), [x, w_ih, b, w_hh], atol=1e-6, rtol=1e-5
    )


def test_index_by_an_integer_array_accumulates_repeated_rows():
    x = randn(4, 3)
    idx = np.array([[3, -1], [0, 3]])
    assert gradcheck(lambda t: t[idx], [x], atol=1e-6)
