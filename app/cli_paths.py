"""Checks on the files a headless command is about to write, made before any work is done."""

from __future__ import annotations

from pathlib import Path


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
