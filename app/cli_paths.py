"""Checks on the files a headless command reads and writes, made before any work is done."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from app.graph.compile import Program


class OutputPathError(ValueError):
    """An output path the command must not (or cannot) write; the message names it."""


def check_output(output: Path, *inputs: Path, option: str = "-o") -> None:
    """Refuse ``output`` when it is one of ``inputs``, a folder, or in a folder that is missing.

    Parameters
    ----------
    output
        The file the command will write.
    inputs
        The files the command reads; writing over one of them would destroy it.
    option
        The command-line option that named ``output``, for the message.
    """
    if output.is_dir():
        raise OutputPathError(f"{option} {output}: is a folder; give a file name")
    folder = output.parent
    if not folder.is_dir():
        raise OutputPathError(f"{option} {output}: the folder {folder} does not exist")
    for source in inputs:
        if source.exists() and output.exists() and output.samefile(source):
            raise OutputPathError(
                f"{option} {output}: that is the input file {source}; writing it would "
                "destroy it, so choose another name"
            )


class StaleWeightsError(ValueError):
    """Saved weights that no longer fit the graph; ``problems`` names each node."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def check_weights_fit(
    program: Program, weights: Mapping[str, np.ndarray], source: Path, graph: Path
) -> None:
    """Refuse weights read from ``source`` that do not fit ``graph`` (edited since they were
    saved), naming every node that does not fit and what to do about it."""
    from app.graph.weights_fit import fit_weights

    _, misfits = fit_weights(program, weights)
    if misfits:
        raise StaleWeightsError(
            f"the weights in {source} do not fit {graph} (edited since they were saved?); "
            f"train it again with 'nodegrad train {graph}', or move {source} away",
            [misfit.message for misfit in misfits],
        )
