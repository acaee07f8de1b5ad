"""Primitives of the wasm binary format: LEB128 integers, names, value types, limits and constant
expressions, each bounds-checked against the end of the section being read.

Every function takes `(data, pos, end)` and returns `(value, new_pos)`. Anything out of bounds or
out of range raises `Malformed`, which the reader turns into a finding; nothing else escapes.
"""

from __future__ import annotations

from wasmbuild.abi.module import GlobalType, Limits


class Malformed(Exception):
    """The bytes break the binary format at `offset` (relative to the section payload)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


VALTYPES: dict[int, str] = {
    0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128", 0x70: "funcref", 0x6F: "externref",
}
REFTYPES: dict[int, str] = {0x70: "funcref", 0x6F: "externref"}


def u32(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """An unsigned LEB128 of at most 32 bits (5 bytes, the last one using 4 bits)."""
    if pos >= end:
        raise Malformed("unexpected end of section while reading an integer", pos)
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    if pos + 1 < end and data[pos + 1] < 0x80:  # two bytes: indices up to 16383
        return (byte & 0x7F) | (data[pos + 1] << 7), pos + 2
    return _uleb_slow(data, pos, end, 32)


def u64(data: bytes, pos: int, end: int) -> tuple[int, int]:
    return _uleb_slow(data, pos, end, 64)


def _uleb_slow(data: bytes, pos: int, end: int, bits: int) -> tuple[int, int]:
    start = pos
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise Malformed("unexpected end of section inside a LEB128 integer", start)
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if shift > bits and byte >> (bits - (shift - 7)):
                raise Malformed(f"LEB128 integer too large for {bits} bits", start)
            return result, pos
        if shift >= bits:
            raise Malformed(f"LEB128 integer longer than {(bits + 6) // 7} bytes", start)


def sleb(data: bytes, pos: int, end: int, bits: int) -> tuple[int, int]:
    """A signed LEB128 of at most `bits` bits (the value is returned; range is bounded by length)."""
    start = pos
    result = 0
    shift = 0
    limit = (bits + 6) // 7
    while True:
        if pos >= end:
            raise Malformed("unexpected end of section inside a LEB128 integer", start)
        if pos - start >= limit:
            raise Malformed(f"signed LEB128 integer longer than {limit} bytes", start)
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos


def name(data: bytes, pos: int, end: int) -> tuple[str, int]:
    """A length-prefixed UTF-8 string."""
    if pos < end and data[pos] < 0x80:  # the usual one-byte length
        length = data[pos]
        pos += 1
    else:
        length, pos = u32(data, pos, end)
    stop = pos + length
    if stop > end:
        raise Malformed(f"a name of {length} bytes runs past the end of the section", pos)
    raw = data[pos:stop]
    try:
        return raw.decode("utf-8"), stop
    except UnicodeDecodeError:
        raise Malformed("a name is not valid UTF-8", pos) from None


def byte(data: bytes, pos: int, end: int) -> int:
    if pos >= end:
        raise Malformed("unexpected end of section", pos)
    return data[pos]


def valtype(data: bytes, pos: int, end: int) -> str:
    code = byte(data, pos, end)
    found = VALTYPES.get(code)
    if found is None:
        raise Malformed(f"unknown value type 0x{code:02x}", pos)
    return found


def reftype(data: bytes, pos: int, end: int) -> str:
    code = byte(data, pos, end)
    found = REFTYPES.get(code)
    if found is None:
        raise Malformed(f"unknown reference type 0x{code:02x}", pos)
    return found


def limits(data: bytes, pos: int, end: int) -> tuple[Limits, int]:
    """Limits: flags (bit 0 has-maximum, bit 1 shared, bit 2 64-bit), minimum, optional maximum."""
    flags = byte(data, pos, end)
    if flags > 0x07:
        raise Malformed(f"invalid limits flags 0x{flags:02x}", pos)
    pos += 1
    read = u64 if flags & 0x04 else u32
    minimum, pos = read(data, pos, end)
    maximum: int | None = None
    if flags & 0x01:
        maximum, pos = read(data, pos, end)
        if maximum < minimum:
            raise Malformed(f"limits maximum {maximum} is below the minimum {minimum}", pos)
    elif flags & 0x02:
        raise Malformed("a shared memory must declare a maximum", pos)
    return Limits(minimum, maximum, bool(flags & 0x02), bool(flags & 0x04)), pos


def global_type(data: bytes, pos: int, end: int) -> tuple[GlobalType, int]:
    vt = valtype(data, pos, end)
    mut = byte(data, pos + 1, end)
    if mut > 1:
        raise Malformed(f"invalid global mutability 0x{mut:02x}", pos + 1)
    return GlobalType(vt, bool(mut)), pos + 2


# Constant-expression opcodes and how to skip their immediates.
_CONST_LEB = {0x23: 32, 0xD2: 32}  # global.get idx, ref.func idx
_CONST_SLEB = {0x41: 32, 0x42: 64}  # i32.const, i64.const
_CONST_FIXED = {0x43: 4, 0x44: 8}  # f32.const, f64.const
_CONST_PLAIN = frozenset({0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E})  # extended-const add/sub/mul


def const_expr(data: bytes, pos: int, end: int) -> int:
    """Skip a constant expression (globals, table initialisers) up to and including its `end`."""
    while True:
        op = byte(data, pos, end)
        pos += 1
        if op == 0x0B:
            return pos
        if op in _CONST_SLEB:
            _, pos = sleb(data, pos, end, _CONST_SLEB[op])
        elif op in _CONST_LEB:
            _, pos = u32(data, pos, end)
        elif op in _CONST_FIXED:
            pos += _CONST_FIXED[op]
            if pos > end:
                raise Malformed("a constant runs past the end of the section", pos)
        elif op == 0xD0:  # ref.null heaptype
            reftype(data, pos, end)
            pos += 1
        elif op == 0xFD:  # v128.const: 0xfd 12 then 16 bytes
            sub, pos = u32(data, pos, end)
            if sub != 12:
                raise Malformed(f"opcode 0xfd {sub} is not allowed in a constant expression", pos)
            pos += 16
            if pos > end:
                raise Malformed("a v128 constant runs past the end of the section", pos)
        elif op not in _CONST_PLAIN:
            raise Malformed(f"opcode 0x{op:02x} is not allowed in a constant expression", pos - 1)
