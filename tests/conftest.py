"""Shared pytest set-up. Fixtures live in tests/fixtures/ by subject, one module each."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.docker",
    "tests.fixtures.host",
    "tests.fixtures.golden",
    "tests.fixtures.scaffold",
    "tests.fixtures.registry",
    "tests.fixtures.oci",
    "tests.fixtures.deploy",
    "tests.fixtures.rust_sdk",
    "tests.fixtures.cpp_sdk",
    "tests.fixtures.builder",
]
