"""Locate the data that ships with wasmbuild: templates/ and toolchains/.

In a source checkout (or an editable install) they are the top-level folders of the repository;
in an installed wheel they live under wasmbuild/_data/ (see pyproject.toml's force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped folder `name` ("templates" or "toolchains")."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def templates_dir() -> Path:
    return data_dir("templates")


def toolchains_dir() -> Path:
    return data_dir("toolchains")
