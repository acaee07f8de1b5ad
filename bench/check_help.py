"""Benchmark: `wasmbuild check --help` vs a bare `python -c pass` (target: at most 30 ms more).

The CLI imports wasmtime, pydantic, docker and jinja2 only in the commands that need them, so
`check` (and its --help) costs little more than the interpreter's own start-up. Both run as a
user runs them (the console script pip generates), interleaved, bytecode caches warm; the
figures are the minimum wall-clock times of many runs.

    python bench/check_help.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _abi import bench_line, console_script, load_note, process_env, report_times, temp_dir, time_commands

TARGET_MS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    work = temp_dir("wasmbuild-bench-help-")
    try:
        wasmbuild = console_script(work)
        times = time_commands({"python -c pass": [sys.executable, "-c", "pass"],
                               "wasmbuild check --help": [str(wasmbuild), "check", "--help"],
                               "wasmbuild --help": [str(wasmbuild), "--help"]},
                              args.runs, process_env(work / "pycache"))
        print(f"{args.runs} interleaved runs each; {load_note()}")
        report_times(times, 24)
        baseline, ours = min(times["python -c pass"]), min(times["wasmbuild check --help"])
        extra = ours - baseline
        print(f"  check --help costs {extra:.1f} ms more than the bare interpreter")
        print(bench_line("check_help_extra_ms", extra, baseline, ours / baseline, f"<={TARGET_MS:.0f}",
                         extra <= TARGET_MS))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
