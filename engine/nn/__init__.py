"""Layers: the book's ``Layer``, ``Linear``, ``Sequential``, activations, ``Embedding``,
``RNNCell`` and ``LSTMCell``, plus convolution, pooling, normalisation, dropout and whole-sequence
``RNN``/``LSTM`` layers."""

from __future__ import annotations

from engine.nn.activation import (
    Dropout,
    Flatten,
    LeakyRelu,
    Relu,
    Reshape,
    Sigmoid,
    Softmax,
    Tanh,
)
from engine.nn.containers import Sequential
from engine.nn.conv import Conv2d, MaxPool2d
from engine.nn.linear import Embedding, Linear
from engine.nn.module import Layer, StatelessLayer
from engine.nn.norm import BatchNorm1d, LayerNorm
from engine.nn.recurrent import LSTMCell, RNNCell
from engine.nn.sequence import LSTM, RNN

__all__ = [
    "LSTM",
    "RNN",
    "BatchNorm1d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "LSTMCell",
    "Layer",
    "LayerNorm",
    "LeakyRelu",
    "Linear",
    "MaxPool2d",
    "RNNCell",
    "Relu",
    "Reshape",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StatelessLayer",
    "Tanh",
]
