"""wasmbuild list / tag / rm / package, run as a user runs them, against an isolated store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.fixtures.common import run_cli
from wasmbuild.store import Store

MODULE_WAT = """
(module
  (memory (export "memory") 1)
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) i32.const 0)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) i32.const 0))
"""


@pytest.fixture
def module_file(tmp_path: Path) -> Path:
    import wasmtime

    path = tmp_path / "filter.wasm"
    path.write_bytes(wasmtime.wat2wasm(MODULE_WAT))
    return path


def test_package_then_list_shows_wasme_columns(module_file: Path) -> None:
    result = run_cli("package", str(module_file), "-t", "localhost:5000/filters/add-header:v1")
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(module_file.read_bytes()).hexdigest()
    assert f"sha256:{digest}" in result.stdout and "ABI 0.2.1" in result.stdout
    listing = run_cli("list")
    assert listing.returncode == 0
    header, row = listing.stdout.splitlines()
    assert header.split() == ["NAME", "TAG", "SIZE", "SHA", "UPDATED"]
    assert row.split()[:5] == ["localhost:5000/filters/add-header", "v1", f"{module_file.stat().st_size}", "B",
                               digest[:8]]
    assert row.endswith("just now")


def test_list_json_has_full_digests_and_the_runtime_config(module_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "runtime-config.json"
    config.write_text(json.dumps({"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["r"]}}))
    assert run_cli("package", str(module_file), "-t", "f:1", "--runtime-config", str(config)).returncode == 0
    (entry,) = json.loads(run_cli("list", "--json").stdout)
    assert entry["ref"] == "f:1" and entry["name"] == "f" and entry["tag"] == "1"
    assert entry["digest"] == "sha256:" + hashlib.sha256(module_file.read_bytes()).hexdigest()
    assert entry["runtime_config"]["config"]["rootIds"] == ["r"]


def test_an_empty_store_lists_only_the_header() -> None:
    result = run_cli("list")
    assert result.returncode == 0 and result.stdout.split() == ["NAME", "TAG", "SIZE", "SHA", "UPDATED"]


def test_tag_and_rm(module_file: Path) -> None:
    assert run_cli("package", str(module_file), "-t", "a:1", "--root-id", "root").returncode == 0
    tagged = run_cli("tag", "a:1", "localhost:5000/b:2")
    assert tagged.returncode == 0 and tagged.stdout.startswith("localhost:5000/b:2 sha256:")
    store = Store()
    assert store.get("a:1").digest == store.get("localhost:5000/b:2").digest
    assert store.get("localhost:5000/b:2").runtime_config["config"]["rootIds"] == ["root"]
    removed = run_cli("rm", "a:1")
    assert removed.returncode == 0 and removed.stdout.strip() == "removed a:1"
    assert [e.ref for e in store.entries()] == ["localhost:5000/b:2"]


def test_rm_of_a_missing_ref_exits_3_and_removes_the_others(module_file: Path) -> None:
    assert run_cli("package", str(module_file), "-t", "a:1").returncode == 0
    result = run_cli("rm", "a:1", "nothere:1")
    assert result.returncode == 3
    assert "nothere:1" in result.stderr and "Traceback" not in result.stderr
    assert Store().entries() == []


def test_tag_of_a_missing_source_exits_3() -> None:
    result = run_cli("tag", "nothere:1", "x:1")
    assert result.returncode == 3 and "not in the local store" in result.stderr


@pytest.mark.parametrize("command", [("tag", "a:1", "Not A Ref"), ("rm", "no spaces:x"),
                                     ("package", "x.wasm", "-t", "bad ref")])
def test_invalid_refs_are_usage_errors(command: tuple[str, ...]) -> None:
    result = run_cli(*command)
    assert result.returncode == 2
    assert "invalid image reference" in result.stderr and "Traceback" not in result.stderr


def test_package_refuses_a_module_with_error_findings(tmp_path: Path) -> None:
    import wasmtime

    no_marker = tmp_path / "no-marker.wasm"
    no_marker.write_bytes(wasmtime.wat2wasm('(module (memory (export "memory") 1))'))
    result = run_cli("package", str(no_marker), "-t", "x:1")
    assert result.returncode == 4
    assert "missing-abi-marker" in result.stderr
    assert "fix the module's exports/imports" in result.stderr
    not_wasm = tmp_path / "text.wasm"
    not_wasm.write_text("hello")
    refused = run_cli("package", str(not_wasm), "-t", "x:1")
    assert refused.returncode == 4 and "not-wasm" in refused.stderr
    assert "hint: give a compiled .wasm module" in refused.stderr  # not advice about its exports
    assert Store().entries() == []


def test_package_of_a_missing_file_exits_3(tmp_path: Path) -> None:
    result = run_cli("package", str(tmp_path / "nope.wasm"), "-t", "x:1")
    assert result.returncode == 3 and "no such file" in result.stderr


@pytest.mark.parametrize("content, code, words", [
    (None, 2, "is a directory"),  # --runtime-config pointing at a directory
    (b"\xff\xfe{}", 2, "not UTF-8"),
    (b"[1, 2]", 2, "must be a JSON object"),
    (b"{bad", 2, "not valid JSON"),
])
def test_package_with_a_bad_runtime_config_stores_nothing(module_file: Path, tmp_path: Path, content: bytes | None,
                                                          code: int, words: str) -> None:
    config = tmp_path / "runtime-config.json"
    if content is None:
        config.mkdir()
    else:
        config.write_bytes(content)
    result = run_cli("package", str(module_file), "-t", "x:1", "--runtime-config", str(config))
    assert result.returncode == code, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert Store().entries() == []


def test_damaged_entries_do_not_break_list_and_rm_removes_them(module_file: Path) -> None:
    for ref in ("good:v1", "nomodule:v1", "baddescriptor:v1", "badref:v1"):
        assert run_cli("package", str(module_file), "-t", ref).returncode == 0
    store = Store()
    entries = {e.ref: e.directory for e in store.entries()}
    (entries["nomodule:v1"] / "filter.wasm").unlink()
    (entries["baddescriptor:v1"] / "descriptor.json").write_text("{}")
    (entries["badref:v1"] / "image_ref").write_text("NOT A REF!\n")
    result = run_cli("list")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["NAME", "good"]
    assert "damaged store entry nomodule:v1" in result.stderr and "'wasmbuild rm nomodule:v1'" in result.stderr
    assert "damaged store entry baddescriptor:v1" in result.stderr
    assert f"damaged store entry {entries['badref:v1']}" in result.stderr
    assert [row["ref"] for row in json.loads(run_cli("list", "--json").stdout)] == ["good:v1"]
    # using a damaged entry says so; rm removes it (by its reference, even when image_ref is mangled)
    used = run_cli("tag", "nomodule:v1", "other:v1")
    assert used.returncode == 3 and "nomodule:v1 is damaged in the local store" in used.stderr
    removed = run_cli("rm", "nomodule:v1", "baddescriptor:v1", "badref:v1")
    assert removed.returncode == 0, removed.stderr
    after = run_cli("list")
    assert after.stderr == "" and len(after.stdout.splitlines()) == 2


def test_stdout_of_package_tag_and_rm_is_the_documented_one_line_each(module_file: Path) -> None:
    """The README's 'Output for scripts' table: scripts parse these lines."""
    import re

    sha = hashlib.sha256(module_file.read_bytes()).hexdigest()
    packaged = run_cli("package", str(module_file), "-t", "scripted:v1")
    assert re.fullmatch(rf"scripted:v1  \d+(\.\d+)? [kMG]?B  sha256:{sha}  ABI 0\.2\.1\n", packaged.stdout), packaged
    tagged = run_cli("tag", "scripted:v1", "localhost:5000/scripted:v2")
    assert tagged.stdout == f"localhost:5000/scripted:v2 sha256:{sha}\n"
    removed = run_cli("rm", "scripted:v1", "localhost:5000/scripted:v2")
    assert removed.stdout == "removed scripted:v1\nremoved localhost:5000/scripted:v2\n"
    assert all(r.stderr == "" for r in (packaged, tagged, removed))


def test_a_wasmbuild_home_that_is_a_file_is_named_not_an_empty_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("oops\n")
    result = run_cli("list", env={"WASMBUILD_HOME": str(home)})
    assert result.returncode == 2 and result.stdout == ""
    assert f"error: WASMBUILD_HOME={home} is not a directory" in result.stderr


def test_a_store_path_blocked_by_a_file_names_the_path_once_with_a_hint(module_file: Path,
                                                                       wasmbuild_home: Path) -> None:
    (wasmbuild_home / "store").write_text("in the way\n")
    result = run_cli("package", str(module_file), "-t", "x:1")
    assert result.returncode == 8
    store = wasmbuild_home / "store"
    assert f"error: cannot open the store at {store}: File exists\n" in result.stderr  # once, not twice
    assert "hint: a file is in the way: something else exists at that path" in result.stderr
