"""The `wasmbuild check` contract as a user meets it: a real process, exit codes 0/1/2, text and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.common import REPO, run_cli
from tests.fixtures.wasm import filter_module


@pytest.fixture
def modules(tmp_path: Path) -> dict[str, Path]:
    files = {
        "good": filter_module("0.2.1"),
        "old": filter_module("0.1.0"),
        "noalloc": filter_module(allocator=None),
        "warn": filter_module(memory="mem"),
        "junk": b"this is not wasm",
        "bad-body": filter_module(extra="(func (result i32))"),
    }
    out = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.wasm"
        path.write_bytes(data)
        out[name] = path
    return out


def test_good_modules_exit_0_with_an_ok_line_each(modules: dict[str, Path]) -> None:
    result = run_cli("check", str(modules["good"]), str(modules["old"]))
    assert result.returncode == 0, result.stderr
    assert f"{modules['good']}: ok (ABI 0.2.1)" in result.stdout
    assert f"{modules['old']}: ok (ABI 0.1.0)" in result.stdout
    assert result.stdout.splitlines()[-1] == "checked 2 files: all passed (0 errors, 0 warnings, 0 info)"
    assert result.stderr == ""


def test_an_error_in_any_file_exits_1_and_every_file_is_reported(modules: dict[str, Path]) -> None:
    result = run_cli("check", str(modules["noalloc"]), str(modules["good"]), str(modules["junk"]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{modules['noalloc']}: error [missing-allocator] malloc: exports neither")
               for line in lines)
    assert any(line.startswith(f"{modules['junk']}: error [not-wasm] not a WebAssembly module") for line in lines)
    assert f"{modules['good']}: ok (ABI 0.2.1)" in lines
    assert lines[-1].startswith("checked 3 files: 2 failed (2 errors")
    assert "Traceback" not in result.stderr


def test_warnings_alone_exit_0(modules: dict[str, Path]) -> None:
    result = run_cli("check", str(modules["warn"]))
    assert result.returncode == 0
    assert f"{modules['warn']}: warning [memory-name] mem: " in result.stdout


def test_json_output_is_one_list_with_the_agreed_keys(modules: dict[str, Path]) -> None:
    result = run_cli("check", "--format", "json", str(modules["good"]), str(modules["noalloc"]),
                     str(modules["junk"]), str(modules["good"].parent / "missing.wasm"))
    assert result.returncode == 1
    reports = json.loads(result.stdout)
    assert isinstance(reports, list) and len(reports) == 4
    for report in reports:
        assert set(report) == {"path", "abi", "ok", "findings"}
        for finding in report["findings"]:
            assert set(finding) == {"code", "severity", "symbol", "message"}
    good, noalloc, junk, missing = reports
    assert (good["path"], good["abi"], good["ok"], good["findings"]) == (str(modules["good"]), "0.2.1", True, [])
    assert noalloc["ok"] is False and noalloc["abi"] == "0.2.1"
    assert {"code": "missing-allocator", "severity": "error", "symbol": "malloc"}.items() <= \
        noalloc["findings"][0].items()
    assert junk["abi"] is None and junk["findings"][0]["code"] == "not-wasm"
    assert missing["findings"][0]["code"] == "unreadable"


def test_abi_option(modules: dict[str, Path]) -> None:
    assert run_cli("check", "--abi", "0.2.1", str(modules["good"])).returncode == 0
    result = run_cli("check", "--abi", "0.2.1", str(modules["old"]))
    assert result.returncode == 1
    assert "[abi-mismatch]" in result.stdout


@pytest.mark.parametrize("args", [
    ("check",),
    ("check", "--abi", "0.3.0", "x.wasm"),
    ("check", "--format", "yaml", "x.wasm"),
    ("check", "--bogus", "x.wasm"),
])
def test_usage_errors_exit_2_with_one_error_line(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_strict_finds_invalid_function_bodies(modules: dict[str, Path]) -> None:
    assert run_cli("check", str(modules["bad-body"])).returncode == 0
    result = run_cli("check", "--strict", str(modules["bad-body"]), str(modules["good"]))
    assert result.returncode == 1
    assert f"{modules['bad-body']}: error [invalid-module] wasmtime rejects the module" in result.stdout


def test_check_imports_no_heavy_module(modules: dict[str, Path]) -> None:
    code = (
        "import sys, io; from wasmbuild.cli import main\n"
        "sys.stdout = io.StringIO()\n"
        f"rc = main(['check', {str(modules['good'])!r}])\n"
        "heavy = [m for m in ('wasmtime', 'pydantic', 'docker', 'jinja2', 'tqdm', 'dataclasses', 'typing',\n"
        "                    'pathlib', 'shutil') if m in sys.modules]\n"
        "sys.stdout = sys.__stdout__\n"
        "print(rc, 'HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "0 HEAVY="


def test_dash_checks_a_module_from_stdin(modules: dict[str, Path]) -> None:
    result = run_cli("check", "-", str(modules["old"]), stdin=modules["good"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("<stdin>: ok (ABI 0.2.1)\n")
    report = json.loads(run_cli("check", "--format", "json", "-", input="junk").stdout)
    assert report[0]["path"] == "<stdin>" and report[0]["findings"][0]["code"] == "not-wasm"
    twice = run_cli("check", "-", "-", input="")
    assert twice.returncode == 2 and "more than once" in twice.stderr
