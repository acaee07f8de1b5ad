"""TOML files (wasmbuild.toml, Cargo.toml), read with the standard library's tomllib (tomli before 3.11).

One reader, so every TOML file a user wrote fails the same way: `NAME: not valid TOML: ...` with
a hint to fix its syntax, or the file's own not-found or permission error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wasmbuild.errors import ConfigError, from_os_error

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load(path: Path) -> dict[str, Any]:
    """The parsed file; ConfigError for bad syntax, from_os_error's error when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path.name}: not valid TOML: {error}", f"fix the syntax of {path}") from None
    except OSError as error:
        raise from_os_error(OSError(error.errno, error.strerror), f"cannot read {path}") from None
