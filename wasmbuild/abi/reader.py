"""A streaming reader of wasm binaries: it walks the section headers, parses the sections that say
what a module imports and exports, and skips code, data and most custom sections by their size
without reading them (from a file they are never even loaded: `os.pread` fetches only the parts
that are parsed). Nothing here raises for bad input: `read_module` reports the first problem in
`ModuleInfo.error` together with everything parsed before it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from wasmbuild.abi import binary
from wasmbuild.abi.binary import Malformed
from wasmbuild.abi.module import (
    EXTERNAL_KINDS,
    SECTION_NAMES,
    SECTION_ORDER,
    Export,
    FuncType,
    GlobalType,
    Import,
    Limits,
    ModuleInfo,
    ReadError,
    Section,
)

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
    state = _State(size)
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


class _State:
    """Mutable accumulator used only while one module is being read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.error: ReadError | None = None
        self.types: list[FuncType] = []
        self.imports: list[Import] = []
        self.func_types: list[int] = []  # type index of every function, imported ones first
        self.imported_funcs = 0
        self.defined_funcs = 0
        self.tables: list[Limits] = []
        self.memories: list[Limits] = []
        self.globals: list[GlobalType] = []
        self.index_space = {kind: 0 for kind in EXTERNAL_KINDS}
        self.exports: list[Export] = []
        self.start: int | None = None
        self.sections: list[Section] = []
        self.producers: list[tuple[str, str, str]] = []
        self.code_count: int | None = None
        self.data_count: int | None = None
        self.data_segments: int | None = None

    def info(self) -> ModuleInfo:
        return ModuleInfo(
            size=self.size, error=self.error, types=tuple(self.types), imports=tuple(self.imports),
            functions=self.defined_funcs, tables=tuple(self.tables), memories=tuple(self.memories),
            globals=tuple(self.globals), exports=tuple(self.exports), start=self.start,
            sections=tuple(self.sections), producers=tuple(self.producers),
        )


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


def _walk(fetch: Fetch, size: int, state: _State) -> None:
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
        if sid not in SECTION_NAMES:
            raise Malformed(f"unknown section id {sid}", pos)
        try:
            length, after = binary.u32(header, 1, len(header))
        except Malformed as problem:
            if len(header) < 6:
                raise Malformed("the file ends inside a section header: it is truncated", pos) from None
            raise Malformed(f"{SECTION_NAMES[sid]} section header: {problem.message}", pos) from None
        start = pos + after
        end = start + length
        if end > size:
            label = SECTION_NAMES[sid]
            raise Malformed(f"the {label} section claims {length} bytes but only {size - start} remain: "
                            "the file is truncated", pos)
        if sid:
            if sid in seen:
                raise Malformed(f"duplicate {SECTION_NAMES[sid]} section", pos)
            rank = SECTION_ORDER[sid]
            if rank < last_rank:
                raise Malformed(f"the {SECTION_NAMES[sid]} section is out of order", pos)
            seen.add(sid)
            last_rank = rank
        section_name = SECTION_NAMES[sid]
        try:
            if sid in _PARSED:
                payload = _fetch_exact(fetch, start, length)
                _PARSERS[sid](payload, state)
            elif sid in _COUNT_ONLY:
                _count_only(sid, fetch(start, min(length, _PEEK)), length, state)
            elif sid == 0:
                section_name = _custom(fetch, start, length, state)
        except Malformed as problem:
            where = f"custom section '{section_name}'" if sid == 0 else f"{SECTION_NAMES[sid]} section"
            raise Malformed(f"{where}: {problem.message}", start + problem.offset) from None
        state.sections.append(Section(sid, section_name, start, length))
        pos = end
    _finish(state)


def _fetch_exact(fetch: Fetch, start: int, length: int) -> bytes:
    payload = fetch(start, length)
    if len(payload) != length:
        raise Malformed("the file changed size while it was being read", len(payload))
    return payload


def _finish(state: _State) -> None:
    if state.defined_funcs and state.code_count is None:
        raise Malformed(f"{state.defined_funcs} functions are declared but there is no code section", state.size)
    if state.code_count is not None and state.code_count != state.defined_funcs:
        raise Malformed(f"the function section declares {state.defined_funcs} functions but the code "
                        f"section has {state.code_count} bodies", state.size)
    if state.data_count is not None and state.data_segments is not None and state.data_count != state.data_segments:
        raise Malformed(f"the datacount section says {state.data_count} segments but the data section has "
                        f"{state.data_segments}", state.size)


