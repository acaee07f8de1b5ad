"""The host's view of the proxy-wasm ABI, read from the shipped ABI data (wasmbuild/abi/data).

Which functions exist for which ABI version, their wasm signatures, the callbacks a module may
export, the enum values and the restricted-call allow-lists all come from that one JSON file,
so the host links exactly what Envoy's cpp-host would link and nothing is retyped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from wasmbuild.abi import spec

ABI_VERSIONS: Final = ("0.1.0", "0.2.0", "0.2.1")


@dataclass(frozen=True)
class Signature:
    """A wasm function type as value-type names, e.g. params=("i32", "i64"), results=("i32",)."""

    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@dataclass(frozen=True)
class HostFunction:
    """One import the host can satisfy."""

    module: str
    name: str
    signature: Signature


def _types(params: Any) -> tuple[str, ...]:
    """The value types of a parameter list in any of the JSON's spellings."""
    if isinstance(params, str):  # "i32 fd, i64 offset" (WASI table)
        return tuple(p.split()[0] for p in params.split(",") if p.strip())
    out = []
    for p in params:
        if isinstance(p, dict):
            out.append(p["type"])
        else:  # "i32 name" or "i32"
            out.append(str(p).split()[0])
    return tuple(out)


def _data() -> dict[str, Any]:
    return spec.load()


def _enum(key_prefix: str) -> dict[str, int]:
    for key, values in _data()["enums"].items():
        if key.split(" ")[0] == key_prefix:
            return {name.split(" ")[0]: int(v) for name, v in values.items()}
    raise KeyError(key_prefix)


# -- enums (values from the data; the names are the ones the spec and cpp-sdk use) -------------
_S = _enum("WasmResult")
_M = _enum("MapType")
_B = _enum("BufferType")
_T = _enum("StreamType")
_L = _enum("LogLevel")
_MT = _enum("MetricType")
_E = _enum("wasi_errno")


class Status:
    """proxy_status_t / WasmResult."""

    OK: Final = _S["Ok"]
    NOT_FOUND: Final = _S["NotFound"]
    BAD_ARGUMENT: Final = _S["BadArgument"]
    SERIALIZATION_FAILURE: Final = _S["SerializationFailure"]
    PARSE_FAILURE: Final = _S["ParseFailure"]
    INVALID_MEMORY_ACCESS: Final = _S["InvalidMemoryAccess"]
    EMPTY: Final = _S["Empty"]
    CAS_MISMATCH: Final = _S["CasMismatch"]
    INTERNAL_FAILURE: Final = _S["InternalFailure"]
    BROKEN_CONNECTION: Final = _S["BrokenConnection"]
    UNIMPLEMENTED: Final = _S["Unimplemented"]


class MapType:
    REQUEST_HEADERS: Final = _M["HttpRequestHeaders"]
    REQUEST_TRAILERS: Final = _M["HttpRequestTrailers"]
    RESPONSE_HEADERS: Final = _M["HttpResponseHeaders"]
    RESPONSE_TRAILERS: Final = _M["HttpResponseTrailers"]
    GRPC_INITIAL_METADATA: Final = _M["GrpcReceiveInitialMetadata"]
    GRPC_TRAILING_METADATA: Final = _M["GrpcReceiveTrailingMetadata"]
    HTTP_CALL_RESPONSE_HEADERS: Final = _M["HttpCallResponseHeaders"]
    HTTP_CALL_RESPONSE_TRAILERS: Final = _M["HttpCallResponseTrailers"]
    MAX: Final = max(_M.values())


class BufferType:
    REQUEST_BODY: Final = _B["HttpRequestBody"]
    RESPONSE_BODY: Final = _B["HttpResponseBody"]
    DOWNSTREAM_DATA: Final = _B["DownstreamData"]
    UPSTREAM_DATA: Final = _B["UpstreamData"]
    HTTP_CALL_RESPONSE_BODY: Final = _B["HttpCallResponseBody"]
    GRPC_RECEIVE_BUFFER: Final = _B["GrpcReceiveBuffer"]
    VM_CONFIGURATION: Final = _B["VmConfiguration"]
    PLUGIN_CONFIGURATION: Final = _B["PluginConfiguration"]
    FOREIGN_FUNCTION_ARGUMENTS: Final = _B["ForeignFunctionArguments"]
    MAX: Final = max(_B.values())


