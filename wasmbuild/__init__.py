"""wasmbuild: scaffold, build, check, run, package and deploy proxy-wasm filters.

The top-level names are loaded lazily so that `import wasmbuild` (and the CLI's
`--help`) stays close to bare interpreter start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "check"]

if TYPE_CHECKING:  # pragma: no cover
    from wasmbuild.abi import check as check


def __getattr__(name: str) -> Any:
    if name == "check":
        from wasmbuild.abi import check

        return check
    raise AttributeError(f"module 'wasmbuild' has no attribute {name!r}")
