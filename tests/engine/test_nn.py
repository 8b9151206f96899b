"""Layer API: registration order, state dicts, modes, devices, printing and errors."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import (
    LSTM,
    BatchNorm1d,
    Conv2d,
    Dropout,
    Embedding,
    Layer,
    Linear,
    LSTMCell,
    MaxPool2d,
    Relu,
    RNNCell,
    Sequential,
    ShapeError,
    Tanh,
    Tensor,
)


class TwoLayer(Layer):
    def __init__(self):
        super().__init__()
        self.first = Linear(3, 4)
        self.act = Relu()
        self.scale = Tensor(np.ones(4), autograd=True)
        self.second = Linear(4, 2, bias=False)
        self.note = "not a parameter"
        self.constant = Tensor(np.ones(2))
        self.cached = self.scale * 2  # an op result, not a leaf

    def forward(self, x):
        return self.second(self.act(self.first(x)) * self.scale)


def test_registration_order_and_dotted_names():
    model = TwoLayer()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight"]
    assert model.get_parameters() == model.parameters()
    assert model.num_parameters() == 4 + 12 + 4 + 8
    del model.scale
    assert next(n for n, _ in model.named_parameters()) == "first.weight"


def test_shared_parameters_listed_once():
    shared = Linear(2, 2)
    model = Sequential([shared, Tanh(), shared])
    assert len(model.parameters()) == 2
    assert sorted(model.state_dict()) == ["0.bias", "0.weight"]


def test_layer_without_super_init_fails_clearly():
    class Broken(Layer):
        def __init__(self):
            self.w = Tensor(np.ones(2), autograd=True)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_state_dict_round_trip_through_npz(tmp_path):
    np.random.seed(1)
    model = Sequential([Conv2d(1, 2, 3), Relu(), BatchNorm1d(2), LSTM(2, 3)])
    state = model.state_dict()
    assert list(state) == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "3.weight_ih",
        "3.weight_hh",
        "3.bias",
        "2.running_mean",
        "2.running_var",
    ]
    np.savez(tmp_path / "w.npz", **state)
    other = Sequential([Conv2d(1, 2, 3), Relu(), BatchNorm1d(2), LSTM(2, 3)])
    before = other[0].weight
    with np.load(tmp_path / "w.npz", allow_pickle=False) as saved:
        other.load_state_dict(dict(saved))
    assert other[0].weight is before  # updated in place: optimizers keep working
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    state["0.weight"][...] = 5.0
    assert not np.any(model[0].weight.numpy() == 5.0)  # state_dict returns copies


def test_batchnorm_running_stats_stay_saved_after_training():
    """The running statistics are updated with ``*=`` and ``+=``, which assign the attribute:
    they must stay buffers, saved, loaded and moved between devices with the model."""
    np.random.seed(2)
    model = BatchNorm1d(3)
    model(Tensor(np.random.normal(2.0, 3.0, size=(16, 3))))
    state = model.state_dict()
    assert {"running_mean", "running_var"} <= set(state)
    assert np.all(state["running_mean"] > 0.1)  # moved towards the batch mean of about 2
    other = BatchNorm1d(3)
    other.load_state_dict(state)
    x = Tensor(np.random.normal(size=(4, 3)))
    model.eval(), other.eval()
    np.testing.assert_allclose(other(x).numpy(), model(x).numpy())


def test_load_state_dict_errors_name_key_and_shapes():
    model = Linear(3, 2)
    with pytest.raises(ShapeError, match=r"'weight'.*\(2, 3\).*\(3, 2\)"):
        model.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2)})
    with pytest.raises(KeyError, match=r"missing keys \['bias'\].*unexpected keys \['b'\]"):
        model.load_state_dict({"weight": np.zeros((3, 2)), "b": np.zeros(2)})
    model.load_state_dict({"weight": np.ones((3, 2))}, strict=False)
    assert model.weight.numpy().sum() == 6


def test_train_eval_switch_dropout_and_batchnorm():
    model = Sequential([Linear(4, 4), Dropout(0.5), BatchNorm1d(4)])
    x = Tensor(np.random.randn(16, 4))
    assert model.training and model[1].training
    model.eval()
    assert not model[1].training and not model[2].training
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert model[1].training
    dropped = model[1](Tensor(np.ones((100, 100))))
    assert 0.3 < float((dropped.numpy() == 0).mean()) < 0.7


def test_batchnorm_running_statistics():
    bn = BatchNorm1d(2, momentum=0.5)
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean, [1.0, 2.0])
    np.testing.assert_allclose(bn.running_var, [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 8.0])


def test_to_cpu_is_a_no_op_and_gpu_is_skipped_or_works():
    model = Linear(2, 2)
    assert model.to("cpu") is model and model.weight.device == "cpu"
    reason = engine.backend.gpu_unavailable_reason()
    if reason is not None:
        with pytest.raises(engine.DeviceError):
            model.to("gpu")
        pytest.skip(f"GPU unusable: {reason}")
    model.to("gpu")
    assert model.weight.device == "gpu"
    out = model(Tensor(np.ones((1, 2))).to("gpu"))
    assert out.device == "gpu"
    assert model.to("cpu").weight.device == "cpu"


def test_repr_shows_structure():
    text = repr(Sequential([Linear(2, 3), Relu(), Conv2d(1, 2, 3, padding=1), MaxPool2d(2)]))
    assert "(0): Linear(2, 3, bias=True)" in text
    assert "(2): Conv2d(1, 2, kernel=3, stride=1, padding=1)" in text
    assert "MaxPool2d(kernel=2, stride=2)" in text


@pytest.mark.parametrize(
    ("layer", "shape", "pattern"),
    [
        (Conv2d(1, 2, 3), (2, 3, 8, 8), "3 channels, weight expects 1"),
        (Conv2d(1, 2, 3), (2, 1, 8), r"expected input \(B, C, H, W\)"),
        (Conv2d(1, 2, 5), (2, 1, 3, 3), "smaller than kernel 5"),
        (MaxPool2d(4), (1, 1, 2, 2), "smaller than kernel 4"),
        (LSTM(3, 4), (2, 5, 2), r"expected input \(B, T, 3\)"),
        (BatchNorm1d(3), (2, 4), r"expected input \(N, 3\)"),
        (Linear(3, 2), (4, 5), "mm"),
    ],
)
def test_shape_errors_are_clear(layer, shape, pattern):
    with pytest.raises(ShapeError, match=pattern):
        layer(Tensor(np.zeros(shape)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="Non-linearity not found"):
        RNNCell(2, 2, 2, activation="softsign")
    with pytest.raises(ValueError, match="p must be"):
        Dropout(1.0)
    with pytest.raises(TypeError, match="expects a Layer"):
        Sequential().add("relu")


def test_sequential_has_no_shared_default_list():
    a, b = Sequential(), Sequential()
    a.add(Relu())
    assert len(b) == 0 and len(a) == 1


# --- the book's initialisation, parameter order and shapes ----------------------------------
def test_linear_and_embedding_initialisation_match_the_book_formulas():
    np.random.seed(3)
    lin, emb = Linear(4, 3), Embedding(6, 5)
    np.random.seed(3)
    w = np.random.randn(4, 3) * np.sqrt(2.0 / 4)
    e = (np.random.rand(6, 5) - 0.5) / 5
    np.testing.assert_allclose(lin.weight.numpy(), w, rtol=1e-6)
    np.testing.assert_array_equal(lin.bias.numpy(), np.zeros(3))
    np.testing.assert_allclose(emb.weight.numpy(), e, rtol=1e-6)
    assert lin.weight.dtype == np.float32 and lin.bias.shape == (3,)


def test_rnn_cell_layout_as_the_book():
    cell = RNNCell(n_inputs=5, n_hidden=4, n_output=3)
    shapes = [p.shape for p in cell.get_parameters()]
    assert shapes == [(5, 4), (4,), (4, 4), (4,), (4, 3), (3,)]
    assert [n for n, _ in cell.named_parameters()][::2] == [
        "w_ih.weight",
        "w_hh.weight",
        "w_ho.weight",
    ]
    hidden = cell.init_hidden(batch_size=2)
    assert hidden.shape == (2, 4) and not hidden.numpy().any() and hidden.autograd


def test_lstm_cell_layout_as_the_book():
    np.random.seed(7)
    cell = LSTMCell(n_inputs=5, n_hidden=4, n_output=3)
    names = [n for n, _ in cell.named_parameters()]
    assert names == [
        "xf.weight",
        "xf.bias",
        "xi.weight",
        "xi.bias",
        "xo.weight",
        "xo.bias",
        "xc.weight",
        "xc.bias",
        "hf.weight",
        "hi.weight",
        "ho.weight",
        "hc.weight",
        "w_ho.weight",
    ]
    np.random.seed(7)
    expected = [np.random.randn(5, 4) * np.sqrt(2 / 5) for _ in range(4)]
    expected += [np.random.randn(4, 4) * np.sqrt(2 / 4) for _ in range(4)]
    weights = [p.numpy() for n, p in cell.named_parameters() if n.endswith("weight")]
    for got, want in zip(weights, expected, strict=False):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    h, c = cell.init_hidden(batch_size=3)
    assert h.shape == c.shape == (3, 4) and not h.numpy().any() and not c.numpy().any()


def test_reset_parameters_redraws_in_place_in_book_order():
    np.random.seed(11)
    cell = LSTMCell(3, 4, 2)
    first = cell.state_dict()
    tensors = cell.get_parameters()
    np.random.seed(11)
    cell.reset_parameters()
    assert cell.get_parameters() == tensors and all(
        a is b for a, b in zip(cell.get_parameters(), tensors, strict=True)
    )
    for key, value in cell.state_dict().items():
        np.testing.assert_array_equal(value, first[key])
    bn = BatchNorm1d(2)
    bn(Tensor(np.random.randn(4, 2) + 3))
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.running_mean, [0, 0])
    lstm = LSTM(2, 3)
    before = lstm.weight_hh.numpy()
    lstm.reset_parameters()
    assert not np.array_equal(before, lstm.weight_hh.numpy())
    assert np.abs(lstm.weight_hh.numpy()).max() <= 1 / np.sqrt(3)


def test_only_an_array_stays_a_buffer():
    model = BatchNorm1d(2)
    model.running_mean = np.ones(2, dtype=np.float32)  # an array: still saved
    assert "running_mean" in model.state_dict()
    model.running_var = "replaced"  # anything else takes the buffer's place
    assert "running_var" not in model.state_dict()
