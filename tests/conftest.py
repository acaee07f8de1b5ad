"""Shared pytest set-up. Fixtures live in tests/fixtures/ by subject, one module each."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.docker",
    "tests.fixtures.cpp_sdk",
]
