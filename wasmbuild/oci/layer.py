"""The compat variant's single tar+gzip layer: written byte-for-byte reproducibly, read defensively.

Writing: every header field that could carry the packing machine's state is fixed (mtime 0,
uid/gid 0, empty user and group names, mode 0644, ustar format), entries are sorted, and the gzip
member is framed here rather than by `gzip.compress`, whose header (OS byte, mtime, file name)
changed between Python versions. The deflate stream itself comes from zlib at a fixed level (1, see
GZIP_LEVEL), so the digest is stable for a given zlib (zlib-ng builds would compress differently).

Reading: the layer comes from a registry, so nothing in it is trusted. Only `plugin.wasm` and
`runtime-config.json` as regular files at the root are accepted (plus a `.` directory entry, which
some builders add); anything else (paths outside the root, links, devices, other files, duplicates)
is refused, and sizes are bounded so a gzip bomb cannot fill the disk or memory. A layer that is
byte for byte what `pack` writes (every layer wasmbuild pushed) is read without `tarfile`: its
entries are sliced out and the whole tar is compared with `pack`'s output for them, so it is
accepted only if it is exactly our canonical tar; anything else takes the general path. (tarfile and
gzip cost a pull ~5 ms of imports, more than unpacking a 1 MiB module.)
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Mapping

from wasmbuild.errors import RegistryError
from wasmbuild.oci.mediatypes import PLUGIN_FILE, RUNTIME_CONFIG_FILE
from wasmbuild.record import Record

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:  # and tarfile is imported only to read layers: pushing never needs it
    from tarfile import TarFile, TarInfo
    from typing import IO, Protocol

    class _Readable(Protocol):
        def read(self, size: int = -1, /) -> bytes: ...

# Level 1: for Wasm modules it makes layers ~10% larger than level 6 at a sixth of the CPU time;
# at any upload speed above ~1 MB/s the faster level finishes the push sooner.
GZIP_LEVEL = 1
ALLOWED_FILES = (PLUGIN_FILE, RUNTIME_CONFIG_FILE)
MAX_MODULE_BYTES = 512 * 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
_FAST_PATH_BYTES = 64 * 1024 * 1024  # larger layers are streamed through tarfile, not inflated in one piece
# A fixed gzip header: magic, deflate, no flags (so no file name), mtime 0, XFL 0, OS 255 "unknown".
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


class PackedLayer(Record):
    _fields = ("tar", "gzipped")
    __slots__ = _fields
    tar: bytes  # the uncompressed tar (its sha256 is the layer's diff_id)
    gzipped: bytes  # what is pushed

    def __init__(self, tar: bytes, gzipped: bytes) -> None:
        self._set(tar, gzipped)

    @property
    def diff_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.tar).hexdigest()


_BLOCK = 512
_RECORD = 20 * _BLOCK
_END_OF_ARCHIVE = bytes(2 * _BLOCK)


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _ustar_header(name: str, size: int) -> bytes:
    """The 512-byte POSIX ustar header of a regular file, every field but name and size fixed."""
    encoded = name.encode("utf-8")
    if len(encoded) > 100 or size >= 8**11:
        raise ValueError(f"{name!r} ({size} bytes) does not fit a ustar header")
    fields = [
        encoded.ljust(100, b"\0"),  # name
        _octal(0o644, 8), _octal(0, 8), _octal(0, 8),  # mode, uid, gid
        _octal(size, 12), _octal(0, 12),  # size, mtime
        b" " * 8,  # checksum, counted as spaces
        b"0",  # typeflag: regular file
        b"\0" * 100,  # linkname
        b"ustar\x0000",  # magic, version
        b"\0" * 32, b"\0" * 32,  # uname, gname: empty
        b"\0" * 16,  # devmajor, devminor: unused for regular files
        b"\0" * 155,  # prefix
    ]
    header = b"".join(fields).ljust(_BLOCK, b"\0")
    checksum = b"%06o\0 " % sum(header)
    return header[:148] + checksum + header[156:]


def pack(files: Mapping[str, bytes]) -> PackedLayer:
    """A reproducible tar+gzip layer holding `files` at its root.

    The tar is written here, byte for byte (what `tarfile` writes in USTAR format for the same
    members, without importing it or depending on its defaults).
    """
    raw = write_tar(files)
    return PackedLayer(raw, gzip_deterministic(raw))


def write_tar(files: Mapping[str, bytes]) -> bytes:
    """`files` (sorted by name) as regular files in a ustar archive, every header field but name
    and size fixed."""
    parts: list[bytes] = []
    for name in sorted(files):
        data = files[name]
        parts += [_ustar_header(name, len(data)), data, b"\0" * (-len(data) % _BLOCK)]
    parts.append(b"\0" * (2 * _BLOCK))  # end of archive
    raw = b"".join(parts)
    return raw + b"\0" * (-len(raw) % _RECORD)


def gzip_deterministic(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return _GZIP_HEADER + body + trailer


class _HashingReader(io.RawIOBase):
    """Reads through `source`, hashing and counting, and refuses to produce more than `limit` bytes."""

    def __init__(self, source: _Readable, limit: int) -> None:
        self._source = source
        self._limit = limit
        self.count = 0
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        self.count += len(data)
        if self.count > self._limit:
            raise _Refused(f"it unpacks to more than {self._limit // (1024 * 1024)} MiB")
        self.hash.update(data)
        buffer[: len(data)] = data
        return len(data)


class _Refused(Exception):
    pass


def _member_name(member: TarInfo) -> str:
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") if member.isdir() else name


def unpack(gzipped: IO[bytes], where: str, expected_diff_id: str | None = None) -> dict[str, bytes]:
    """The files of a compat layer read from `gzipped`, or RegistryError naming what is wrong.

    `where` names the layer in messages. When the image config lists the layer's diff_id, the
    uncompressed tar must hash to it.
    """
    if isinstance(gzipped, io.BytesIO):
        canonical = _unpack_canonical(gzipped.getvalue())
        if canonical is not None:
            _check_diff_id("sha256:" + hashlib.sha256(canonical[0]).hexdigest(), expected_diff_id, where)
            return canonical[1]
    import gzip
    import tarfile

    reader = _HashingReader(gzip.GzipFile(fileobj=gzipped, mode="rb"), MAX_MODULE_BYTES + 2 * MAX_CONFIG_BYTES)
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BufferedReader(reader), mode="r|") as tar:
            for member in tar:
                for name, data in _read_member(tar, member).items():
                    if name in files:
                        raise _Refused(f"it holds {name} twice")
                    files[name] = data
        while reader.read(65536):  # the rest of the stream (padding): hashed, and gzip checks its CRC
            pass
    except _Refused as exc:
        raise RegistryError(f"{where} is refused: {exc}",
                            "a Wasm image layer may hold only plugin.wasm and runtime-config.json") from exc
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise RegistryError(f"{where} is not a valid tar+gzip layer: {exc}") from exc
    if PLUGIN_FILE not in files:
        raise RegistryError(f"{where} holds no {PLUGIN_FILE}",
                            "a compat Wasm image keeps its module in plugin.wasm at the layer's root")
    _check_diff_id("sha256:" + reader.hash.hexdigest(), expected_diff_id, where)
    return files


def _check_diff_id(actual: str, expected: str | None, where: str) -> None:
    if expected is not None and actual != expected:
        raise RegistryError(f"{where} does not match the image config: its content is {actual}, "
                            f"the config says {expected}", "the image is corrupt; push it again")


def _unpack_canonical(gzipped: bytes) -> tuple[bytes, dict[str, bytes]] | None:
    """(tar, files) if `gzipped` is one gzip member holding exactly the tar `pack` writes for the
    files in it; None for anything else (other tar writers, bad data, too large: `unpack`'s general
    path reads or refuses those, with its messages)."""
    if len(gzipped) < 18 or int.from_bytes(gzipped[-4:], "little") > _FAST_PATH_BYTES:  # ISIZE, the length
        return None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing; checks the CRC and length
    try:
        raw = inflater.decompress(gzipped, _FAST_PATH_BYTES + 1)  # bounded even if ISIZE lies
    except zlib.error:
        return None
    if not inflater.eof or inflater.unused_data or len(raw) > _FAST_PATH_BYTES:
        return None
    files = read_tar(raw)
    if files is None or PLUGIN_FILE not in files or write_tar(files) != raw:
        return None
    for name, data in files.items():
        if name not in ALLOWED_FILES or len(data) > (MAX_MODULE_BYTES if name == PLUGIN_FILE else MAX_CONFIG_BYTES):
            return None
    return raw, files


def read_tar(raw: bytes) -> dict[str, bytes] | None:
    """The regular files of a ustar archive as `write_tar` writes them, by name; None when `raw` is
    anything else (another type of entry, a name twice, a header that does not parse, data cut
    short, no end-of-archive blocks). Only for archives whose content the caller checks further: it
    reads, it does not judge."""
    files: dict[str, bytes] = {}
    offset = 0
    while raw[offset : offset + 2 * _BLOCK] != _END_OF_ARCHIVE:  # not there (cut short): None below
        header = raw[offset : offset + _BLOCK]
        if len(header) < _BLOCK:
            return None
        if header[156:157] != b"0" or header[257:265] != b"ustar\x0000" or header[345:346] != b"\0":
            return None  # not a regular file, not ustar, or a name continued in the prefix field
        try:
            name = header[:100].rstrip(b"\0").decode("utf-8")
            size = int(header[124:135], 8)
        except ValueError:  # UnicodeDecodeError too
            return None
        start = offset + _BLOCK
        if not name or name in files or size < 0 or start + size > len(raw):
            return None
        files[name] = raw[start : start + size]
        offset = start + size + (-size % _BLOCK)
    return files


def _read_member(tar: TarFile, member: TarInfo) -> dict[str, bytes]:
    import tarfile

    name = _member_name(member)
    if member.isdir():
        if name in ("", "."):
            return {}
        raise _Refused(f"it holds a directory {member.name!r}")
    if name.startswith("/") or ".." in name.split("/") or not name:
        raise _Refused(f"it holds a path outside its root: {member.name!r}")
    if member.issym() or member.islnk():
        raise _Refused(f"it holds a link {member.name!r} -> {member.linkname!r}")
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        raise _Refused(f"it holds {member.name!r}, which is not a regular file (a device, FIFO or sparse file)")
    if name not in ALLOWED_FILES:
        raise _Refused(f"it holds an unexpected file {member.name!r}")
    limit = MAX_MODULE_BYTES if name == PLUGIN_FILE else MAX_CONFIG_BYTES
    if member.size > limit:
        raise _Refused(f"{name} is larger than {limit // (1024 * 1024)} MiB")
    handle = tar.extractfile(member)
    assert handle is not None  # regular files always have data
    data = handle.read()
    if len(data) != member.size:
        raise _Refused(f"{name} is truncated")
    return {name: data}

