"""The parsers of the sections the reader reads: type, import, function, table, memory, global,
export, start, and the leading counts of code, data, datacount and tag (their bodies are never
read). Each takes the section payload and the `State` being filled; any violation of the binary
format raises `Malformed` with an offset relative to the payload.
"""

from __future__ import annotations

from collections.abc import Callable

from wasmbuild.abi import binary
from wasmbuild.abi.binary import Malformed
from wasmbuild.abi.module import (
    EXTERNAL_KINDS,
    Export,
    FuncType,
    GlobalType,
    Import,
    Limits,
    ModuleInfo,
    ReadError,
    Section,
)


class State:
    """Mutable accumulator used only while one module is being read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.error: ReadError | None = None
        self.types: list[FuncType] = []
        self.imports: list[Import] = []
        self.func_types: list[int] = []  # type index of every function, imported ones first
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


def finish(state: State) -> None:
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


def _types(payload: bytes, state: State) -> None:
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


def _imports(payload: bytes, state: State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    name, u32 = binary.name, binary.u32
    types = state.types
    ntypes = len(types)
    space = state.index_space
    imports, func_types = state.imports, state.func_types
    for _ in range(count):
        module, pos = name(payload, pos, end)
        field, pos = name(payload, pos, end)
        if pos >= end:
            raise Malformed(f"import {module}.{field} is cut short", pos)
        kind = payload[pos]
        pos += 1
        if kind == 0:
            index = payload[pos] if pos < end else 0x80
            if index < 0x80:  # the usual one-byte type index
                pos += 1
            else:
                index, pos = u32(payload, pos, end)
            if index >= ntypes:
                raise Malformed(f"import {module}.{field} uses type {index}, but there are only {ntypes} types", pos)
            imports.append(Import(module, field, "func", types[index]))
            func_types.append(index)
        elif kind in (1, 2):
            if kind == 1:
                binary.reftype(payload, pos, end)
                pos += 1
            lim, pos = binary.limits(payload, pos, end)
            imports.append(Import(module, field, EXTERNAL_KINDS[kind], limits=lim))
        elif kind == 3:
            gt, pos = binary.global_type(payload, pos, end)
            imports.append(Import(module, field, "global", glob=gt))
        elif kind == 4:
            pos = _tag_type(payload, pos, end, ntypes)
            imports.append(Import(module, field, "tag"))
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


def _functions(payload: bytes, state: State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    ntypes = len(state.types)
    if end - pos == count:  # fast path: every type index fits in one byte
        indices = payload[pos:]
        if count and max(indices) >= min(ntypes, 0x80):
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


def _tables(payload: bytes, state: State) -> None:
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


def _memories(payload: bytes, state: State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    for _ in range(count):
        lim, pos = binary.limits(payload, pos, end)
        if not lim.is64 and (lim.minimum > 65536 or (lim.maximum or 0) > 65536):
            raise Malformed("a 32-bit memory cannot have more than 65536 pages (4 GiB)", pos)
        state.memories.append(lim)
    state.index_space["memory"] += count
    _done(payload, pos)


def _globals(payload: bytes, state: State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    for _ in range(count):
        gt, pos = binary.global_type(payload, pos, end)
        pos = binary.const_expr(payload, pos, end)
        state.globals.append(gt)
    state.index_space["global"] += count
    _done(payload, pos)


def _exports(payload: bytes, state: State) -> None:
    end = len(payload)
    count, pos = binary.u32(payload, 0, end)
    name, u32 = binary.name, binary.u32
    space = state.index_space
    seen: set[str] = set()
    types, func_types, exports = state.types, state.func_types, state.exports
    kinds = EXTERNAL_KINDS
    for _ in range(count):
        field, pos = name(payload, pos, end)
        if field in seen:
            raise Malformed(f"duplicate export name {field!r}", pos)
        seen.add(field)
        if pos + 1 >= end:
            raise Malformed(f"export {field!r} is cut short", pos)
        kind_code = payload[pos]
        if kind_code > 4:
            raise Malformed(f"export {field!r} has unknown kind 0x{kind_code:02x}", pos)
        kind = kinds[kind_code]
        index = payload[pos + 1]
        if index < 0x80:
            pos += 2
        else:
            index, pos = u32(payload, pos + 1, end)
        if index >= space[kind]:
            raise Malformed(f"export {field!r} refers to {kind} {index}, which does not exist", pos)
        exports.append(Export(field, kind, index, types[func_types[index]] if kind_code == 0 else None))
    _done(payload, pos)


def _start(payload: bytes, state: State) -> None:
    index, pos = binary.u32(payload, 0, len(payload))
    if index >= state.index_space["func"]:
        raise Malformed(f"the start function {index} does not exist", 0)
    state.start = index
    _done(payload, pos)


def count_only(sid: int, head: bytes, length: int, state: State) -> None:
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


def producers(data: bytes) -> list[tuple[str, str, str]]:
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


PARSERS: dict[int, Callable[[bytes, State], None]] = {
    1: _types, 2: _imports, 3: _functions, 4: _tables, 5: _memories, 6: _globals, 7: _exports, 8: _start,
}
