"""The Rust template renders for both SDK choices (the upstream choice is never built here: it
needs crates.io; the golden tests cover its whole tree)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.fixtures.rust_sdk import render_rust_project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_bundled_project_uses_the_vendored_sdk(tmp_path: Path) -> None:
    project = render_rust_project(tmp_path / "p", name="my-filter", root_id="my_root")
    manifest = tomllib.loads((project / "Cargo.toml").read_text())
    assert manifest["package"]["name"] == "my-filter"
    assert manifest["lib"] == {"name": "my_filter", "path": "src/lib.rs", "crate-type": ["cdylib"]}
    assert manifest["dependencies"] == {"proxy-wasm": {"path": "third_party/proxy-wasm"}}
    assert manifest["profile"]["release"] == {"opt-level": "s", "lto": True, "codegen-units": 1,
                                              "panic": "abort", "strip": True}
    assert (project / "third_party" / "proxy-wasm" / "Cargo.toml").is_file()
    lib = (project / "src" / "lib.rs").read_text()
    assert 'const ROOT_ID: &str = "my_root";' in lib
    assert "use proxy_wasm::{debug, info, warn};" in lib and "proxy_wasm::main! {{" in lib
    assert (project / "src" / "config.rs").is_file()
    assert not any(p.suffix == ".jinja" for p in project.rglob("*"))


def test_abi_0_2_0_selects_the_sdk_feature(tmp_path: Path) -> None:
    project = render_rust_project(tmp_path / "p", abi="0.2.0")
    manifest = tomllib.loads((project / "Cargo.toml").read_text())
    assert manifest["dependencies"]["proxy-wasm"] == {"path": "third_party/proxy-wasm", "features": ["abi-0-2-0"]}


def test_upstream_project_uses_crates_io(tmp_path: Path) -> None:
    project = render_rust_project(tmp_path / "p", sdk="upstream")
    manifest = tomllib.loads((project / "Cargo.toml").read_text())
    assert manifest["dependencies"] == {"proxy-wasm": "0.2", "log": "0.4"}
    assert "rust-version" not in manifest["package"]
    assert not (project / "third_party").exists()
    lib = (project / "src" / "lib.rs").read_text()
    assert "use log::{debug, info, warn};" in lib and "use proxy_wasm::{" not in lib
