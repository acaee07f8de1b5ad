"""The C++ template renders for every SDK source and ABI version, and the SDK's BUILD files list
the SDK's headers (a header missing there breaks Bazel builds only, far from its cause)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures.cpp_sdk import SDK_DIR, TEMPLATE_DIR, VENDORED_SDK, render_cpp_project

UPSTREAM_COMMIT = "fd0be8405db25de0264bdb78fae3a82668c03782"
UPSTREAM_SHA256 = "c57de2425b5c61d7f630c5061e319b4557ae1f1c7526e5a51c33dc1299471b08"


@pytest.mark.parametrize("abi", ["0.1.0", "0.2.0", "0.2.1"])
@pytest.mark.parametrize("sdk", ["bundled", "upstream"])
def test_template_renders(tmp_path: Path, sdk: str, abi: str) -> None:
    project = render_cpp_project(tmp_path / "p", sdk=sdk, abi=abi, root_id="my_root")
    workspace = (project / "WORKSPACE").read_text()
    bazelrc = (project / ".bazelrc").read_text()
    assert 'workspace(name = "add_header")' in workspace
    if sdk == "bundled":
        assert f'path = "{VENDORED_SDK}"' in workspace and "http_archive" not in workspace
        assert (project / VENDORED_SDK / "proxy_wasm_intrinsics.h").is_file()
    else:
        assert UPSTREAM_COMMIT in workspace and f'sha256 = "{UPSTREAM_SHA256}"' in workspace
        assert 'build_file = "//bazel/external:proxy_wasm_cpp_sdk.BUILD"' in workspace
        assert not (project / "third_party").exists()
    define = f"--copt=-DPROXY_WASM_ABI_VERSION_{abi.replace('.', '_')}"
    assert (define in bazelrc) == (abi != "0.2.1")
    assert '"my_root");' in (project / "filter.cc").read_text()
    assert not list(project.rglob("*.jinja"))


def _build_headers(build_file: Path) -> set[str]:
    text = build_file.read_text()
    hdrs = re.search(r"hdrs = \[(.*?)\]", text, re.S)
    assert hdrs, build_file
    return set(re.findall(r'"([^"]+\.h)"', hdrs.group(1)))


def test_sdk_build_files_list_every_header() -> None:
    headers = {p.name for p in SDK_DIR.glob("*.h")}
    assert _build_headers(SDK_DIR / "BUILD") == headers
    # The upstream SDK has the same five headers under the same names.
    assert _build_headers(TEMPLATE_DIR / "bazel" / "external" / "proxy_wasm_cpp_sdk.BUILD") == headers


def test_toolchain_scripts_are_executable() -> None:
    for script in ("wasi_cc.sh", "wasi_ar.sh", "emcc.sh", "emar.sh"):
        assert (TEMPLATE_DIR / "toolchain" / script).stat().st_mode & 0o111, script
