"""`wasmbuild new --lang rust` for both SDK choices gives a Cargo.toml cargo can read and the
right logging imports (the upstream choice is never built here: it needs crates.io; the golden
tests hold both whole trees)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.fixtures.rust_sdk import new_rust_project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


def test_bundled_project_uses_the_vendored_sdk(tmp_path: Path) -> None:
    project = new_rust_project(tmp_path / "p", name="my-filter", root_id="my_root")
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


def test_upstream_project_uses_crates_io(tmp_path: Path) -> None:
    project = new_rust_project(tmp_path / "p", sdk="upstream")
    manifest = tomllib.loads((project / "Cargo.toml").read_text())
    assert manifest["dependencies"] == {"proxy-wasm": "0.2", "log": "0.4"}
    assert "rust-version" not in manifest["package"]
    assert not (project / "third_party").exists()
    lib = (project / "src" / "lib.rs").read_text()
    assert "use log::{debug, info, warn};" in lib and "use proxy_wasm::{" not in lib
