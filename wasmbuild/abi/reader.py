"""A streaming reader of wasm binaries: it walks the section headers, parses the sections that say
what a module imports and exports, and skips code, data and most custom sections by their size
without reading them (from a file they are never even loaded: `os.pread` fetches only the parts
that are parsed). Nothing here raises for bad input: `read_module` reports the first problem in
`ModuleInfo.error` together with everything parsed before it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from wasmbuild.abi import binary, sections
from wasmbuild.abi.binary import Malformed
from wasmbuild.abi.module import SECTION_NAMES, SECTION_ORDER, ModuleInfo, ReadError, Section
from wasmbuild.abi.sections import State

MAGIC = b"\0asm"
CORE_VERSION = b"\x01\x00\x00\x00"
# sections whose contents we need; every other non-custom section is skipped by size
_PARSED = frozenset({1, 2, 3, 4, 5, 6, 7, 8})
_COUNT_ONLY = frozenset({10, 11, 12, 13})  # only their leading item count is read
_PEEK = 64  # bytes read at the start of a skipped section (its count, a custom section's name)

Fetch = Callable[[int, int], bytes]  # (offset, length) -> at most `length` bytes


def read_module(data: bytes | bytearray | memoryview) -> ModuleInfo:
    """Read a module held in memory."""
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else data

    def fetch(offset: int, length: int) -> bytes:
        return bytes(view[offset:offset + length])

    return _read(fetch, len(view))


def read_module_file(path: str | os.PathLike[str]) -> ModuleInfo:
    """Read a module from a file, loading only the sections that are parsed. Raises OSError."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size

        def fetch(offset: int, length: int) -> bytes:
            return os.pread(fd, length, offset)

        return _read(fetch, size)
    finally:
        os.close(fd)


def _read(fetch: Fetch, size: int) -> ModuleInfo:
    state = State(size)
    try:
        _walk(fetch, size, state)
    except Malformed as problem:
        state.error = ReadError("malformed", problem.message, problem.offset)
    except _NotWasm as problem:
        state.error = ReadError("not-wasm", problem.args[0], 0, problem.args[1])
    except OSError as problem:  # a file that cannot be read past some point
        state.error = ReadError("malformed", f"reading failed: {problem.strerror or problem}", None)
    return state.info()


class _NotWasm(Exception):
    pass


def _sniff(head: bytes) -> tuple[str, str]:
    """Say what a non-wasm file looks like and how to fix that, so the message helps."""
    text = head.lstrip()
    if not head:
        return "the file is empty", "rebuild it; an interrupted build or copy leaves empty files"
    if text.startswith(b"(module") or text.startswith(b";;"):
        return "this is WebAssembly text (.wat), not a binary", "compile it first (wasm-tools parse, wat2wasm)"
    if head.startswith(b"\x1f\x8b"):
        return "this is gzip-compressed", "decompress it first"
    if head.startswith(b"\x7fELF"):
        return "this is a native ELF binary, not WebAssembly", "build for a wasm32 target"
    if head.startswith(b"PK\x03\x04"):
        return "this is a zip archive", "extract the .wasm from it"
    if text.startswith(b"{") or text.startswith(b"["):
        return "this is JSON", "check the file name (a descriptor or config instead of the module?)"
    if text[:5].lower() in (b"<!doc", b"<html"):
        return "this is an HTML page", "the download went wrong: fetch the module again"
    return (f"it does not start with the wasm magic bytes \\0asm (found {head[:4].hex(' ')})",
            "pass a compiled .wasm module")


def _walk(fetch: Fetch, size: int, state: State) -> None:
    head = fetch(0, 8)
    if len(head) < 4 or head[:4] != MAGIC:
        if len(head) < 4 and MAGIC.startswith(head) and head:
            raise Malformed(f"the file ends after {len(head)} bytes, inside the wasm header", 0)
        raise _NotWasm(*_sniff(fetch(0, 64)))
    if len(head) < 8:
        raise Malformed(f"the file ends after {len(head)} bytes, inside the wasm header", len(head))
    version = head[4:8]
    if version != CORE_VERSION:
        if version[2:4] == b"\x01\x00":
            raise _NotWasm("this is a WebAssembly component (component model), not a core module",
                           "proxy-wasm hosts load core modules only: build a core module (e.g. wasm32-wasip1)")
        raise _NotWasm(f"unsupported wasm binary version {int.from_bytes(version, 'little')} (expected 1)",
                       "rebuild it with a toolchain that emits standard wasm")
    pos = 8
    last_rank = -1
    seen: set[int] = set()
    while pos < size:
        header = fetch(pos, 6)
        sid = header[0]
        label = SECTION_NAMES.get(sid)
        if label is None:
            raise Malformed(f"unknown section id {sid}", pos)
        try:
            length, after = binary.u32(header, 1, len(header))
        except Malformed as problem:
            if len(header) < 6:
                raise Malformed("the file ends inside a section header: it is truncated", pos) from None
            raise Malformed(f"{label} section header: {problem.message}", pos) from None
        start = pos + after
        end = start + length
        if end > size:
            raise Malformed(f"the {label} section claims {length} bytes but only {size - start} remain: "
                            "the file is truncated", pos)
        if sid:
            if sid in seen:
                raise Malformed(f"duplicate {label} section", pos)
            rank = SECTION_ORDER[sid]
            if rank < last_rank:
                raise Malformed(f"the {label} section is out of order", pos)
            seen.add(sid)
            last_rank = rank
        section_name = label
        try:
            if sid in _PARSED:
                payload = _fetch_exact(fetch, start, length)
                sections.PARSERS[sid](payload, state)
            elif sid in _COUNT_ONLY:
                sections.count_only(sid, fetch(start, min(length, _PEEK)), length, state)
            elif sid == 0:
                section_name = _custom(fetch, start, length, state)
        except Malformed as problem:
            where = f"custom section '{section_name}'" if sid == 0 else f"{label} section"
            raise Malformed(f"{where}: {problem.message}", start + problem.offset) from None
        state.sections.append(Section(sid, section_name, start, length))
        pos = end
    sections.finish(state)


def _fetch_exact(fetch: Fetch, start: int, length: int) -> bytes:
    payload = fetch(start, length)
    if len(payload) != length:
        raise Malformed("the file changed size while it was being read", len(payload))
    return payload


def _custom(fetch: Fetch, start: int, length: int, state: State) -> str:
    head = fetch(start, min(length, _PEEK))
    name_length, pos = binary.u32(head, 0, len(head))
    if pos + name_length > length:
        raise Malformed("the section name runs past the end of the section", 0)
    if pos + name_length > len(head):
        head = fetch(start, pos + name_length)
    section_name, _ = binary.name(head, 0, pos + name_length)
    if section_name == "producers":
        state.producers.extend(sections.producers(_fetch_exact(fetch, start, length)[pos + name_length:]))
    return section_name


