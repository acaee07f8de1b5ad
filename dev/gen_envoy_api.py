"""Regenerate wasmbuild/deploy/data/envoy-api.json: the Envoy API field tables the bootstrap validator uses.

A development-time tool, never imported by wasmbuild. The tables come from the real proto descriptors
of Envoy's data-plane API as gRPC publishes them on PyPI (`xds-protos`), so field names, JSON names,
types, oneofs, deprecations and the protoc-gen-validate rules are Envoy's own, not transcribed:

    python3 -m venv /tmp/xds && /tmp/xds/bin/pip install xds-protos==1.85.0
    /tmp/xds/bin/python dev/gen_envoy_api.py > wasmbuild/deploy/data/envoy-api.json

Only the messages wasmbuild renders are expanded (EXPAND); a field whose message type is outside that set
keeps its type name, and the validator refuses to descend into it (so a renderer that starts using a new
message must add it here first).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

EXPAND = (
    "envoy.config.bootstrap.v3.Bootstrap",
    "envoy.config.bootstrap.v3.Bootstrap.StaticResources",
    "envoy.config.bootstrap.v3.Admin",
    "envoy.config.core.v3.Address",
    "envoy.config.core.v3.SocketAddress",
    "envoy.config.core.v3.TypedExtensionConfig",
    "envoy.config.core.v3.TransportSocket",
    "envoy.config.core.v3.DataSource",
    "envoy.config.core.v3.AsyncDataSource",
    "envoy.config.core.v3.RemoteDataSource",
    "envoy.config.core.v3.HttpUri",
    "envoy.config.listener.v3.Listener",
    "envoy.config.listener.v3.FilterChain",
    "envoy.config.listener.v3.Filter",
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
    "envoy.config.route.v3.RouteConfiguration",
    "envoy.config.route.v3.VirtualHost",
    "envoy.config.route.v3.Route",
    "envoy.config.route.v3.RouteMatch",
    "envoy.config.route.v3.RouteAction",
    "envoy.config.route.v3.DirectResponseAction",
    "envoy.config.cluster.v3.Cluster",
    "envoy.config.endpoint.v3.ClusterLoadAssignment",
    "envoy.config.endpoint.v3.LocalityLbEndpoints",
    "envoy.config.endpoint.v3.LbEndpoint",
    "envoy.config.endpoint.v3.Endpoint",
    "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
    "envoy.extensions.filters.http.wasm.v3.Wasm",
    "envoy.extensions.filters.network.wasm.v3.Wasm",
    "envoy.extensions.filters.http.router.v3.Router",
    "envoy.extensions.wasm.v3.PluginConfig",
    "envoy.extensions.wasm.v3.VmConfig",
    "envoy.extensions.wasm.v3.EnvironmentVariables",
    "envoy.extensions.wasm.v3.WasmService",
    "udpa.type.v1.TypedStruct",
    "xds.type.v3.TypedStruct",
)

# Well-known types have a JSON form of their own (proto3 JSON mapping): a string, a number, any JSON.
WELL_KNOWN = {
    "google.protobuf.Duration": "duration",
    "google.protobuf.Timestamp": "timestamp",
    "google.protobuf.DoubleValue": "double",
    "google.protobuf.FloatValue": "float",
    "google.protobuf.Int64Value": "int64",
    "google.protobuf.UInt64Value": "uint64",
    "google.protobuf.Int32Value": "int32",
    "google.protobuf.UInt32Value": "uint32",
    "google.protobuf.BoolValue": "bool",
    "google.protobuf.StringValue": "string",
    "google.protobuf.BytesValue": "bytes",
    "google.protobuf.Struct": "struct",
    "google.protobuf.Value": "value",
    "google.protobuf.ListValue": "list",
    "google.protobuf.Any": "any",
    "google.protobuf.Empty": "empty",
    "google.protobuf.FieldMask": "string",
}

SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: "double", FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_INT64: "int64", FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32", FieldDescriptor.TYPE_FIXED64: "uint64",
    FieldDescriptor.TYPE_FIXED32: "uint32", FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_STRING: "string", FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_UINT32: "uint32", FieldDescriptor.TYPE_SFIXED32: "int32",
    FieldDescriptor.TYPE_SFIXED64: "int64", FieldDescriptor.TYPE_SINT32: "int32",
    FieldDescriptor.TYPE_SINT64: "int64",
}


def import_everything() -> None:
    """Load every generated module so the default descriptor pool knows every message."""
    for top in ("envoy", "udpa", "xds", "validate"):
        package = importlib.import_module(top)
        for info in pkgutil.walk_packages(package.__path__, top + "."):
            if info.name.endswith("_pb2"):
                try:
                    importlib.import_module(info.name)
                except Exception as exc:  # a few modules need optional deps; they are not ours
                    print(f"skipped {info.name}: {exc}", file=sys.stderr)


def pgv_rules(field: FieldDescriptor) -> dict[str, Any]:
    """The protoc-gen-validate rules we enforce: required, lengths, counts, numeric ranges, const."""
    from validate import validate_pb2

    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.rules):
        return {}
    rules = options.Extensions[validate_pb2.rules]
    out: dict[str, Any] = {}
    kind = rules.WhichOneof("type")
    if rules.HasField("message") and rules.message.required:
        out["required"] = True
    if kind is None:
        return out
    typed = getattr(rules, kind)
    if kind == "string":
        for key in ("min_len", "max_len", "min_bytes", "max_bytes", "prefix"):
            if typed.HasField(key):
                out[key] = getattr(typed, key)
        if typed.HasField("well_known_regex") or typed.HasField("pattern"):
            pass  # header-value syntax and regexes: not something we render from user input unchecked
    elif kind == "repeated":
        for key in ("min_items", "max_items"):
            if typed.HasField(key):
                out[key] = getattr(typed, key)
    elif kind in ("uint32", "uint64", "int32", "int64", "double", "float"):
        for key in ("gt", "gte", "lt", "lte", "const"):
            if typed.HasField(key):
                out[key] = getattr(typed, key)
        if list(typed.__getattribute__("in")):
            out["in"] = list(typed.__getattribute__("in"))
    elif kind == "bool":
        if typed.HasField("const"):
            out["const"] = typed.const
    elif kind == "duration":
        if typed.required:
            out["required"] = True
    elif kind == "enum":
        if typed.defined_only:
            out["defined_only"] = True
    elif kind in ("any", "message", "map", "bytes", "timestamp") and getattr(typed, "required", False):
        out["required"] = True
    return out


def field_type(field: FieldDescriptor, wanted: list[str], enums: dict[str, list[str]]) -> dict[str, Any]:
    if field.type in SCALARS:
        return {"type": SCALARS[field.type]}
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum: EnumDescriptor = field.enum_type
        enums[enum.full_name] = [v.name for v in enum.values]
        return {"type": "enum", "ref": enum.full_name}
    message: Descriptor = field.message_type
    if message.full_name in WELL_KNOWN:
        return {"type": WELL_KNOWN[message.full_name]}
    if message.GetOptions().map_entry:
        key, value = message.fields_by_name["key"], message.fields_by_name["value"]
        return {"type": "map", "key": SCALARS[key.type], "value": field_type(value, wanted, enums)}
    wanted.append(message.full_name)
    return {"type": "message", "ref": message.full_name}


def describe(message: Descriptor, wanted: list[str], enums: dict[str, list[str]]) -> dict[str, Any]:
    from validate import validate_pb2

    fields: dict[str, Any] = {}
    for field in message.fields:
        entry = field_type(field, wanted, enums)
        if field.is_repeated and entry["type"] != "map":
            entry["repeated"] = True
        if field.json_name != camel(field.name):
            entry["json"] = field.json_name
        oneof = field.containing_oneof
        if oneof is not None and not oneof.name.startswith("_"):  # "_x" = proto3 `optional`, not a real oneof
            entry["oneof"] = oneof.name
        if field.GetOptions().deprecated:
            entry["deprecated"] = True
        rules = pgv_rules(field)
        if rules:
            entry["rules"] = rules
        fields[field.name] = entry
    required_oneofs = [o.name for o in message.oneofs
                       if o.GetOptions().HasExtension(validate_pb2.required)
                       and o.GetOptions().Extensions[validate_pb2.required]]
    out: dict[str, Any] = {"fields": fields}
    if required_oneofs:
        out["required_oneofs"] = required_oneofs
    return out


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def main() -> None:
    import_everything()
    pool = descriptor_pool.Default()
    messages: dict[str, Any] = {}
    enums: dict[str, list[str]] = {}
    referenced: list[str] = []
    for name in EXPAND:
        messages[name] = describe(pool.FindMessageTypeByName(name), referenced, enums)
    from importlib.metadata import version

    table = {
        "source": f"xds-protos {version('xds-protos')} (envoyproxy/data-plane-api descriptors)",
        "generator": "dev/gen_envoy_api.py",
        "messages": messages,
        "enums": dict(sorted(enums.items())),
    }
    json.dump(table, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
