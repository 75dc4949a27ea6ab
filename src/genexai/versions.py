"""Print an nf-core ``versions.yml`` block for a process.

Usage: ``python3 -m genexai.versions "<task.process>" [package ...]``.
genexai and Python are always listed.
"""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version


def versions_yaml(process: str, packages: list[str]) -> str:
    """The YAML text ``"<process>":\\n    <pkg>: <version>`` for each package."""
    lines = [f'"{process}":', f"    python: {platform.python_version()}"]
    for name in ["genexai", *packages]:
        try:
            lines.append(f"    {name}: {version(name)}")
        except PackageNotFoundError:
            lines.append(f"    {name}: not installed")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(versions_yaml(sys.argv[1], sys.argv[2:]))
