"""Bounds-checked access to the module's linear memory, for the host functions.

Every pointer a module hands to a host call is checked against the memory's current size; a bad
one raises BadPointer, which the host turns into a filter failure naming the host call and the
callback (Envoy would return INVALID_MEMORY_ACCESS, which SDKs turn into a panic anyway). The
base address is re-read on every access because memory.grow may have changed the size (and,
on some configurations, moved the memory) since the last one.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class HostCallError(Exception):
    """Raised inside a host function: the call traps and the filter fails with this message."""


class BadPointer(HostCallError):
    def __init__(self, address: int, size: int, memory_size: int) -> None:
        super().__init__(f"the range 0x{address:x}+{size} is outside the module's {memory_size} bytes of memory")
        self.address = address
        self.size = size
        self.memory_size = memory_size
        self.function = ""  # the host call it was handed to (filled in by the VM)


class GuestMemory:
    """Reads and writes the exported memory, given its (fixed) base address and a size function.

    Wasm memories only grow, so the size is cached and re-read only when an access falls
    outside the cached size.
    """

    __slots__ = ("_base", "_length", "_size")

    def __init__(self, base: int, size: Callable[[], int]) -> None:
        self._base = base
        self._size = size
        self._length = size()

    def size(self) -> int:
        self._length = self._size()
        return self._length

    def _check(self, address: int, size: int) -> int:
        if address + size > self._length:
            self._length = self._size()
            if address + size > self._length:
                raise BadPointer(address, size, self._length)
        return self._base + address

    def read(self, address: int, size: int) -> bytes:
        if size == 0:
            return b""
        return ctypes.string_at(self._check(address, size), size)

    def write(self, address: int, data: bytes) -> None:
        if data:
            ctypes.memmove(self._check(address, len(data)), data, len(data))

    def check_writable(self, address: int, size: int) -> None:
        self._check(address, size)

    def write_u32(self, address: int, value: int) -> None:
        self.write(address, _U32.pack(value & 0xFFFFFFFF))

    def write_u64(self, address: int, value: int) -> None:
        self.write(address, _U64.pack(value & 0xFFFFFFFFFFFFFFFF))
