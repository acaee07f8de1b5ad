"""The ABI checks V1..V16, one module per finding code, written as WAT and compiled by wasmtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import wasmbuild
from tests.fixtures.wasm import VERSION_IMPORTS, filter_module, filter_wat, section_headers, wat, with_custom
from wasmbuild.abi import CODES, check
from wasmbuild.errors import UsageError

ABIS = ("0.1.0", "0.2.0", "0.2.1")


def codes(report: wasmbuild.abi.Report) -> list[str]:
    return [f.code for f in report.findings]


def only(report: wasmbuild.abi.Report, code: str) -> wasmbuild.abi.Finding:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, report.findings
    return found[0]


# ------------------------------------------------------------------ valid modules


@pytest.mark.parametrize("abi", ABIS)
@pytest.mark.parametrize("allocator", ["malloc", "proxy_on_memory_allocate"])
@pytest.mark.parametrize("wasi", [None, "wasi_snapshot_preview1", "wasi_unstable"])
def test_a_filter_of_every_abi_version_allocator_and_wasi_flavour_passes(abi: str, allocator: str,
                                                                          wasi: str | None) -> None:
    report = check(filter_module(abi, allocator=allocator, wasi=wasi))
    assert report.ok
    assert report.abi == abi
    assert report.findings == ()


def test_the_top_level_api_is_the_same_function() -> None:
    assert wasmbuild.check is check


def test_check_accepts_paths_strings_and_every_bytes_flavour(tmp_path: Path) -> None:
    module = filter_module()
    path = tmp_path / "filter.wasm"
    path.write_bytes(module)
    for source in (path, str(path), module, bytearray(module), memoryview(module)):
        report = check(source)
        assert report.ok and report.abi == "0.2.1"
    assert check(path).path == str(path)
    assert check(module).path == "<memory>"


def test_host_extras_and_a_whole_wasi_set_are_accepted() -> None:
    extra = """
  (import "env" "emscripten_notify_memory_growth" (func (param i32)))
  (import "env" "pthread_equal" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))"""
    extra_exports = """
  (func (export "proxy_validate_configuration") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_metadata") (param i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_foreign_function") (param i32 i32 i32))
  (func (export "__main_void") (result i32) (i32.const 0))
  (func (export "main") (param i32 i32) (result i32) (i32.const 0))"""
    report = check(filter_module("0.2.1", extra_imports=extra, extra_exports=extra_exports))
    assert report.findings == ()


# ------------------------------------------------------------------ one module per code


def _cases() -> dict[str, Callable[[], bytes | str]]:
    """A module (or path) producing each finding code."""
    return {
        "unreadable": lambda: "/nonexistent/filter.wasm",
        "not-wasm": lambda: b"\x7fELF\x02\x01\x01\x00" + bytes(56),
        "malformed": lambda: filter_module()[:-3],
        "invalid-module": lambda: filter_module(extra="(func (result i32))"),
        "missing-abi-marker": lambda: filter_module(None),
        "unknown-abi-marker": lambda: filter_module(None, marker="proxy_abi_version_0_x_x"),
        "multiple-abi-markers": lambda: filter_module(extra_exports='(func (export "proxy_abi_version_0_2_0"))'),
        "abi-mismatch": lambda: filter_module("0.2.0"),
        "missing-memory": lambda: filter_module(memory=None),
        "memory-name": lambda: filter_module(memory="mem"),
        "memory-too-large": lambda: filter_module(memory=None, extra='(memory (export "memory") 20000)'),
        "missing-allocator": lambda: filter_module(allocator=None),
        "signature-mismatch": lambda: filter_module(extra_exports='(func (export "proxy_on_tick") (param i64))'),
        "unknown-import": lambda: filter_module(extra_imports='(import "env" "abort" (func (param i32 i32 i32 i32)))'),
        "import-type-mismatch": lambda: filter_module(
            imports='(import "env" "proxy_log" (func (param i32 i32) (result i32)))'),
        "import-version-mismatch": lambda: filter_module(
            "0.2.0", imports='(import "env" "proxy_get_log_level" (func (param i32) (result i32)))'),
        "envoy-only-import": lambda: filter_module(
            extra_imports='(import "env" "envoy_resolve_dns" (func (param i32 i32 i32) (result i32)))'),
        "imported-global": lambda: filter_module(extra_imports='(import "env" "__stack_pointer" (global (mut i32)))'),
        "imported-memory": lambda: filter_module(memory=None, extra_imports='(import "env" "memory" (memory 2))',
                                                 extra='(export "memory" (memory 0))'),
        "imported-table": lambda: filter_module(extra_imports='(import "env" "table" (table 1 funcref))'),
        "unknown-callback": lambda: filter_module(
            extra_exports='(func (export "proxy_on_grpc_trailing_metadata") (param i32 i32 i32))'),
        "no-callbacks": lambda: filter_module(callbacks=False),
        "no-entry-point": lambda: filter_module(entry=None),
        "precompiled-section": lambda: with_custom(filter_module(), "precompiled_v8_x86_64", b"\x00" * 16),
        "signature-section": lambda: with_custom(filter_module(), "signature", b"\x01" * 64, first=True),
    }


CASES = _cases()


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_code_is_reported_with_its_severity_and_an_actionable_message(code: str) -> None:
    source = CASES[code]()
    report = check(source, abi="0.2.1" if code == "abi-mismatch" else None, strict=code == "invalid-module")
    finding = only(report, code)
    assert finding.severity == CODES[code][0]
    assert report.ok is (finding.severity != "error" and not report.errors)
    if finding.severity == "error":
        if code != "unreadable":
            assert "Envoy" in finding.message, finding.message
        assert "Fix:" in finding.message, finding.message


def test_error_codes_make_the_report_fail_and_others_do_not() -> None:
    assert not check(filter_module(allocator=None)).ok
    warned = check(filter_module(memory="mem"))
    assert warned.ok and warned.warnings


# ------------------------------------------------------------------ V1: not wasm / malformed / unreadable


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"(module (func))", "WebAssembly text"),
    (b"\x1f\x8b\x08\x00" + bytes(20), "gzip"),
    (b"\0asm\x0d\x00\x01\x00", "component"),
    (b"\0asm\x02\x00\x00\x00", "version 2"),
    (b"{\"not\": \"wasm\"}", "JSON"),
    (b"<!DOCTYPE html><html>", "HTML"),
    (b"just some text file\n", "magic"),
])
def test_non_wasm_files_say_what_they_look_like(content: bytes, words: str) -> None:
    finding = only(check(content), "not-wasm")
    assert words in finding.message


@pytest.mark.parametrize("length", [1, 3, 4, 7])
def test_a_file_cut_inside_the_header_is_malformed(length: int) -> None:
    report = check(filter_module()[:length])
    assert codes(report) == ["malformed"]
    assert "header" in report.findings[0].message


def test_every_truncation_of_a_valid_module_is_a_finding() -> None:
    module = filter_module(wasi="wasi_snapshot_preview1")
    # cut at a section boundary, a module is well-formed but lacks what the later sections held
    boundaries = {payload + size for _header, _sid, payload, size in section_headers(module)}
    for end in range(9, len(module)):
        report = check(module[:end])
        assert not report.ok, end
        if end not in boundaries:
            assert codes(report) == ["malformed"], (end, report.findings)


def test_unreadable_files(tmp_path: Path) -> None:
    assert "no such file" in only(check(tmp_path / "missing.wasm"), "unreadable").message
    assert "directory" in only(check(tmp_path), "unreadable").message


def test_a_pipe_is_read_whole(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "fifo.wasm"
    os.mkfifo(fifo)
    module = filter_module()

    def feed() -> None:
        with open(fifo, "wb") as stream:
            stream.write(module)

    writer = threading.Thread(target=feed)
    writer.start()
    report = check(fifo, strict=True)  # --strict validates the bytes read from the pipe, not a re-read
    writer.join()
    assert report.ok and report.abi == "0.2.1" and report.findings == ()


def test_an_endless_device_is_a_finding_not_a_hang() -> None:
    finding = only(check("/dev/zero"), "unreadable")
    assert "more than 256 MiB" in finding.message


@pytest.mark.parametrize("mangle, words", [
    (lambda m: m + b"\x0e\x00", "unknown section id 14"),
    (lambda m: m + b"\x04\x01\x00", "out of order"),
    (lambda m: m + b"\x01\x01\x00", "duplicate type section"),
    (lambda m: m + b"\x00\x03\x05ab", "runs past"),
    (lambda m: m + b"\x00\x05\x03ab", "truncated"),
    (lambda m: m + b"\x00\x06\x05\xff\xfe\xfd\xfc\xfb", "UTF-8"),
    (lambda m: m + b"\x00\x86\x80\x80\x80\x80\x00", "section header"),
    (lambda m: m + b"\x0b\xff\xff\xff\xff\x0f", "truncated"),
])
def test_structural_damage_is_named(mangle: Callable[[bytes], bytes], words: str) -> None:
    finding = only(check(mangle(filter_module())), "malformed")
    assert words in finding.message


def test_function_and_code_counts_must_agree() -> None:
    module = wat("(module (func) (func))")
    # drop the code section entirely: two functions are declared, no bodies
    code_at = module.rindex(b"\x0a")
    finding = only(check(module[:code_at]), "malformed")
    assert "no code section" in finding.message


def test_duplicate_export_names_are_malformed() -> None:
    module = bytearray(wat('(module (func (export "aa")) (func (export "ab")))'))
    at = module.index(b"ab")
    module[at + 1] = ord("a")
    assert "duplicate export" in only(check(bytes(module)), "malformed").message


# ------------------------------------------------------------------ V2, V3: markers


def test_missing_marker_quotes_envoy() -> None:
    finding = only(check(filter_module(None)), "missing-abi-marker")
    assert "Missing or unknown Proxy-Wasm ABI version" in finding.message


def test_a_marker_exported_as_a_global_is_not_a_marker() -> None:
    module = filter_module(None, extra='(global (export "proxy_abi_version_0_2_1") i32 (i32.const 0))')
    report = check(module)
    assert report.abi is None
    assert "exported as a global" in only(report, "missing-abi-marker").message


def test_the_vnext_marker_alone_is_an_error_and_beside_a_known_one_a_warning() -> None:
    alone = check(filter_module(None, marker="proxy_abi_version_0_x_x"))
    assert only(alone, "unknown-abi-marker").severity == "error"
    assert "missing-abi-marker" not in codes(alone)
    beside = check(filter_module(extra_exports='(func (export "proxy_abi_version_0_x_x"))'))
    assert only(beside, "unknown-abi-marker").severity == "warning"
    assert beside.ok and beside.abi == "0.2.1"


def test_with_several_markers_the_first_in_export_order_wins() -> None:
    text = filter_wat(None, extra_exports="""
  (func (export "proxy_abi_version_0_1_0"))
  (func (export "proxy_abi_version_0_2_1"))""", imports=VERSION_IMPORTS["0.1.0"])
    report = check(wat(text))
    assert report.abi == "0.1.0"
    finding = only(report, "multiple-abi-markers")
    assert "proxy_abi_version_0_1_0" in finding.message and "ignores proxy_abi_version_0_2_1" in finding.message


@pytest.mark.parametrize("requested", ["0.2.1", "v0.2.1", "auto", None])
def test_requested_abi_matching_the_module(requested: str | None) -> None:
    assert check(filter_module("0.2.1"), abi=requested).findings == ()


def test_requested_abi_differing_from_the_module() -> None:
    finding = only(check(filter_module("0.1.0"), abi="0.2.1"), "abi-mismatch")
    assert "declares ABI 0.1.0" in finding.message and "0.2.1 was asked for" in finding.message


def test_requested_abi_drives_the_checks_when_the_marker_is_missing() -> None:
    report = check(filter_module(None, imports=VERSION_IMPORTS["0.1.0"]), abi="0.2.1")
    assert "import-version-mismatch" in codes(report)
    assert "missing-abi-marker" in codes(report)


def test_an_unknown_requested_abi_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        check(filter_module(), abi="0.3.0")
    assert "0.2.1" in (caught.value.hint or "")


# ------------------------------------------------------------------ V4, V5, V6, V14: imports


def test_assemblyscript_abort_import_explains_the_asc_flag() -> None:
    report = check(filter_module(extra_imports='(import "env" "abort" (func (param i32 i32 i32 i32)))'))
    finding = only(report, "unknown-import")
    assert finding.symbol == "env.abort"
    assert "missing import: env.abort" in finding.message
    assert "abort=abort_proc_exit" in finding.message


@pytest.mark.parametrize("module_name, name, words", [
    ("env", "proxy_logg", "did you mean env.proxy_log"),
    ("env", "__cxa_throw", "undefined symbols"),
    ("wasi_snapshot_preview1", "sock_open", "undefined symbols"),
    ("wasi:io/streams", "read", "env, wasi_snapshot_preview1, wasi_unstable"),
])
def test_unknown_imports(module_name: str, name: str, words: str) -> None:
    imp = f'(import "{module_name}" "{name}" (func (param i32) (result i32)))'
    finding = only(check(filter_module(extra_imports=imp)), "unknown-import")
    assert finding.symbol == f"{module_name}.{name}"
    assert words in finding.message


@pytest.mark.parametrize("imp, want", [
    ('(import "env" "proxy_log" (func (param i32 i32) (result i32)))', "(i32, i32, i32) -> i32"),
    ('(import "env" "proxy_increment_metric" (func (param i32 i32) (result i32)))', "(i32, i64) -> i32"),
    ('(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32)))', "(i32, i32, i32, i32) -> i32"),
    ('(import "wasi_snapshot_preview1" "proc_exit" (func (param i32) (result i32)))', "(i32) -> ()"),
])
def test_import_type_mismatches_show_both_types(imp: str, want: str) -> None:
    finding = only(check(filter_module(imports=imp)), "import-type-mismatch")
    assert f"host provides {want}" in finding.message
    assert "import type mismatch" in finding.message


def test_a_host_function_imported_as_something_else() -> None:
    module = filter_module(imports='(import "env" "proxy_log" (tag (param i32)))')
    assert "as a tag" in only(check(module), "import-type-mismatch").message


@pytest.mark.parametrize("name, params", [("path_link", 7), ("path_symlink", 5)])
def test_wasi_functions_cpp_host_registers_with_the_wrong_arity(name: str, params: int) -> None:
    imp = f'(import "wasi_snapshot_preview1" "{name}" (func (param {" i32" * params}) (result i32)))'
    finding = only(check(filter_module(extra_imports=imp)), "import-type-mismatch")
    assert "WASI's own signature" in finding.message


@pytest.mark.parametrize("abi, imported, exists_in", [
    ("0.2.0", '"proxy_get_log_level" (func (param i32) (result i32))', "0.2.1"),
    ("0.2.1", '"proxy_continue_request" (func (result i32))', "0.1.0"),
    ("0.2.1", '"proxy_get_configuration" (func (param i32 i32) (result i32))', "0.1.0"),
    ("0.2.0", '"proxy_clear_route_cache" (func (result i32))', "0.1.0"),
    ("0.1.0", '"proxy_continue_stream" (func (param i32) (result i32))', "0.2.0, 0.2.1"),
    ("0.1.0", '"proxy_close_stream" (func (param i32) (result i32))', "0.2.0, 0.2.1"),
])
def test_host_functions_of_another_abi_version(abi: str, imported: str, exists_in: str) -> None:
    module = filter_module(abi, imports=f'(import "env" {imported})')
    finding = only(check(module), "import-version-mismatch")
    assert f"exists only in ABI {exists_in}" in finding.message
    assert f"declares ABI {abi}" in finding.message


def test_imported_globals_memories_and_tables() -> None:
    report = check(filter_module(memory=None, extra_imports="""
  (import "env" "__memory_base" (global i32))
  (import "env" "memory" (memory 1 10))
  (import "env" "__indirect_function_table" (table 0 funcref))""", extra='(export "memory" (memory 0))'))
    assert only(report, "imported-global").symbol == "env.__memory_base"
    assert only(report, "imported-memory").severity == "warning"
    assert only(report, "imported-table").severity == "warning"
    assert "missing-memory" not in codes(report)


# ------------------------------------------------------------------ V7, V8: memory and allocator


def test_memory_defined_but_not_exported() -> None:
    assert "does not export it" in only(check(filter_module(memory=None)), "missing-memory").message


def test_no_memory_at_all() -> None:
    text = filter_wat().replace('  (memory (export "memory") 2)', "")
    assert "has no memory" in only(check(wat(text)), "missing-memory").message


def test_missing_allocator_quotes_envoy() -> None:
    finding = only(check(filter_module(allocator=None)), "missing-allocator")
    assert "Wasm module is missing malloc function." in finding.message


@pytest.mark.parametrize("allocator", ["malloc", "proxy_on_memory_allocate"])
def test_an_allocator_of_the_wrong_type(allocator: str) -> None:
    module = filter_module(allocator=None, extra_exports=f'(func (export "{allocator}") (param i64) (result i64) '
                                                         "(i64.const 0))")
    report = check(module)
    finding = only(report, "signature-mismatch")
    assert finding.symbol == allocator
    assert "want: (i32) -> i32" in finding.message
    assert "missing-allocator" not in codes(report)


def test_an_allocator_exported_as_a_global() -> None:
    module = filter_module(allocator=None, extra='(global (export "malloc") i32 (i32.const 0))')
    assert "exported as a global" in only(check(module), "signature-mismatch").message


# ------------------------------------------------------------------ V9, V10, V13, V16: exports


@pytest.mark.parametrize("abi, params", [("0.1.0", 3), ("0.2.0", 2), ("0.2.1", 2)])
def test_headers_callbacks_must_have_the_arity_of_the_declared_abi(abi: str, params: int) -> None:
    text = filter_wat(abi).replace(
        '(func (export "proxy_on_request_headers") ' + ("(param i32 i32)" if abi == "0.1.0" else "(param i32 i32 i32)"),
        '(func (export "proxy_on_request_headers") (param' + " i32" * params + ")")
    finding = only(check(wat(text)), "signature-mismatch")
    assert finding.symbol == "proxy_on_request_headers"
    assert "Bad function signature for: proxy_on_request_headers" in finding.message
    assert "is the ABI" in finding.message  # names the version whose signature it is


@pytest.mark.parametrize("symbol, make", [
    ("_initialize", lambda: filter_module(entry=None, extra_exports='(func (export "_initialize") (param i32))')),
    ("_start", lambda: filter_module(entry=None, extra_exports='(func (export "_start") (result i32) (i32.const 0))')),
    ("main", lambda: filter_module(extra_exports='(func (export "main") (result i32) (i32.const 0))')),
    ("proxy_validate_configuration", lambda: filter_module(
        extra_exports='(func (export "proxy_validate_configuration") (param i32) (result i32) (i32.const 0))')),
    ("proxy_on_configure", lambda: wat(filter_wat().replace(
        '(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))',
        '(func (export "proxy_on_configure") (param i32 i32))'))),
    ("proxy_on_tick", lambda: filter_module(extra='(global (export "proxy_on_tick") i32 (i32.const 0))')),
])
def test_exports_the_host_looks_up_are_type_checked(symbol: str, make: Callable[[], bytes]) -> None:
    assert only(check(make()), "signature-mismatch").symbol == symbol


def test_unknown_callbacks_suggest_the_right_name() -> None:
    module = filter_module(extra_exports='(func (export "proxy_on_grpc_trailing_metadata") (param i32 i32 i32))')
    finding = only(check(module), "unknown-callback")
    assert "did you mean proxy_on_grpc_receive_trailing_metadata" in finding.message


def test_a_callback_of_a_later_abi_version() -> None:
    module = filter_module("0.1.0", extra_exports='(func (export "proxy_on_foreign_function") (param i32 i32 i32))')
    finding = only(check(module), "unknown-callback")
    assert "exists only in ABI 0.2.0, 0.2.1" in finding.message


def test_a_module_with_only_a_tick_callback_handles_no_traffic() -> None:
    module = filter_module(callbacks=False, extra_exports='(func (export "proxy_on_tick") (param i32))')
    finding = only(check(module), "no-callbacks")
    assert finding.symbol == "proxy_on_context_create"


# ------------------------------------------------------------------ V15: custom sections


def test_a_signature_section_that_is_not_first_says_so() -> None:
    module = with_custom(filter_module(), "signature", b"\x01" * 8)
    assert "not the first section" in only(check(module), "signature-section").message


def test_unrelated_custom_sections_are_fine() -> None:
    module = with_custom(with_custom(filter_module(), "producers", b"\x00"), ".debug_info", b"\x00" * 100)
    assert check(module).findings == ()


# ------------------------------------------------------------------ --strict


def test_strict_validates_function_bodies_and_accepts_good_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.wasm"
    good.write_bytes(filter_module())
    assert check(good, strict=True).findings == ()
    bad = filter_module(extra="(func (result i32))")
    assert check(bad).ok  # the fast path does not read code bodies
    finding = only(check(bad, strict=True), "invalid-module")
    assert "wasmtime rejects the module" in finding.message
