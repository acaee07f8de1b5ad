"""Header-only HTTP streams per second through the C++ add-header filter under wasmbuild's host.

Each stream is what Envoy runs for a request without a body: proxy_on_context_create, request
headers, response headers, proxy_on_log, proxy_on_done, proxy_on_delete, with the filter's host
calls (logging, reading its configuration, replacing and adding response headers) in between.
It goes through wasmbuild.testing, the API users' tests use.

The baseline, measured in the same run, is the floor any Python host on wasmtime pays: the same
six export calls per stream into a module whose callbacks do nothing, in a bare loop through
wasmtime's cheapest entry point. ratio = streams/s through the filter / streams/s of the floor.
Target: at least 5,000 streams a second.

The filter is the example `wasmbuild new --lang cpp` scaffolds, compiled directly with Debian's
clang 14 for wasm32-wasi against the bundled SDK (toolchains/sdk/cpp), as the direct build does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 5000.0
CONFIG = b'{"name": "x-bench", "value": "1"}'
CLANG = ("clang++", "--target=wasm32-wasi", "-std=c++17", "-O2", "-fno-exceptions", "-mexec-model=reactor",
         "-Wl,--strip-all")

FLOOR_WAT = """
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
"""


def build_cpp_filter(workdir: Path) -> Path:
    """Scaffold the C++ example and compile it with clang-wasi; returns the module path."""
    from wasmbuild import scaffold

    project = workdir / "add-header"
    answers = scaffold.Answers(name="add-header", language="cpp", root_id="add_header", abi="0.2.1",
                               sdk="bundled", platform="istio", platform_version="1.24")
    scaffold.create(answers, project)
    out = project / "build" / "filter.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    sdk = "third_party/proxy-wasm-cpp-sdk"
    argv = [*CLANG, f"-I{sdk}", "-o", "build/filter.wasm", "filter.cc", f"{sdk}/proxy_wasm_intrinsics.cc"]
    proc = subprocess.run(argv, cwd=project, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin",
                                                                                   "HOME": str(workdir)})
    if proc.returncode != 0:
        sys.exit(f"compiling the C++ filter failed:\n{proc.stderr[-3000:]}")
    return out


def best_rate(run: Callable[[int], None], seconds: float = 1.5, rounds: int = 3) -> float:
    """Operations per second: the best of `rounds` timed runs of about `seconds` each."""
    run(200)  # warm up (compiled code, caches)
    batch = 500
    best = 0.0
    for _ in range(rounds):
        done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            run(batch)
            done += batch
        best = max(best, done / (time.perf_counter() - start))
    return best


def filter_rate(module: Path) -> tuple[float, str]:
    from wasmbuild.testing import load_filter

    f = load_filter(module, root_id="add_header", plugin_config=CONFIG)
    stream = f.run_http()
    assert stream.response_headers["x-bench"] == "1" and stream.response_headers["hello"] == "world!", stream
    logs = len(f.vm.logs)

    def run(n: int) -> None:
        for _ in range(n):
            s = f.http_stream()
            s.send_request_headers(end_of_stream=True)
            s.send_response_headers(end_of_stream=True)
            s.finish()
        f.vm.logs.clear()  # a long run should not measure list growth

    rate = best_rate(run)
    return rate, f"{logs} log lines per stream+startup"


def floor_rate() -> float:
    import wasmtime

    from wasmbuild.host import loader, native
    from wasmbuild.host.tables import callback_signatures

    module = loader.compile_module(bytes(wasmtime.wat2wasm(FLOOR_WAT)))
    store = wasmtime.Store(loader.engine())
    instance = wasmtime.Instance(store, module, [])
    engine = native.Engine(store)
    engine.set_fuel(1 << 62)
    exports = instance.exports(store)
    sigs = callback_signatures("0.2.1")
    names = ("proxy_on_context_create", "proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_log",
             "proxy_on_done", "proxy_on_delete")
    calls = {}
    for name in names:
        func = exports[name]
        assert isinstance(func, wasmtime.Func)
        calls[name] = native.Export(name, func, sigs[name])
    create, request, response, log, done, delete = (calls[n] for n in names)
    call = engine.call

    def run(n: int) -> None:
        for i in range(n):
            ctx = i + 2
            call(create, (ctx, 1))
            call(request, (ctx, 4, 1))
            call(response, (ctx, 1, 1))
            call(log, (ctx,))
            call(done, (ctx,))
            call(delete, (ctx,))

    return best_rate(run)


def main() -> int:
    if shutil.which("clang++") is None:
        sys.exit("clang++ (Debian clang-14 with wasi-libc and libc++-dev-wasm32) is needed to build the filter")
    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        module = build_cpp_filter(Path(tmp))
        value, detail = filter_rate(module)
        baseline = floor_rate()
    ratio = value / baseline
    sys.stderr.write(f"C++ add-header filter: {value:,.0f} streams/s ({detail}); bare export-call floor: "
                     f"{baseline:,.0f} streams/s (6 calls each)\n")
    print(f"BENCH name=host_header_only_streams_per_s value={value:.0f} baseline={baseline:.0f} "
          f"ratio={ratio:.3f} target={TARGET:.0f} ok={'true' if value >= TARGET else 'false'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
