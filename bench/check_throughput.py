"""Benchmark: one `check_files()` call over 1,000 modules, in MB/s of input (target >= 100 MB/s).

The modules are a deterministic mix of realistic sizes (16 KiB AssemblyScript-like filters up to
1.5 MiB Rust-like ones), each file distinct (its own custom section). Baseline, measured in the
same run over the same files: wasmtime's `Module.validate` (a full validator, in-process), so the
ratio says how much cheaper the ABI check is than validating. The files are in the page cache
(just written), as after a build or a checkout.

    python bench/check_throughput.py [--modules N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time

from _abi import bench_line, realistic_module, temp_dir

from tests.fixtures.wasm import with_custom
from wasmbuild.abi import check_files

SIZES_KIB = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536)
TARGET_MBPS = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    args = parser.parse_args()
    work = temp_dir("wasmbuild-bench-throughput-")
    try:
        bases = {kib: realistic_module(kib * 1024, seed=kib) for kib in SIZES_KIB}
        rng = random.Random(1000)
        paths = []
        total = 0
        for i in range(args.modules):
            module = with_custom(bases[rng.choice(SIZES_KIB)], "bench", i.to_bytes(4, "little"))
            path = work / f"m{i:04d}.wasm"
            path.write_bytes(module)
            paths.append(path)
            total += len(module)
        megabytes = total / 1e6

        start = time.perf_counter()
        reports = check_files(paths)
        ours = time.perf_counter() - start
        bad = [r for r in reports if not r.ok]
        if bad:
            raise SystemExit(f"{len(bad)} benchmark modules failed the check: {bad[0].findings}")

        import wasmtime

        from wasmbuild.abi import strict

        engine = strict.engine()
        start = time.perf_counter()
        for path in paths:
            wasmtime.Module.validate(engine, path.read_bytes())
        validate = time.perf_counter() - start

        value, baseline = megabytes / ours, megabytes / validate
        print(f"{args.modules} modules, {megabytes:.1f} MB, sizes {SIZES_KIB[0]} KiB to {SIZES_KIB[-1]} KiB")
        print(f"  check_files()             {ours * 1000:8.1f} ms  {value:9.1f} MB/s  "
              f"{args.modules / ours:8.0f} modules/s")
        print(f"  wasmtime Module.validate  {validate * 1000:8.1f} ms  {baseline:9.1f} MB/s  "
              f"{args.modules / validate:8.0f} modules/s")
        print(bench_line("check_throughput_mb_per_s", value, baseline, value / baseline, f">={TARGET_MBPS:.0f}",
                         value >= TARGET_MBPS))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
