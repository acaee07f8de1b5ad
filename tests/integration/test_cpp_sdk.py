"""The C++ SDK and template, end to end: the example filter built four ways (clang-wasi and
emscripten, each directly and through Bazel, offline), each a valid module that behaves as the
add-header example must under a recording proxy host; the seed article's filter; ABI versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wasmtime

from tests.fixtures.cpp_sdk import (
    COMPILE_PATHS,
    DATA_DIR,
    CppBuilds,
    compiler_env,
    configure_root,
    direct_argv,
    header,
    http_stream,
    run,
    start,
)
from tests.fixtures.recording_host import RecordingHost
from wasmbuild.abi import check

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]

REQUEST_HEADERS = [(b":method", b"GET"), (b":path", b"/"), (b":authority", b"example.com")]
RESPONSE_HEADERS = [(b":status", b"302"), (b"location", b"https://elsewhere/"), (b"content-length", b"0")]
DEBUG, WARN = 1, 3

# What a proxy may link besides env.proxy_*: cpp-host's extra env functions and WASI.
EXTRA_IMPORTS = {("env", "emscripten_notify_memory_growth")}


def run_example(module: Path, configuration: bytes, root_id: str = "add_header",
                allocator: str = "malloc") -> RecordingHost:
    host = RecordingHost(module, allocator=allocator)
    start(host)
    configure_root(host, root_id, configuration)
    return host


@pytest.mark.parametrize("path", COMPILE_PATHS)
def test_example_builds_to_a_valid_proxy_wasm_module(cpp_builds: CppBuilds, path: str) -> None:
    module_path = cpp_builds.module(path)
    report = check(module_path, abi="0.2.1", strict=True)
    assert report.errors == () and report.warnings == (), report.findings
    module = wasmtime.Module(wasmtime.Engine(), module_path.read_bytes())  # validates
    exports = {e.name: e.type for e in module.exports}
    for name in ("proxy_abi_version_0_2_1", "malloc", "proxy_on_memory_allocate", "_initialize", "memory",
                 "proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers",
                 "proxy_on_response_headers", "proxy_on_done", "proxy_on_log", "proxy_on_delete"):
        assert name in exports, name
    headers = exports["proxy_on_response_headers"]
    assert isinstance(headers, wasmtime.FuncType)
    assert [str(p) for p in headers.params] == ["i32", "i32", "i32"] and [str(r) for r in headers.results] == ["i32"]
    for imp in module.imports:
        name = imp.name or ""
        assert (imp.module == "env" and name.startswith("proxy_")) or (imp.module, name) in EXTRA_IMPORTS \
            or imp.module == "wasi_snapshot_preview1", f"{imp.module}.{name}"
    print(f"{path}: {module_path.stat().st_size} bytes")


@pytest.mark.parametrize("path", COMPILE_PATHS)
def test_example_adds_the_response_headers(cpp_builds: CppBuilds, path: str) -> None:
    config = json.dumps({"name": "x-wasm-filter", "value": "add-header"}).encode()
    host = run_example(cpp_builds.module(path), config)
    assert host.call("proxy_on_configure", 1, len(config)) == 1
    assert http_stream(host, 2, 1, REQUEST_HEADERS, RESPONSE_HEADERS) == (0, 0)  # both Continue
    assert header(host, 2, b"hello") == [b"world!"]
    assert header(host, 2, b"location") == [b"envoy-wasm"]
    assert header(host, 2, b"x-wasm-filter") == [b"add-header"]
    assert header(host, 2, b":status") == [b"302"]
    assert host.maps[0] == REQUEST_HEADERS  # requests pass untouched
    debug = [message for level, message in host.logs if level == DEBUG]
    assert any(m.endswith("onRequestHeaders 2 (3 headers)") for m in debug), debug
    assert any(m.endswith("onResponseHeaders 2") for m in debug), debug


@pytest.mark.parametrize("path", COMPILE_PATHS)
def test_example_without_configuration_adds_no_extra_header(cpp_builds: CppBuilds, path: str) -> None:
    for config in (b"", b"  \n", b"{}", b'{"name": null, "value": null}', b"\xef\xbb\xbf "):
        host = run_example(cpp_builds.module(path), config, allocator="proxy_on_memory_allocate")
        assert host.call("proxy_on_configure", 1, len(config)) == 1, config
        http_stream(host, 2, 1, REQUEST_HEADERS, [])
        assert sorted(host.maps[2]) == [(b"hello", b"world!"), (b"location", b"envoy-wasm")], config


# The same rules as the Rust and AssemblyScript examples: strict, and saying what is wrong.
BAD_CONFIGS = [b"not json", b"[]", b'"x"', b"{", b'{"name": "x"', b'{"name": "x",}', b'{"name": "x"} trailing',
               b'{"name": 1}', b'{"name": ["x"]}', b'{"nmae": "x"}', b'{"name": "x", "name": "y"}',
               b'{"value": "orphan"}', b'{"name": "bad name"}', b'{"name": "x", "value": "a\\r\\nb"}',
               b'{"name": "x", "value": "\\ud800"}', b'{"name": "x", "value": "\\udc00"}',
               b'{"name": "x", "value": "\\q"}', b'{"name": "x", "value": "raw\ttab"}',
               b'{"name": "x", "value": "nul\\u0000"}', b'{"name": "x", "value": "\xff"}',
               b'{"name": "x", "value": "\xc0\xaf"}', b'{"name": "x", "value": "\\u12"}', b"{\xff}"]


@pytest.mark.parametrize("path", COMPILE_PATHS)
def test_example_rejects_invalid_json_configuration(cpp_builds: CppBuilds, path: str) -> None:
    for config in BAD_CONFIGS:
        host = run_example(cpp_builds.module(path), config)
        assert host.call("proxy_on_configure", 1, len(config)) == 0, config
        assert any(level == WARN and "invalid plugin configuration" in m for level, m in host.logs), config


def test_example_reads_json_strings_exactly(cpp_builds: CppBuilds) -> None:
    config = '\ufeff { "value" : "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\/ ünï" ,\n\t"name": "x-v" } \n'
    host = run_example(cpp_builds.module("clang-wasi"), config.encode())
    http_stream(host, 2, 1, REQUEST_HEADERS, [])
    assert header(host, 2, b"x-v") == ['café 😀 "q" \\ / ünï'.encode()]
    host = run_example(cpp_builds.module("clang-wasi"), b'{"name": "x-empty"}')
    http_stream(host, 2, 1, REQUEST_HEADERS, [])
    assert header(host, 2, b"x-empty") == [b""]


def test_example_says_what_is_wrong_with_its_configuration(cpp_builds: CppBuilds) -> None:
    for config, problem in [
        (b'{"nmae": "x"}', 'unknown field "nmae" (expected "name" or "value") (at byte 1)'),
        (b"not json", 'expected a JSON object like {"name": "x-header", "value": "v"} (at byte 0)'),
        (b'{"name": "x y"}', '"x y" is not a valid header name'),
    ]:
        host = run_example(cpp_builds.module("clang-wasi"), config)
        assert next(m for level, m in host.logs if level == WARN).endswith("invalid plugin configuration: " + problem)


def test_unknown_root_id_warns_and_leaves_traffic_alone(cpp_builds: CppBuilds) -> None:
    host = run_example(cpp_builds.module("clang-wasi"), b'{"name": "x", "value": "y"}', root_id="other")
    assert any(level == WARN and 'no root context registered for root_id "other"' in m and '"add_header"' in m
               for level, m in host.logs), host.logs
    http_stream(host, 2, 1, REQUEST_HEADERS, RESPONSE_HEADERS)
    assert host.maps[2] == RESPONSE_HEADERS


@pytest.mark.parametrize("compiler", ["clang-wasi", "emcc"])
def test_seed_article_filter_compiles_unchanged_and_runs(tmp_path: Path, compiler: str) -> None:
    source = tmp_path / "filter.cc"
    source.write_bytes((DATA_DIR / "seed_filter.cc").read_bytes())
    sdk = Path(__file__).resolve().parents[2] / "toolchains" / "sdk" / "cpp"
    run(direct_argv(compiler, output="seed.wasm", sdk=str(sdk)), tmp_path, compiler_env(tmp_path))
    assert check(tmp_path / "seed.wasm", abi="0.2.1").errors == ()
    host = RecordingHost(tmp_path / "seed.wasm")
    start(host)
    assert configure_root(host, "add_header_root_id", b"x-seed=planted") == (1, 1)
    assert http_stream(host, 2, 1, REQUEST_HEADERS, RESPONSE_HEADERS) == (0, 0)
    assert header(host, 2, b"x-seed") == [b"planted"]
    assert header(host, 2, b"location") == [b"envoy-wasm"]
    assert header(host, 2, b"hello") == [b"world!"]
    # LOG_DEBUG prefixes "[file:line]::function() ".
    logged = [message.split("() ", 1)[1] for _, message in host.logs if "() " in message]
    assert "onResponseHeaders 2" in logged
    assert [m for m in logged if m.startswith(("onDone", "onLog", "onDelete"))] == ["onDone 2", "onLog 2", "onDelete 2"]


@pytest.mark.parametrize(("abi", "define", "header_params"), [
    ("0.1.0", "PROXY_WASM_ABI_VERSION_0_1_0", 2),
    ("0.2.0", "PROXY_WASM_ABI_VERSION_0_2_0", 3),
])
def test_older_abi_versions(cpp_builds: CppBuilds, tmp_path: Path, abi: str, define: str,
                            header_params: int) -> None:
    project = cpp_builds.project
    out = tmp_path / "filter.wasm"
    run(direct_argv("clang-wasi", output=str(out), defines=[define]), project, cpp_builds.env)
    report = check(out, abi=abi, strict=True)
    assert report.errors == () and report.warnings == (), report.findings
    module = wasmtime.Module(wasmtime.Engine(), out.read_bytes())
    exports = {e.name: e.type for e in module.exports}
    assert f"proxy_abi_version_{abi.replace('.', '_')}" in exports
    assert "proxy_abi_version_0_2_1" not in exports
    headers = exports["proxy_on_response_headers"]
    assert isinstance(headers, wasmtime.FuncType) and len(headers.params) == header_params
    # The host links only the functions of that ABI version: the module must not need others.
    config = b'{"name": "x-abi", "value": "' + abi.encode() + b'"}'
    host = RecordingHost(out, abi=abi)
    start(host)
    host.properties[b"plugin_root_id"] = b"add_header"
    host.call("proxy_on_context_create", 1, 0)
    if abi == "0.1.0":  # no configuration buffers yet: the SDK reads proxy_get_configuration
        host.reply("proxy_get_configuration", return_value=config)
    else:
        host.buffers[7] = config
    assert host.call("proxy_on_configure", 1, len(config)) == 1
    host.maps[2] = []
    host.call("proxy_on_context_create", 2, 1)
    args = (2, 0) if header_params == 2 else (2, 0, 0)
    assert host.call("proxy_on_response_headers", *args) == 0
    assert header(host, 2, b"x-abi") == [abi.encode()]



def test_bazel_and_direct_builds_are_byte_identical(cpp_builds: CppBuilds) -> None:
    """The same compiler gives the same module with or without Bazel, so `wasmbuild build` may
    use either mode (and a cache entry from one serves the other)."""
    for compiler in ("clang-wasi", "emcc"):
        direct = cpp_builds.module(compiler).read_bytes()
        assert cpp_builds.module(f"bazel-{compiler.removeprefix('clang-')}").read_bytes() == direct, compiler