def _done(payload: bytes, pos: int) -> None:
    if pos != len(payload):
        raise Malformed(f"{len(payload) - pos} unexpected bytes at the end of the section", pos)


def _types(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    if count > end:
        raise Malformed(f"{count} types cannot fit in {end} bytes", 0)
    u32, valtypes = binary.u32, binary.VALTYPES
    for _ in range(count):
        form = binary.byte(payload, pos, end)
        if form != 0x60:
            raise Malformed(f"type form 0x{form:02x} is not a function type (GC proposal types are not "
                            "supported by proxy-wasm hosts)", pos)
        pos += 1
        lists: list[tuple[str, ...]] = []
        for _side in (0, 1):
            n, pos = u32(payload, pos, end)
            stop = pos + n
            if stop > end:
                raise Malformed("a function type runs past the end of the section", pos)
            try:
                lists.append(tuple([valtypes[b] for b in payload[pos:stop]]))
            except KeyError as bad:
                raise Malformed(f"unknown value type 0x{bad.args[0]:02x}", pos) from None
            pos = stop
        state.types.append(FuncType(lists[0], lists[1]))
    _done(payload, pos)


def _imports(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    name, u32 = binary.name, binary.u32
    ntypes = len(state.types)
    space = state.index_space
    for _ in range(count):
        module, pos = name(payload, pos, end)
        field, pos = name(payload, pos, end)
        kind = binary.byte(payload, pos, end)
        pos += 1
        if kind == 0:
            index, pos = u32(payload, pos, end)
            if index >= ntypes:
                raise Malformed(f"import {module}.{field} uses type {index}, but there are only {ntypes} types", pos)
            state.imports.append(Import(module, field, "func", type=state.types[index]))
            state.func_types.append(index)
            state.imported_funcs += 1
        elif kind in (1, 2):
            if kind == 1:
                binary.reftype(payload, pos, end)
                pos += 1
            lim, pos = binary.limits(payload, pos, end)
            state.imports.append(Import(module, field, EXTERNAL_KINDS[kind], limits=lim))
        elif kind == 3:
            gt, pos = binary.global_type(payload, pos, end)
            state.imports.append(Import(module, field, "global", glob=gt))
        elif kind == 4:
            pos = _tag_type(payload, pos, end, ntypes)
            state.imports.append(Import(module, field, "tag"))
        else:
            raise Malformed(f"import {module}.{field} has unknown kind 0x{kind:02x}", pos - 1)
        space[EXTERNAL_KINDS[kind]] += 1
    _done(payload, pos)


def _tag_type(payload: bytes, pos: int, end: int, ntypes: int) -> int:
    attribute = binary.byte(payload, pos, end)
    if attribute != 0:
        raise Malformed(f"invalid tag attribute 0x{attribute:02x}", pos)
    index, pos = binary.u32(payload, pos + 1, end)
    if index >= ntypes:
        raise Malformed(f"a tag uses type {index}, but there are only {ntypes} types", pos)
    return pos


def _functions(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    ntypes = len(state.types)
    if end - pos == count:  # fast path: every type index fits in one byte
        indices = payload[pos:]
        if count and (max(indices) >= 0x80 or max(indices) >= ntypes):
            bad = next(i for i in indices if i >= 0x80 or i >= ntypes)
            if bad >= 0x80:
                raise Malformed("a type index is truncated", end)
            raise Malformed(f"a function uses type {bad}, but there are only {ntypes} types", pos)
        state.func_types.extend(indices)
        pos = end
    else:
        if count > end:
            raise Malformed(f"{count} functions cannot fit in {end} bytes", 0)
        u32 = binary.u32
        for _ in range(count):
            index, pos = u32(payload, pos, end)
            if index >= ntypes:
                raise Malformed(f"a function uses type {index}, but there are only {ntypes} types", pos)
            state.func_types.append(index)
    state.defined_funcs = count
    state.index_space["func"] += count
    _done(payload, pos)


def _tables(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    for _ in range(count):
        with_init = binary.byte(payload, pos, end) == 0x40
        if with_init:
            if binary.byte(payload, pos + 1, end) != 0:
                raise Malformed("invalid table encoding", pos + 1)
            pos += 2
        binary.reftype(payload, pos, end)
        lim, pos = binary.limits(payload, pos + 1, end)
        if with_init:
            pos = binary.const_expr(payload, pos, end)
        state.tables.append(lim)
    state.index_space["table"] += count
    _done(payload, pos)


def _memories(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    for _ in range(count):
        lim, pos = binary.limits(payload, pos, end)
        if not lim.is64 and (lim.minimum > 65536 or (lim.maximum or 0) > 65536):
            raise Malformed("a 32-bit memory cannot have more than 65536 pages (4 GiB)", pos)
        state.memories.append(lim)
    state.index_space["memory"] += count
    _done(payload, pos)


def _globals(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    for _ in range(count):
        gt, pos = binary.global_type(payload, pos, end)
        pos = binary.const_expr(payload, pos, end)
        state.globals.append(gt)
    state.index_space["global"] += count
    _done(payload, pos)


def _exports(payload: bytes, state: _State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    name, u32 = binary.name, binary.u32
    space = state.index_space
    seen: set[str] = set()
    types, func_types = state.types, state.func_types
    for _ in range(count):
        field, pos = name(payload, pos, end)
        if field in seen:
            raise Malformed(f"duplicate export name {field!r}", pos)
        seen.add(field)
        kind_code = binary.byte(payload, pos, end)
        if kind_code > 4:
            raise Malformed(f"export {field!r} has unknown kind 0x{kind_code:02x}", pos)
        kind = EXTERNAL_KINDS[kind_code]
        index, pos = u32(payload, pos + 1, end)
        if index >= space[kind]:
            raise Malformed(f"export {field!r} refers to {kind} {index}, which does not exist", pos)
        ftype = types[func_types[index]] if kind_code == 0 else None
        state.exports.append(Export(field, kind, index, ftype))
    _done(payload, pos)


def _start(payload: bytes, state: _State) -> None:
    index, pos = binary.u32(payload, 0, len(payload))
    if index >= state.index_space["func"]:
        raise Malformed(f"the start function {index} does not exist", 0)
    state.start = index
    _done(payload, pos)


def _count_only(sid: int, head: bytes, length: int, state: _State) -> None:
    """Read just the item count of a section we otherwise skip (code, data, datacount, tag)."""
    count, pos = binary.u32(head, 0, min(len(head), length))
    if sid == 12:
        if pos != length:
            raise Malformed(f"{length - pos} unexpected bytes at the end of the section", pos)
        state.data_count = count
    elif count > length:
        raise Malformed(f"{count} entries cannot fit in {length} bytes", 0)
    elif sid == 10:
        state.code_count = count
    elif sid == 11:
        state.data_segments = count
    else:
        state.index_space["tag"] += count


def _custom(fetch: Fetch, start: int, length: int, state: _State) -> str:
    head = fetch(start, min(length, _PEEK))
    name_length, pos = binary.u32(head, 0, len(head))
    if pos + name_length > length:
        raise Malformed("the section name runs past the end of the section", 0)
    if pos + name_length > len(head):
        head = fetch(start, pos + name_length)
    section_name, _ = binary.name(head, 0, pos + name_length)
    if section_name == "producers":
        state.producers.extend(_producers(_fetch_exact(fetch, start, length)[pos + name_length:]))
    return section_name


def _producers(data: bytes) -> list[tuple[str, str, str]]:
    """The tool-convention `producers` section (language, processed-by, sdk). A custom section's
    contents never make a module invalid, so a broken one is simply ignored."""
    out: list[tuple[str, str, str]] = []
    try:
        end = len(data)
        fields, pos = binary.u32(data, 0, end)
        for _ in range(fields):
            field, pos = binary.name(data, pos, end)
            values, pos = binary.u32(data, pos, end)
            for _ in range(values):
                value, pos = binary.name(data, pos, end)
                version, pos = binary.name(data, pos, end)
                out.append((field, value, version))
    except Malformed:
        return out
    return out


_PARSERS: dict[int, Callable[[bytes, _State], None]] = {
    1: _types, 2: _imports, 3: _functions, 4: _tables, 5: _memories, 6: _globals, 7: _exports, 8: _start,
}
