"""wasmbuild: scaffold, build, check, run, package and deploy proxy-wasm filters.

The top-level names are loaded lazily so that `import wasmbuild` (and the CLI's
`--help`) stays close to bare interpreter start-up.
"""

from __future__ import annotations

# `TYPE_CHECKING = False` rather than `from typing import ...`: importing typing costs ~4 ms of
# every command's start-up, and type checkers treat this name the same way.
TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = ["__version__", "check"]

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from wasmbuild.abi import check as check


def __getattr__(name: str) -> Any:
    if name == "check":
        from wasmbuild.abi import check

        return check
    raise AttributeError(f"module 'wasmbuild' has no attribute {name!r}")
