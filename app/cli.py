"""The ``nodegrad`` command."""

from __future__ import annotations

import sys

from app import __version__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("--version", "-V"):
        print(f"nodegrad {__version__}")
        return 0
    print(f"nodegrad {__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
