"""The ABI checker on real compiler output: the AssemblyScript template built with both SDKs, and
the same project built the way AssemblyScript users get wrong (without abort=abort_proc_exit).

(The Rust template's modules are checked in test_rust_sdk.py, where they are built.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.common import run_cli
from wasmbuild import check
from wasmbuild.resources import toolchains_dir

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]

EXPECTED_ABI = {"gcore": "0.2.1", "solo-io": "0.2.0"}


def build_assemblyscript(tmp: Path, sdk: str, drop_abort_flag: bool = False) -> Path:
    """`wasmbuild new --lang assemblyscript`, then the plain `npm run asbuild` of its README, offline."""
    npm = shutil.which("npm")
    node_modules = toolchains_dir() / "npm" / sdk / "node_modules"
    if npm is None or not (node_modules / ".bin" / "asc").exists():
        pytest.fail(f"npm or {node_modules} is missing: run scripts/bootstrap-debian")
    project = tmp / f"{sdk}-{'abort' if drop_abort_flag else 'ok'}"
    result = run_cli("new", str(project), "--lang", "assemblyscript", "--sdk", sdk, input="")
    assert result.returncode == 0, result.stderr
    (project / "node_modules").symlink_to(node_modules, target_is_directory=True)
    if drop_abort_flag:
        config_path = project / "asconfig.json"
        config = json.loads(config_path.read_text())
        use = config["options"]["use"]
        config["options"]["use"] = [u for u in use if not u.startswith("abort=")] if isinstance(use, list) else []
        config_path.write_text(json.dumps(config))
    env = dict(os.environ, npm_config_offline="true", npm_config_update_notifier="false")
    build = subprocess.run([npm, "run", "asbuild"], cwd=project, env=env, capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    return project / "build" / "filter.wasm"


@pytest.fixture(scope="module")
def modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("as")
    built = {sdk: build_assemblyscript(tmp, sdk) for sdk in EXPECTED_ABI}
    built["gcore-without-abort-flag"] = build_assemblyscript(tmp, "gcore", drop_abort_flag=True)
    built["solo-io-without-abort-flag"] = build_assemblyscript(tmp, "solo-io", drop_abort_flag=True)
    return built


@pytest.mark.parametrize("sdk", sorted(EXPECTED_ABI))
def test_assemblyscript_sdk_output_passes_and_its_misnamed_callback_is_flagged(modules: dict[str, Path],
                                                                             sdk: str) -> None:
    report = check(modules[sdk], strict=True)
    assert report.ok, report.findings
    assert report.abi == EXPECTED_ABI[sdk]
    assert not report.errors
    # both AssemblyScript SDKs export proxy_on_grpc_trailing_metadata, which no host calls
    misnamed = [f for f in report.findings if f.code == "unknown-callback"]
    assert [f.symbol for f in misnamed] == ["proxy_on_grpc_trailing_metadata"]
    assert "proxy_on_grpc_receive_trailing_metadata" in misnamed[0].message


@pytest.mark.parametrize("sdk", sorted(EXPECTED_ABI))
def test_assemblyscript_without_abort_proc_exit_fails_with_the_fix(modules: dict[str, Path], sdk: str) -> None:
    path = modules[f"{sdk}-without-abort-flag"]
    report = check(path)
    assert not report.ok
    abort = [f for f in report.findings if f.code == "unknown-import"]
    assert [f.symbol for f in abort] == ["env.abort"]
    assert "missing import: env.abort" in abort[0].message and "abort=abort_proc_exit" in abort[0].message
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert f"{path}: error [unknown-import] env.abort:" in result.stdout


def test_inspect_shows_the_real_module(modules: dict[str, Path]) -> None:
    result = run_cli("inspect", "--format", "json", str(modules["gcore"]))
    assert result.returncode == 0
    view = json.loads(result.stdout)
    assert view["abi"] == "0.2.1" and view["allocators"] == ["malloc"] and view["entry_points"] == ["_start"]
    assert "proxy_on_request_headers" in view["callbacks"]
    assert set(view["imports"]) == {"env", "wasi_snapshot_preview1"}
