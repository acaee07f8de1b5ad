"""The compat variant's single tar+gzip layer: written byte-for-byte reproducibly, read defensively.

Writing: every header field that could carry the packing machine's state is fixed (mtime 0,
uid/gid 0, empty user and group names, mode 0644, ustar format), entries are sorted, and the gzip
member is framed here rather than by `gzip.compress`, whose header (OS byte, mtime, file name)
changed between Python versions. The deflate stream itself comes from zlib at a fixed level, so the
digest is stable for a given zlib (zlib-ng builds would compress differently).

Reading: the layer comes from a registry, so nothing in it is trusted. Only `plugin.wasm` and
`runtime-config.json` as regular files at the root are accepted (plus a `.` directory entry, which
some builders add); anything else (paths outside the root, links, devices, other files, duplicates)
is refused, and sizes are bounded so a gzip bomb cannot fill the disk or memory.
"""

from __future__ import annotations

import hashlib
import io
import struct
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Protocol

from wasmbuild.errors import RegistryError
from wasmbuild.oci.mediatypes import PLUGIN_FILE, RUNTIME_CONFIG_FILE

GZIP_LEVEL = 6
ALLOWED_FILES = (PLUGIN_FILE, RUNTIME_CONFIG_FILE)
MAX_MODULE_BYTES = 512 * 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
# A fixed gzip header: magic, deflate, no flags (so no file name), mtime 0, XFL 0, OS 255 "unknown".
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass(frozen=True)
class PackedLayer:
    tar: bytes  # the uncompressed tar (its sha256 is the layer's diff_id)
    gzipped: bytes  # what is pushed

    @property
    def diff_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.tar).hexdigest()


def pack(files: Mapping[str, bytes]) -> PackedLayer:
    """A reproducible tar+gzip layer holding `files` at its root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return PackedLayer(raw, gzip_deterministic(raw))


def gzip_deterministic(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return _GZIP_HEADER + body + trailer


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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


def _member_name(member: tarfile.TarInfo) -> str:
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") if member.isdir() else name


def unpack(gzipped: IO[bytes], where: str, expected_diff_id: str | None = None) -> dict[str, bytes]:
    """The files of a compat layer read from `gzipped`, or RegistryError naming what is wrong.

    `where` names the layer in messages. When the image config lists the layer's diff_id, the
    uncompressed tar must hash to it.
    """
    import gzip

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
    if expected_diff_id is not None:
        actual = "sha256:" + reader.hash.hexdigest()
        if actual != expected_diff_id:
            raise RegistryError(f"{where} does not match the image config: its content is {actual}, "
                                f"the config says {expected_diff_id}", "the image is corrupt; push it again")
    return files


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, bytes]:
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

