"""The book's LSTMCell computes its gates in one fused product: same values and gradients as the
unfused maths (written here with plain tensor ops), same parameters in the same order, and the
parameters stay the fused weight's views through training, moving and loading."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import SGD, LSTMCell, Tensor, gradcheck


@pytest.fixture(autouse=True)
def _float64() -> None:
    engine.set_default_dtype(np.float64)  # conftest restores the default


def unfused_step(cell: LSTMCell, x: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The book's cell, one Linear per gate and input (the reference the engine no longer runs)."""

    def lin(layer: engine.Linear, v: Tensor) -> Tensor:
        out = v.mm(Tensor(layer.weight.numpy(), autograd=True))
        return out + Tensor(layer.bias.numpy()) if layer.use_bias else out

    f = (lin(cell.xf, x) + lin(cell.hf, h)).sigmoid()
    i = (lin(cell.xi, x) + lin(cell.hi, h)).sigmoid()
    o = (lin(cell.xo, x) + lin(cell.ho, h)).sigmoid()
    g = (lin(cell.xc, x) + lin(cell.hc, h)).tanh()
    c_new = f * c + i * g
    h_new = o * c_new.tanh()
    return lin(cell.w_ho, h_new), h_new, c_new


def test_values_and_input_gradients_match_the_unfused_maths() -> None:
    np.random.seed(1)
    cell = LSTMCell(3, 5, 2)
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(4, 3)) for _ in range(3)]
    upstream = [rng.normal(size=(4, 2)) for _ in range(3)]
    grads = []
    for fused in (True, False):
        inputs = [Tensor(x, autograd=True) for x in xs]
        h = Tensor(np.full((4, 5), 0.3), autograd=True)
        c = Tensor(np.full((4, 5), -0.2), autograd=True)
        state, total, outs = (h, c), None, []
        for x, up in zip(inputs, upstream, strict=True):
            if fused:
                out, state = cell.forward(x, state)
            else:
                out, *rest = unfused_step(cell, x, *state)
                state = (rest[0], rest[1])
            term = (out * Tensor(up)).sum()
            total = term if total is None else total + term
            outs.append(out.numpy())
        total.backward()
        grads.append((outs, [x.grad.numpy() for x in inputs], h.grad.numpy(), c.grad.numpy()))
    (outs_f, dxs_f, dh_f, dc_f), (outs_u, dxs_u, dh_u, dc_u) = grads
    for a, b in zip(outs_f + dxs_f + [dh_f, dc_f], outs_u + dxs_u + [dh_u, dc_u], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_parameter_gradients_match_the_unfused_maths() -> None:
    np.random.seed(3)
    cell = LSTMCell(2, 3, 2)
    rng = np.random.default_rng(4)
    x, up = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    out, (h, c) = cell.forward(Tensor(x), cell.init_hidden(5))
    out2, _ = cell.forward(Tensor(x[::-1].copy()), (h, c))
    ((out + out2) * Tensor(up)).sum().backward()
    fused = [p.grad.numpy().copy() for p in cell.get_parameters()]

    # the reference: the same two steps, differentiated by finite differences of the unfused maths
    def objective() -> float:
        s = (Tensor(np.zeros((5, 3))), Tensor(np.zeros((5, 3))))
        o1, h1, c1 = unfused_step(cell, Tensor(x), *s)
        o2, _, _ = unfused_step(cell, Tensor(x[::-1].copy()), h1, c1)
        return float(((o1 + o2) * Tensor(up)).sum().numpy())

    eps = 1e-6
    for p, got in zip(cell.get_parameters(), fused, strict=True):
        numeric = np.zeros(p.shape)
        for index in np.ndindex(*p.shape):
            orig = p.data[index]
            p.data[index] = orig + eps
            plus = objective()
            p.data[index] = orig - eps
            minus = objective()
            p.data[index] = orig
            numeric[index] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)


def test_gradcheck_over_steps_in_float64() -> None:
    np.random.seed(5)
    cell = LSTMCell(3, 4, 2)
    x = Tensor(np.random.default_rng(6).normal(size=(2, 3)), autograd=True)

    def two_steps(x: Tensor, *params: Tensor) -> Tensor:
        out, state = cell.forward(x, cell.init_hidden(2))
        out2, _ = cell.forward(x * 0.5, state)
        return out + out2

    assert gradcheck(two_steps, [x, *cell.get_parameters()], atol=1e-7, rtol=1e-6)


def test_parameters_keep_the_book_order_and_stay_views_while_training() -> None:
    cell = LSTMCell(3, 4, 2)
    names = [name for name, _ in cell.named_parameters()]
    assert names[:4] == ["xf.weight", "xf.bias", "xi.weight", "xi.bias"]
    assert names[-1] == "w_ho.weight" and len(names) == 13
    params = cell.get_parameters()
    optim = SGD(params, alpha=0.5)
    x = Tensor(np.ones((2, 3)))
    for _ in range(3):
        out, _ = cell.forward(x, cell.init_hidden(2))
        out.sum().backward()
        optim.step()
    weight, _ = cell._gates.arrays()
    assert cell.xf.weight.data.base is weight or cell.xf.weight.data.base is weight.base
    np.testing.assert_array_equal(weight[:3, :4], cell.xf.weight.numpy())
    np.testing.assert_array_equal(weight[3:, 12:], cell.hc.weight.numpy())


def test_replaced_parameter_arrays_are_fused_again() -> None:
    cell = LSTMCell(3, 4, 2)
    x = Tensor(np.ones((2, 3)))
    cell.forward(x, cell.init_hidden(2))
    cell.xi.weight.data = np.zeros((3, 4))  # replaced, not updated in place
    cell.xi.bias.data = np.full(4, 50.0)  # the input gate saturates open
    cell.xf.bias.data = np.full(4, -50.0)  # the forget gate shut
    state = (Tensor(np.zeros((2, 4))), Tensor(np.full((2, 4), 7.0)))
    _, (_, c) = cell.forward(x, state)
    g = np.tanh(x.numpy() @ cell.xc.weight.numpy() + cell.xc.bias.numpy())
    np.testing.assert_allclose(c.numpy(), g, atol=1e-9)  # c = 0 * 7 + 1 * g
    state_dict = cell.state_dict()
    other = LSTMCell(3, 4, 2)
    other.load_state_dict(state_dict)
    np.testing.assert_array_equal(
        other.forward(x, state)[0].numpy(), cell.forward(x, state)[0].numpy()
    )


def test_a_wrong_input_width_names_the_shapes() -> None:
    cell = LSTMCell(3, 4, 2)
    with pytest.raises(engine.ShapeError, match=r"LSTMCell: expected input \(batch, 3\)"):
        cell.forward(Tensor(np.ones((2, 5))), cell.init_hidden(2))