class StreamType:
    REQUEST: Final = _T["HttpRequest"]
    RESPONSE: Final = _T["HttpResponse"]
    DOWNSTREAM: Final = _T["Downstream"]
    UPSTREAM: Final = _T["Upstream"]
    MAX: Final = max(_T.values())


class MetricType:
    COUNTER: Final = _MT["Counter"]
    GAUGE: Final = _MT["Gauge"]
    HISTOGRAM: Final = _MT["Histogram"]
    MAX: Final = max(_MT.values())


class Errno:
    """The WASI errno values the host returns (the ones cpp-host returns)."""

    SUCCESS: Final = _E["SUCCESS"]
    BADF: Final = _E["BADF"]
    NOTDIR: Final = _E["NOTDIR"]
    FAULT: Final = _E["FAULT"]
    INVAL: Final = _E["INVAL"]
    NOENT: Final = _E["NOENT"]
    NOSYS: Final = _E["NOSYS"]
    NOTSUP: Final = _E["NOTSUP"]


#: log level value -> name, in the spelling `wasmbuild run --json` prints
LOG_LEVELS: Final[dict[int, str]] = {
    _L["Trace"]: "trace", _L["Debug"]: "debug", _L["Info"]: "info",
    _L["Warn"]: "warn", _L["Error"]: "error", _L["Critical"]: "critical",
}
LOG_LEVEL_VALUES: Final[dict[str, int]] = {name: value for value, name in LOG_LEVELS.items()}


# -- functions ---------------------------------------------------------------------------------
@cache
def markers() -> dict[str, str]:
    """ABI marker export name -> ABI version, for the versions a host accepts."""
    return {name: version for version, name in _data()["abi_markers"].items() if version in ABI_VERSIONS}


@cache
def proxy_function_versions() -> dict[str, tuple[str, ...]]:
    """Every env.proxy_* host function -> the ABI versions that have it (for error messages)."""
    return {f["name"]: tuple(f["abi"]) for f in _data()["host_functions"]}


@cache
def host_functions(abi: str) -> tuple[HostFunction, ...]:
    """Everything the host links for a module of ABI `abi`, as cpp-host (and Envoy) register it."""
    data = _data()
    registration = data["cpp_host_registration"]
    wanted = set(registration["proxy_common_all_versions"]) | set(registration["proxy_abi_specific"][abi])
    out = [HostFunction("env", f["name"], Signature(_types(f["params"]), tuple(f["results"])))
           for f in data["host_functions"] if f["name"] in wanted and abi in f["abi"]]
    for extra in data["extra_env_imports"]:
        out.append(HostFunction(extra["module"], extra["name"],
                                Signature(_types(extra["params"]), tuple(extra["results"]))))
    for module in registration["wasi_modules"]:
        for f in data["wasi_functions"]:
            results = () if f["result"] in ("", "—", "-") else (f["result"],)
            out.append(HostFunction(module, f["name"], Signature(_types(f["params"]), results)))
    return tuple(out)


@cache
def wasi_modules() -> tuple[str, ...]:
    return tuple(_data()["cpp_host_registration"]["wasi_modules"])


@cache
def callback_signatures(abi: str) -> dict[str, Signature]:
    """Module exports the host looks up (callbacks, entry points, allocators) -> expected type."""
    out: dict[str, Signature] = {}
    for export in _data()["module_exports"]:
        for sig in export["signatures"]:
            if abi in sig["abi"] and not export["name"].startswith("proxy_abi_version_"):
                out[export["name"]] = Signature(_types(sig["params"]), tuple(sig["results"]))
    for export in _data()["extra_module_exports"]:
        out.setdefault(export["name"], Signature(_types(export["params"]), tuple(export["results"])))
    return out


@cache
def restricted_during_start() -> frozenset[str]:
    """`module.name` of the host calls allowed while _initialize/_start/main run (V8's rule)."""
    return frozenset(_data()["cpp_host_registration"]["restricted_allowlist_during_start"])


@cache
def restricted_during_malloc() -> frozenset[str]:
    """`module.name` of the host calls allowed while the allocator runs."""
    return frozenset(_data()["cpp_host_registration"]["restricted_allowlist_during_malloc"])


@cache
def allocators() -> tuple[str, ...]:
    """Allocator exports in cpp-host's lookup order (malloc first)."""
    return tuple(_data()["cpp_host_registration"]["allocator_lookup_order"])


@cache
def limits() -> dict[str, int]:
    return {k: int(v) for k, v in _data()["cpp_host_registration"]["limits"].items()}
