"""The book's chapter 13-14 listings run with ``from engine import *`` and train as the book's
formulas say (weights injected, float64, compared with an independent NumPy loop)."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import *  # noqa: F403  (the book's way of using the framework)
from engine import SGD, CrossEntropyLoss, Embedding, Linear, MSELoss, RNNCell, Sequential, Tensor


@pytest.fixture(autouse=True)
def float64():
    engine.set_default_dtype(np.float64)
    yield
    engine.set_default_dtype(np.float32)


def test_ch13_sequential_mse_listing_matches_numpy():
    data = Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), autograd=True)
    target = Tensor(np.array([[0], [1], [0], [1]]), autograd=True)
    model = Sequential([Linear(2, 3), Tanh(), Linear(3, 1), Sigmoid()])  # noqa: F405
    rng = np.random.default_rng(5)
    w1, w2 = rng.normal(size=(2, 3)), rng.normal(size=(3, 1))
    model.load_state_dict(
        {"0.weight": w1, "0.bias": np.zeros(3), "2.weight": w2, "2.bias": np.zeros(1)}
    )
    criterion = MSELoss()
    optim = SGD(parameters=model.get_parameters(), alpha=1)
    losses = []
    for _ in range(10):
        pred = model.forward(data)
        loss = criterion.forward(pred, target)
        loss.backward(Tensor(np.ones_like(loss.data)))
        optim.step()
        losses.append(loss.data.copy())
    assert losses[0].shape == (1,)

    x, y = data.data.astype(float), target.data.astype(float)
    b1, b2 = np.zeros(3), np.zeros(1)
    expected = []
    for _ in range(10):
        h = np.tanh(x @ w1 + b1)
        p = 1 / (1 + np.exp(-(h @ w2 + b2)))
        expected.append(((p - y) ** 2).sum(0))
        dz2 = 2 * (p - y) * p * (1 - p)
        dh = dz2 @ w2.T * (1 - h * h)
        w2, b2 = w2 - h.T @ dz2, b2 - dz2.sum(0)
        w1, b1 = w1 - x.T @ dh, b1 - dh.sum(0)
    np.testing.assert_allclose(np.array(losses), np.array(expected), rtol=1e-10)
    assert losses[-1][0] < losses[0][0]


def test_ch13_embedding_cross_entropy_listing_with_batch_scaled_alpha():
    """With alpha multiplied by the batch size, our true-mean gradient reproduces the book's."""
    data = Tensor(np.array([1, 2, 1, 2]), autograd=True)
    target = Tensor(np.array([0, 1, 0, 1]), autograd=True)
    model = Sequential([Embedding(3, 3), Tanh(), Linear(3, 4)])  # noqa: F405
    rng = np.random.default_rng(2)
    e, w = rng.normal(size=(3, 3)) * 0.3, rng.normal(size=(3, 4))
    model.load_state_dict({"0.weight": e, "2.weight": w, "2.bias": np.zeros(4)})
    criterion = CrossEntropyLoss()
    optim = SGD(parameters=model.get_parameters(), alpha=0.1 * 4)
    losses = []
    for _ in range(10):
        pred = model.forward(data)
        loss = criterion.forward(pred, target)
        loss.backward(Tensor(np.ones_like(loss.data)))
        optim.step()
        losses.append(float(loss.data))

    idx, y = data.data, target.data
    b = np.zeros(4)
    expected = []
    for _ in range(10):
        h = np.tanh(e[idx])
        z = h @ w + b
        s = np.exp(z - z.max(1, keepdims=True))
        s /= s.sum(1, keepdims=True)
        expected.append(-np.log(s[np.arange(4), y]).mean())
        dz = s - np.eye(4)[y]  # the book's gradient: softmax - onehot, not divided by N
        dh = dz @ w.T * (1 - h * h)
        w, b = w - 0.1 * h.T @ dz, b - 0.1 * dz.sum(0)
        np.add.at(e, idx, -0.1 * dh)
    np.testing.assert_allclose(losses, expected, rtol=1e-10)


def test_ch13_rnn_cell_listing_trains():
    """The chapter 13 RNN recipe (embedding, RNNCell, loss on the last step) lowers the loss."""
    np.random.seed(0)
    text = ["the", "cat", "sat", "on", "the", "mat", "the", "dog", "sat", "on", "the", "log"]
    vocab = sorted(set(text))
    ids = np.array([vocab.index(w) for w in text])
    windows = np.stack([ids[i : i + 4] for i in range(len(ids) - 3)])
    embed = Embedding(vocab_size=len(vocab), dim=16)
    model = RNNCell(n_inputs=16, n_hidden=16, n_output=len(vocab))
    criterion = CrossEntropyLoss()
    optim = SGD(parameters=model.get_parameters() + embed.get_parameters(), alpha=0.05 * 8)
    losses = []
    for _ in range(150):
        hidden = model.init_hidden(batch_size=len(windows))
        for t in range(3):
            input = Tensor(windows[:, t], autograd=True)
            rnn_input = embed.forward(input=input)
            output, hidden = model.forward(input=rnn_input, hidden=hidden)
        target = Tensor(windows[:, 3], autograd=True)
        loss = criterion.forward(output, target)
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_ch14_lstm_cell_listing_trains():
    """The chapter 14 recipe: LSTMCell, w_ho zeroed so the first prediction is uniform."""
    np.random.seed(1)
    seq = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0])
    embed = Embedding(vocab_size=5, dim=8)
    model = LSTMCell(n_inputs=8, n_hidden=16, n_output=5)  # noqa: F405
    model.w_ho.weight.data *= 0
    criterion = CrossEntropyLoss()
    optim = SGD(parameters=model.get_parameters() + embed.get_parameters(), alpha=0.5)
    losses = []
    for _ in range(40):
        hidden = model.init_hidden(batch_size=1)
        total = None
        for t in range(len(seq) - 1):
            input = Tensor(seq[t : t + 1], autograd=True)
            output, hidden = model.forward(input=embed.forward(input=input), hidden=hidden)
            step_loss = criterion.forward(output, Tensor(seq[t + 1 : t + 2], autograd=True))
            total = step_loss if total is None else total + step_loss
        total.backward()
        optim.step()
        losses.append(total.item() / (len(seq) - 1))
    assert np.isclose(losses[0], np.log(5))
    assert losses[-1] < 0.2
