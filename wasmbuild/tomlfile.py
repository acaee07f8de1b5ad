"""TOML files (wasmbuild.toml, Cargo.toml), read with the standard library's tomllib (tomli before 3.11).

One reader, so every TOML file a user wrote fails the same way: `NAME: not UTF-8 text` or
`NAME: not valid TOML: ...` with a hint to fix it, or the file's own not-found or permission error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wasmbuild.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load(path: Path) -> dict[str, Any]:
    """The parsed file; ConfigError for text that is not UTF-8 or not TOML, and the errors of
    wasmbuild.files.read_bytes when it cannot be read (missing, a directory, no permission)."""
    from wasmbuild.files import read_bytes

    raw = read_bytes(path)
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path.name}: not UTF-8 text (byte {error.start})", f"fix {path}; TOML is UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path.name}: not valid TOML: {error}", f"fix the syntax of {path}") from None
    return data
