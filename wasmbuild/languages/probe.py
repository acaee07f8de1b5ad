"""Finding tools on this machine, shared by the languages' host probes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def which(*names: str) -> str | None:
    """The first of `names` found on PATH (as an absolute path)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def output(argv: list[str], timeout: float = 20) -> str | None:
    """stdout of argv, or None when it cannot run or fails."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def executable(path: str | Path) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)
