"""Header maps and their wire format (proxy-wasm spec, "map serialisation").

    u32 N | N x (u32 key_len, u32 value_len) | for each pair: key, 0x00, value, 0x00

All integers little-endian. The same format carries header and trailer maps, gRPC metadata,
the headers of proxy_send_local_response and proxy_http_call, and map-valued properties.
`HeaderMap` keeps Envoy's semantics: names are lower-cased, order is kept, duplicates allowed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from wasmbuild.host import tables

Pair = tuple[bytes, bytes]

_U32 = struct.Struct("<I")
_U32X2 = struct.Struct("<II")


class MalformedPairs(ValueError):
    """Serialised pairs that do not follow the format (cpp-host treats them as an empty map)."""


def serialize(pairs: Iterable[Pair]) -> bytes:
    """The wire form of `pairs` (an empty map serialises to 4 zero bytes, N = 0)."""
    items = list(pairs)
    sizes = b"".join(_U32X2.pack(len(k), len(v)) for k, v in items)
    data = b"".join(k + b"\0" + v + b"\0" for k, v in items)
    return _U32.pack(len(items)) + sizes + data


def deserialize(buf: bytes) -> list[Pair]:
    """Parse the wire form; raises MalformedPairs for anything cpp-host would reject.

    The spec lets an empty map be given as no bytes or a single 0x00 byte.
    """
    if len(buf) <= 1:
        if buf not in (b"", b"\0"):
            raise MalformedPairs("a map must start with a 4-byte count")
        return []
    limits = tables.limits()
    if len(buf) > limits["pairs_max_bytes"]:
        raise MalformedPairs(f"serialised map of {len(buf)} bytes is over the {limits['pairs_max_bytes']} byte limit")
    if len(buf) < 4:
        raise MalformedPairs("a map must start with a 4-byte count")
    (count,) = _U32.unpack_from(buf, 0)
    if count > limits["pairs_max_count"]:
        raise MalformedPairs(f"map of {count} pairs is over the {limits['pairs_max_count']} pair limit")
    pos = 4 + 8 * count
    if pos > len(buf):
        raise MalformedPairs(f"map says {count} pairs but is only {len(buf)} bytes long")
    out: list[Pair] = []
    for i in range(count):
        key_len, value_len = _U32X2.unpack_from(buf, 4 + 8 * i)
        end = pos + key_len + 1 + value_len + 1
        if end > len(buf):
            raise MalformedPairs(f"pair {i} runs past the end of the map")
        key = buf[pos:pos + key_len]
        value = buf[pos + key_len + 1:end - 1]
        if buf[pos + key_len] != 0 or buf[end - 1] != 0:
            raise MalformedPairs(f"pair {i} is not NUL-terminated")
        out.append((key, value))
        pos = end
    if pos != len(buf):
        raise MalformedPairs(f"{len(buf) - pos} bytes left over after the last pair")
    return out


def to_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


class HeaderMap:
    """An ordered multi-map of header names to values, with Envoy's editing rules.

    Names are stored lower-cased (Envoy's LowerCaseString); `replace` removes every entry of a
    name and appends the new value (current Envoy's HeaderMap::setCopy).
    """

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[tuple[str | bytes, str | bytes]] = ()) -> None:
        self._pairs: list[Pair] = [
            (k.lower() if isinstance(k, bytes) else k.encode("utf-8").lower(),
             v if isinstance(v, bytes) else v.encode("utf-8")) for k, v in pairs]

    # -- reading ------------------------------------------------------------------------------
    def pairs(self) -> list[Pair]:
        return list(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __iter__(self) -> Iterator[Pair]:
        return iter(list(self._pairs))

    def get(self, name: bytes) -> bytes | None:
        """The first value of `name` (Envoy returns only the first one to the module)."""
        name = name.lower()
        for k, v in self._pairs:
            if k == name:
                return v
        return None

    def byte_size(self) -> int:
        """What Envoy's HeaderMap::byteSize() counts: the bytes of every name and value."""
        return sum(len(k) + len(v) for k, v in self._pairs)

    def serialize(self) -> bytes:
        return serialize(self._pairs)

    # -- editing ------------------------------------------------------------------------------
    def add(self, name: bytes, value: bytes) -> None:
        self._pairs.append((name.lower(), value))

    def replace(self, name: bytes, value: bytes) -> None:
        """Envoy's setCopy: drop every entry of `name`, then append the new one."""
        self.remove(name)
        self._pairs.append((name.lower(), value))

    def remove(self, name: bytes) -> None:
        name = name.lower()
        pairs = self._pairs
        for i in range(len(pairs) - 1, -1, -1):
            if pairs[i][0] == name:
                del pairs[i]

    def set_all(self, pairs: Iterable[Pair]) -> None:
        self._pairs = [(k.lower(), v) for k, v in pairs]

    def __repr__(self) -> str:
        return f"HeaderMap({[(k.decode('utf-8', 'replace'), v.decode('utf-8', 'replace')) for k, v in self._pairs]})"
