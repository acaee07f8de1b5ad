"""`wasmbuild inspect`: the reviewer's view, as text and JSON, from a real process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.common import run_cli
from tests.fixtures.wasm import filter_module, wat, with_custom

PRODUCERS = b"\x02\x08language\x01\x04Rust\x00\x0cprocessed-by\x01\x05rustc\x061.63.0"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_text_view_shows_what_a_reviewer_needs(tmp_path: Path) -> None:
    module = with_custom(with_custom(filter_module("0.2.0", wasi="wasi_unstable"), "producers", PRODUCERS),
                         ".debug_info", b"\x00" * 2000)
    path = write(tmp_path, "f.wasm", module)
    result = run_cli("inspect", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"module:    {path}: {len(module) / 1024:.1f} KiB, ABI 0.2.0 (proxy_abi_version_0_2_0)" in out
    assert "check:     ok\n" in out
    assert "producers: language Rust; processed-by rustc 1.63.0" in out
    assert "memory:    exported as 'memory': 2 pages (128.0 KiB) initial, no maximum" in out
    assert "allocator: malloc" in out and "entry:     _initialize" in out
    assert "callbacks: 8: proxy_on_context_create, " in out
    assert "imports:   env (9): proxy_log, " in out
    assert "           wasi_unstable (5): fd_write, clock_time_get, random_get, environ_sizes_get, proc_exit" in out
    assert "sections:  type " in out and "custom:.debug_info 2.0 KiB" in out
    assert "debug:     name section: no; debug info: .debug_info" in out


def test_json_view(tmp_path: Path) -> None:
    module = wat("""(module $named
      (import "env" "memory" (memory 1 4))
      (func $marker (export "proxy_abi_version_0_1_0"))
      (func $alloc (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0))
      (export "memory" (memory 0)))""")
    path = write(tmp_path, "m.wasm", module)
    result = run_cli("inspect", "--format", "json", str(path))
    assert result.returncode == 0
    view = json.loads(result.stdout)
    assert view["abi"] == "0.1.0" and view["marker"] == "proxy_abi_version_0_1_0"
    assert view["allocators"] == ["proxy_on_memory_allocate"]
    assert view["memories"] == [{"index": 0, "exported_as": ["memory"], "imported_from": "env.memory",
                                 "min_pages": 1, "max_pages": 4, "min_bytes": 65536, "max_bytes": 262144,
                                 "shared": False, "memory64": False}]
    assert view["imports"] == {"env": [{"name": "memory", "kind": "memory", "type": "min 1, max 4"}]}
    assert view["name_section"] is True
    assert view["ok"] is True  # warnings only
    assert {"no-callbacks", "imported-memory", "no-entry-point"} <= set(view["codes"])
    assert {s["name"] for s in view["sections"]} >= {"type", "import", "export", "code", "custom:name"}


def test_a_failing_module_is_still_shown_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.wasm", filter_module(allocator=None))
    result = run_cli("inspect", str(path))
    assert result.returncode == 0
    assert "check:     FAILS, 1 error (missing-allocator); run 'wasmbuild check' for details" in result.stdout
    assert "allocator: none" in result.stdout


def test_a_truncated_module_shows_what_came_before_the_damage_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.wasm", filter_module()[:-3])
    result = run_cli("inspect", str(path))
    assert result.returncode == 1
    assert "error:     the code section claims" in result.stdout
    assert "imports:   env (9)" in result.stdout


def test_not_wasm_and_missing_files_are_one_line_errors(tmp_path: Path) -> None:
    junk = write(tmp_path, "junk.wasm", b"(module)")
    result = run_cli("inspect", str(junk))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {junk}: not a WebAssembly module: this is WebAssembly text")
    missing = run_cli("inspect", str(tmp_path / "missing.wasm"))
    assert missing.returncode == 3 and "no such file" in missing.stderr
    assert "Traceback" not in result.stderr + missing.stderr


def test_a_directory_is_one_error_and_one_hint(tmp_path: Path) -> None:
    result = run_cli("inspect", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path} is a directory\nhint: give the path of a .wasm file\n"


def test_dash_reads_the_module_from_stdin(tmp_path: Path) -> None:
    module = write(tmp_path, "f.wasm", filter_module("0.2.1"))
    result = run_cli("inspect", "-", stdin=module)
    assert result.returncode == 0, result.stderr
    assert "module:    <stdin>: " in result.stdout and "ABI 0.2.1" in result.stdout
    empty = run_cli("inspect", "-", input="")
    assert empty.returncode == 1 and "error: <stdin>: not a WebAssembly module: the file is empty" in empty.stderr
    cut = run_cli("inspect", "-", stdin=write(tmp_path, "cut.wasm", b"\0asm\x01\0\0\0\x00\x80"))
    assert cut.returncode == 1 and "sections:  none\n" in cut.stdout  # damaged in its first section header
