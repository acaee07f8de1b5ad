"""The wasm reader's public surface: read_module / read_module_file / detect_abi (the host uses them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.wasm import big_filter_module, filter_module, wat, with_custom
from wasmbuild.abi import FuncType, Limits, detect_abi, read_module, read_module_file


def test_read_module_reports_imports_exports_with_types_and_memories() -> None:
    info = read_module(filter_module("0.2.1", wasi="wasi_unstable"))
    assert info.ok and info.error is None
    log = next(i for i in info.imports if i.name == "proxy_log")
    assert (log.module, log.kind, log.type) == ("env", "func", FuncType(("i32", "i32", "i32"), ("i32",)))
    assert log.symbol == "env.proxy_log"
    assert {i.module for i in info.imports} == {"env", "wasi_unstable"}
    headers = info.export("proxy_on_request_headers")
    assert headers is not None and str(headers.type) == "(i32, i32, i32) -> i32"
    assert info.export("memory") is not None and info.export("memory").kind == "memory"  # type: ignore[union-attr]
    assert info.memories == (Limits(2, None),)
    assert info.export("nope") is None


def test_function_indices_count_imports_first() -> None:
    info = read_module(wat("""(module
      (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
      (func (export "first") (param i64))
      (func (export "second") (result f64) (f64.const 0)))"""))
    assert [(e.name, e.index, str(e.type)) for e in info.exports] == [
        ("first", 1, "(i64) -> ()"), ("second", 2, "() -> f64")]
    assert info.functions == 2


def test_imported_memory_table_and_global_details() -> None:
    info = read_module(wat("""(module
      (import "env" "memory" (memory 1 16))
      (import "env" "t" (table 3 funcref))
      (import "env" "g" (global (mut i64))))"""))
    memory, table, glob = info.imports
    assert memory.limits == Limits(1, 16) and str(memory.limits) == "min 1, max 16"
    assert table.kind == "table" and table.limits == Limits(3, None)
    assert glob.kind == "global" and str(glob.glob) == "mut i64"


def test_sections_are_listed_with_sizes_and_custom_names() -> None:
    module = with_custom(filter_module(), ".debug_info", b"\x00" * 300)
    info = read_module(module)
    labels = [s.label for s in info.sections]
    assert labels[:3] == ["type", "import", "function"]
    assert labels[-1] == "custom:.debug_info"
    assert info.sections[-1].size == len(b"\x0b.debug_info") + 300
    assert sum(s.size for s in info.sections) < len(module)


def test_producers_section_is_parsed() -> None:
    payload = b"\x02" + b"\x08language\x01\x04Rust\x00" + b"\x0cprocessed-by\x01\x05rustc\x061.63.0"
    info = read_module(with_custom(filter_module(), "producers", payload))
    assert info.producers == (("language", "Rust", ""), ("processed-by", "rustc", "1.63.0"))


def test_a_broken_producers_section_does_not_make_the_module_malformed() -> None:
    info = read_module(with_custom(filter_module(), "producers", b"\x05\xff"))
    assert info.ok and info.producers == ()


@pytest.mark.parametrize("abi", ["0.1.0", "0.2.0", "0.2.1"])
def test_detect_abi(abi: str) -> None:
    module = filter_module(abi)
    assert detect_abi(module) == abi
    assert detect_abi(read_module(module)) == abi


def test_detect_abi_of_junk_and_of_a_module_without_marker() -> None:
    assert detect_abi(b"junk") is None
    assert detect_abi(filter_module(None)) is None


def test_the_file_reader_matches_the_memory_reader_and_skips_code(tmp_path: Path) -> None:
    module = big_filter_module(1 << 18)
    path = tmp_path / "big.wasm"
    path.write_bytes(module)
    assert read_module_file(path) == read_module(module)
    code = next(s for s in read_module(module).sections if s.name == "code")
    assert code.size > len(module) // 2  # most of the file is never fetched


def test_errors_keep_what_was_read_before_them() -> None:
    module = filter_module()
    info = read_module(module[:-2])
    assert info.error is not None and info.error.code == "malformed"
    assert info.imports  # the import section came before the damage
    assert not info.ok


def test_read_module_file_raises_oserror_for_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_module_file(tmp_path / "missing.wasm")


def test_records_are_immutable_values() -> None:
    import pickle

    info = read_module(filter_module())
    with pytest.raises(AttributeError):
        info.size = 0  # type: ignore[misc]
    again = read_module(filter_module())
    assert info == again and hash(info) == hash(again)
    assert pickle.loads(pickle.dumps(info)) == info
    assert info._replace(size=1).size == 1 and info.size != 1
    assert "FuncType(params=('i32',), results=('i32',))" in repr(info.export("malloc"))
    assert FuncType(("i32",), ()) != FuncType(("i64",), ())
