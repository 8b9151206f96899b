"""Layers: the book's ``Layer``, ``Linear``, ``Sequential``, activations, ``Embedding``,
``RNNCell`` and ``LSTMCell``, plus convolution, pooling, normalisation, dropout and whole-sequence
``RNN``/``LSTM`` layers; and the layers of modern networks: ``GELU``, ``SiLU``, ``Conv1d``,
average pooling, ``BatchNorm2d``, ``GRU``, attention and the transformer encoder layer."""

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
from engine.nn.attention import MultiHeadAttention, PositionalEmbedding
from engine.nn.containers import Sequential
from engine.nn.conv import Conv2d, MaxPool2d
from engine.nn.conv1d import Conv1d
from engine.nn.gelu import GELU, SiLU
from engine.nn.gru import GRU, GRUCell
from engine.nn.linear import Embedding, Linear
from engine.nn.module import Layer, StatelessLayer
from engine.nn.norm import BatchNorm1d, LayerNorm
from engine.nn.norm2d import BatchNorm2d
from engine.nn.pooling import AvgPool2d, GlobalAvgPool2d
from engine.nn.recurrent import LSTMCell, RNNCell
from engine.nn.sequence import LSTM, RNN
from engine.nn.transformer import TransformerEncoderLayer

__all__ = [
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GlobalAvgPool2d",
    "LSTMCell",
    "Layer",
    "LayerNorm",
    "LeakyRelu",
    "Linear",
    "MaxPool2d",
    "MultiHeadAttention",
    "PositionalEmbedding",
    "RNNCell",
    "Relu",
    "Reshape",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "StatelessLayer",
    "Tanh",
    "TransformerEncoderLayer",
]
