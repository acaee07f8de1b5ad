"""Where wasmbuild keeps its state: the local store, the build cache, credentials, crash logs."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """$WASMBUILD_HOME, else $XDG_CACHE_HOME/wasmbuild, else ~/.cache/wasmbuild."""
    explicit = os.environ.get("WASMBUILD_HOME")
    if explicit:
        path = Path(explicit).expanduser()
        if path.exists() and not path.is_dir():
            # else `list` shows an empty store and every write fails with 'Not a directory'
            from wasmbuild.errors import UsageError

            raise UsageError(f"WASMBUILD_HOME={explicit} is not a directory",
                             "point it at a directory (it is created when missing), or unset it")
        return path
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "wasmbuild"


def store_dir() -> Path:
    """The local module store (wasme's layout: one directory per reference)."""
    return home() / "store"


def build_cache_dir() -> Path:
    """Built modules by build key, so an unchanged project is never rebuilt."""
    return home() / "cache" / "builds"
