"""scripts/install compiles the engine's kernels once per version of their sources, and again
when their cache folder is gone."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "cat", "sha1sum", "cut", "rm", "touch", "dirname", "id", "grep")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what the script reads, with a ``.venv`` already installed for this
    pyproject.toml whose ``python`` only logs its arguments (nothing is compiled or fetched)."""
    if any(shutil.which(tool) is None for tool in TOOLS):
        pytest.skip("a shell tool the script uses is missing")
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "install", root / "scripts" / "install")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "engine" / "kernels", root / "engine" / "kernels")
    venv = root / ".venv" / "bin"
    venv.mkdir(parents=True)
    python = venv / "python"
    python.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path / "calls.log"}"\n')
    python.chmod(0o755)
    digest = hashlib.sha1((root / "pyproject.toml").read_bytes()).hexdigest()[:12]
    (root / ".venv" / f".installed-{digest}").touch()
    tools = tmp_path / "tools"  # no dpkg-query, apt-get or pip on this PATH
    tools.mkdir()
    for tool in TOOLS:
        (tools / tool).symlink_to(str(shutil.which(tool)))
    return root


def _install(root: Path) -> list[str]:
    env = {"PATH": str(root.parent / "tools"), "HOME": str(root.parent)}
    subprocess.run(
        ["bash", str(root / "scripts" / "install")], check=True, env=env, capture_output=True
    )
    log = root.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


PREPARE = "-c import engine.kernels as k; k.prepare()"
WHERE = "-c from engine.kernels.compiler import cache_dir; print(cache_dir() or '')"


def test_the_kernels_are_compiled_once_and_again_when_their_sources_change(
    checkout: Path,
) -> None:
    assert _install(checkout) == [PREPARE, WHERE]
    assert _install(checkout) == [PREPARE, WHERE]  # nothing to do the second time
    stamps = sorted(p.name for p in (checkout / ".venv").glob(".kernels-*"))
    assert len(stamps) == 1
    with (checkout / "engine" / "kernels" / "compiler.py").open("a") as source:
        source.write("\n# changed\n")
    assert _install(checkout) == [PREPARE, WHERE] * 2
    assert sorted(p.name for p in (checkout / ".venv").glob(".kernels-*")) != stamps
    assert len(list((checkout / ".venv").glob(".kernels-*"))) == 1


def test_a_deleted_kernel_cache_is_compiled_again(checkout: Path, tmp_path: Path) -> None:
    assert _install(checkout) == [PREPARE, WHERE]
    (stamp,) = (checkout / ".venv").glob(".kernels-*")
    cache = tmp_path / "cache" / "nodegrad" / "kernels" / "abc"
    cache.mkdir(parents=True)
    stamp.write_text(f"{cache}\n")  # what the real interpreter prints
    assert _install(checkout) == [PREPARE, WHERE]  # the cache is there: nothing to do
    cache.rmdir()
    assert _install(checkout) == [PREPARE, WHERE] * 2


def test_a_failed_compilation_leaves_no_stamp_and_the_install_succeeds(checkout: Path) -> None:
    python = checkout / ".venv" / "bin" / "python"
    python.write_text(python.read_text() + "exit 1\n")
    assert len(_install(checkout)) == 1
    assert not list((checkout / ".venv").glob(".kernels-*"))
    assert len(_install(checkout)) == 2  # tried again
