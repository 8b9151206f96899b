"""nodegrad: a visual-programming editor for neural networks."""

__version__ = "0.1.0"
