"""Nothing but findings come out of check(), whatever the bytes: seeded mutations of valid modules
(truncation, flipped bytes, bogus LEB128, huge section sizes, shuffled sections) and hypothesis.

A few thousand cases here; bench/fuzz_stress.py runs the same mutator over 100,000+.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.wasm import filter_module, mutate, with_custom
from wasmbuild.abi import CODES, SEVERITIES, check, read_module, strict
from wasmbuild.abi.reader import read_module_file

CASES = 3000
READER_CODES = {"not-wasm", "malformed"}


@lru_cache(maxsize=1)
def seeds() -> tuple[bytes, ...]:
    """Valid modules of every shape the reader handles: all ABI versions, WASI, tables, globals,
    start, data, custom sections."""
    extra = """
  (table 2 funcref) (elem (i32.const 0) 0)
  (global $g (mut i32) (i32.const 7)) (global (export "g64") i64 (i64.const -1))
  (global f32 (f32.const 1.5)) (global f64 (f64.const 2.5))
  (func $init) (start $init)
  (data (i32.const 1024) "proxy-wasm data segment")"""
    modules = [
        filter_module("0.1.0"),
        filter_module("0.2.0", allocator="proxy_on_memory_allocate", wasi="wasi_unstable"),
        filter_module("0.2.1", wasi="wasi_snapshot_preview1", extra=extra),
        filter_module("0.2.1", memory=None, extra_imports='(import "env" "memory" (memory 1 100))',
                      extra='(export "memory" (memory 0))'),
    ]
    modules.append(with_custom(modules[2], "producers", b"\x01\x08language\x01\x04Rust\x061.63.0"))
    return tuple(modules)


def assert_only_findings(data: bytes) -> None:
    report = check(data)
    for finding in report.findings:
        assert finding.code in CODES, finding
        assert finding.severity in SEVERITIES
        assert isinstance(finding.message, str) and finding.message
    info = read_module(data)
    assert info.size == len(data)


def test_seeds_are_valid() -> None:
    engine = strict.engine()
    for module in seeds():
        wasmtime.Module.validate(engine, module)
        assert check(module).ok


def test_seeded_mutations_produce_only_findings_and_no_false_malformed(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    engine = strict.engine()  # the wasm features proxy-wasm hosts enable (no GC types, no exceptions)
    path = tmp_path / "mutant.wasm"
    wasmtime_valid = 0
    for case in range(CASES):
        data = mutate(rng.choice(seeds()), rng)
        assert_only_findings(data)
        # the file reader (os.pread, skipped sections) must agree with the in-memory one
        if case % 10 == 0:
            path.write_bytes(data)
            assert read_module_file(path) == read_module(data)
        # never call a module malformed that wasmtime accepts
        try:
            wasmtime.Module.validate(engine, data)
        except wasmtime.WasmtimeError:
            continue
        wasmtime_valid += 1
        codes = {f.code for f in check(data).findings}
        assert not codes & READER_CODES, (case, check(data).findings)
    assert wasmtime_valid > 0  # some mutations keep the module valid: the comparison means something


def test_strict_mode_on_mutants_produces_only_findings() -> None:
    rng = random.Random(7)
    for _ in range(200):
        data = mutate(rng.choice(seeds()), rng)
        for finding in check(data, strict=True).findings:
            assert finding.code in CODES


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    assert_only_findings(data)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 14), st.binary(max_size=64)), max_size=8))
def test_random_sections_behind_a_valid_header(sections: list[tuple[int, bytes]]) -> None:
    body = b"".join(bytes([sid, len(payload)]) + payload for sid, payload in sections if len(payload) < 128)
    assert_only_findings(b"\0asm\x01\x00\x00\x00" + body)
