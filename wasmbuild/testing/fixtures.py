"""pytest fixtures for a project's conftest.py (pytest is imported only when they are made)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from wasmbuild.testing.filter import Filter, load_filter


def filter_fixture(module: str | Path | bytes | None = None, *, scope: str = "function",
                   **options: Any) -> Any:
    """A pytest fixture that loads the filter for each test and shuts it down afterwards.

    In a conftest.py: ``add_header = filter_fixture(plugin_config={...})``; tests then take an
    ``add_header`` argument. `options` are those of :func:`load_filter`.
    """
    import pytest

    def fixture() -> Iterator[Filter]:
        loaded = load_filter(module, **options)
        yield loaded
        if loaded.vm.failed is None:
            loaded.close()

    return pytest.fixture(scope=scope)(fixture)  # type: ignore[call-overload]


def filter_factory(module: str | Path | bytes | None = None, *, scope: str = "function", **defaults: Any) -> Any:
    """A pytest fixture giving a ``load(**overrides) -> Filter`` function, for tests that need
    several configurations; every filter it loaded is shut down after the test.

    ``load_add_header = filter_factory()`` then ``f = load_add_header(plugin_config="{}")``.
    """
    import pytest

    def fixture() -> Iterator[Callable[..., Filter]]:
        loaded: list[Filter] = []

        def load(**overrides: Any) -> Filter:
            target = overrides.pop("module", module)
            filt = load_filter(target, **{**defaults, **overrides})
            loaded.append(filt)
            return filt

        yield load
        for filt in loaded:
            if filt.vm.failed is None:
                filt.close()

    return pytest.fixture(scope=scope)(fixture)  # type: ignore[call-overload]
