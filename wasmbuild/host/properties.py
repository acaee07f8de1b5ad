"""Properties (Envoy "attributes") as proxy_get_property returns them.

A path is a list of segments joined with NUL (b"request\\0path"). Lookup order: what the filter
set with proxy_set_property on the stream, then on its plugin, then what the user configured,
then the values the host derives from the stream (request.path from :path, response.code from
:status, ...). Values are serialised as Envoy does: strings raw, integers 8-byte little-endian,
maps in the header-map pair format.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from wasmbuild.host.contexts import HttpContext
from wasmbuild.host.pairs import HeaderMap, serialize

if TYPE_CHECKING:
    from wasmbuild.host.vm import FilterVm

Path = tuple[bytes, ...]

#: properties Envoy serialises as 8-byte integers (so `--property response.code=503` is an int)
INTEGER_PROPERTIES: frozenset[str] = frozenset({
    "request.size", "request.total_size", "response.code", "response.size", "response.total_size",
    "response.grpc_status", "source.port", "destination.port", "upstream.port", "connection.id",
    "plugin_vm_id_count", "request.duration",
})

DEFAULTS: dict[str, bytes | int] = {
    "source.address": b"127.0.0.1:50000",
    "source.port": 50000,
    "destination.address": b"127.0.0.1:10000",
    "destination.port": 10000,
    "connection.id": 1,
    "connection.mtls": b"\x00",
    "node.id": b"wasmbuild",
    "node.cluster": b"wasmbuild",
    "cluster_name": b"wasmbuild-upstream",
    "route_name": b"wasmbuild-route",
    "listener_direction": 1,  # INBOUND
}


def encode_int(value: int) -> bytes:
    return struct.pack("<q", value)


def split_path(raw: bytes) -> Path:
    return tuple(raw.split(b"\0")) if raw else ()


def path_of(dotted: str) -> Path:
    """`request.headers.x-id` -> (b"request", b"headers", b"x-id") for the CLI's --property."""
    return tuple(part.encode() for part in dotted.split("."))


def encode_user_value(dotted: str, value: str | bytes | int | bool | Mapping[str, str]) -> bytes:
    """A user-supplied value in Envoy's serialisation (decimal text for an integer property)."""
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return encode_int(value)
    if isinstance(value, Mapping):
        return serialize((k.encode(), v.encode()) for k, v in value.items())
    raw = value.encode() if isinstance(value, str) else value
    if dotted in INTEGER_PROPERTIES:
        try:
            return encode_int(int(raw))
        except ValueError:
            pass
    return raw


def _header(name: bytes) -> Callable[[HttpContext], bytes | None]:
    def get(stream: HttpContext) -> bytes | None:
        return stream.request_headers.get(name) if stream.request_headers is not None else None
    return get


def _url_path(stream: HttpContext) -> bytes | None:
    path = _header(b":path")(stream)
    return path.split(b"?", 1)[0] if path is not None else None


def _query(stream: HttpContext) -> bytes | None:
    path = _header(b":path")(stream)
    return path.split(b"?", 1)[1] if path is not None and b"?" in path else b"" if path is not None else None


def _response_code(stream: HttpContext) -> bytes | None:
    if stream.local_response is not None:
        return encode_int(stream.local_response.status)
    status = stream.response_headers.get(b":status") if stream.response_headers is not None else None
    try:
        return encode_int(int(status)) if status is not None else None
    except ValueError:
        return None


def _map(getter: Callable[[HttpContext], HeaderMap | None]) -> Callable[[HttpContext], bytes | None]:
    def get(stream: HttpContext) -> bytes | None:
        found = getter(stream)
        return found.serialize() if found is not None else None
    return get


def _body_size(getter: str) -> Callable[[HttpContext], bytes | None]:
    def get(stream: HttpContext) -> bytes | None:
        body = getattr(stream, getter).content()
        return encode_int(len(body) if body is not None else 0)
    return get


STREAM_DERIVED: dict[str, Callable[[HttpContext], bytes | None]] = {
    "request.path": _header(b":path"),
    "request.url_path": _url_path,
    "request.query": _query,
    "request.host": _header(b":authority"),
    "request.method": _header(b":method"),
    "request.scheme": _header(b":scheme"),
    "request.id": _header(b"x-request-id"),
    "request.referer": _header(b"referer"),
    "request.useragent": _header(b"user-agent"),
    "request.protocol": lambda s: b"HTTP/1.1",
    "request.headers": _map(lambda s: s.request_headers),
    "request.trailers": _map(lambda s: s.request_trailers),
    "request.size": _body_size("request_body"),
    "response.headers": _map(lambda s: s.response_headers),
    "response.trailers": _map(lambda s: s.response_trailers),
    "response.code": _response_code,
    "response.size": _body_size("response_body"),
}


def lookup(vm: FilterVm, path: Path) -> bytes | None:
    """The value of `path` as the current (effective) context sees it, or None."""
    if not path:
        return None
    stream = vm.stream_context()
    root = vm.root_context()
    for layer in (stream.properties if stream is not None else None,
                  root.properties if root is not None else None, vm.options.properties):
        if layer and path in layer:
            return layer[path]
    dotted = ".".join(p.decode("utf-8", "replace") for p in path)
    # request.headers.<name>: a lookup inside a map-valued property
    if len(path) == 3 and path[0] in (b"request", b"response") and path[1] in (b"headers", b"trailers"):
        if stream is not None:
            found = getattr(stream, f"{path[0].decode()}_{path[1].decode()}")
            return found.get(path[2]) if found is not None else None
        return None
    options = vm.options
    if dotted == "plugin_root_id":
        return options.root_id.encode()
    if dotted == "plugin_name":
        return (options.plugin_name or options.root_id).encode()
    if dotted == "plugin_vm_id":
        return options.vm_id.encode()
    if stream is not None and dotted in STREAM_DERIVED:
        return STREAM_DERIVED[dotted](stream)
    default = DEFAULTS.get(dotted)
    if default is None:
        return None
    return encode_int(default) if isinstance(default, int) else default
