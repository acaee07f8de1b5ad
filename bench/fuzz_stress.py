"""Stress fuzz: at least 100,000 seeded mutations of valid modules through check(); nothing but
findings may come out, and no module wasmtime accepts may be called malformed.

The mutator (tests/fixtures/wasm.py) truncates, flips bytes, writes bogus LEB128 integers and huge
section sizes, shuffles and duplicates sections. Every case also goes through the in-memory and,
for one case in fifty, the file reader (which must agree), and through wasmtime's validator
(configured like --strict) as the reference. Figure: cases run; baseline: the 100,000 target.

    python bench/fuzz_stress.py [--cases N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
import traceback
from importlib.metadata import version

from _abi import bench_line, mutate, seed_modules, temp_dir

from wasmbuild.abi import CODES, SEVERITIES, check, read_module, strict
from wasmbuild.abi.reader import read_module_file

TARGET = 100_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=TARGET)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seeds = seed_modules()
    engine = strict.engine()
    work = temp_dir("wasmbuild-fuzz-")
    path = work / "mutant.wasm"
    crashes: list[str] = []
    false_malformed: list[int] = []
    disagreements: list[int] = []
    accepted = 0
    codes: dict[str, int] = {}
    start = time.perf_counter()
    try:
        for case in range(args.cases):
            data = mutate(rng.choice(seeds), rng)
            try:
                report = check(data)
                for finding in report.findings:
                    if finding.code not in CODES or finding.severity not in SEVERITIES:
                        crashes.append(f"case {case}: unknown finding {finding}")
                    codes[finding.code] = codes.get(finding.code, 0) + 1
                if case % 50 == 0:
                    path.write_bytes(data)
                    if read_module_file(path) != read_module(data):
                        disagreements.append(case)
            except Exception:  # the very thing this benchmark exists to catch
                crashes.append(f"case {case}: {traceback.format_exc(limit=3)}")
                continue
            if strict.validate(data, engine) is None:
                accepted += 1
                if any(f.code in ("malformed", "not-wasm") for f in report.findings):
                    false_malformed.append(case)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - start
    print(f"{args.cases} cases in {elapsed:.1f} s ({args.cases / elapsed:.0f}/s), seed {args.seed}, "
          f"reference: wasmtime {version('wasmtime')}")
    print(f"  mutants wasmtime accepts: {accepted}; called malformed by us: {len(false_malformed)}")
    print(f"  file reader disagreeing with the memory reader: {len(disagreements)}")
    print(f"  exceptions: {len(crashes)}")
    print("  findings: " + ", ".join(f"{code} {n}" for code, n in sorted(codes.items(), key=lambda kv: -kv[1])))
    for crash in crashes[:5]:
        print(crash, file=sys.stderr)
    if false_malformed:
        print(f"  first cases called malformed although valid: {false_malformed[:10]}", file=sys.stderr)
    ok = not crashes and not false_malformed and not disagreements and args.cases >= TARGET
    print(bench_line("fuzz_stress_cases", args.cases, TARGET, args.cases / TARGET, f">={TARGET}", ok))
    return 0


if __name__ == "__main__":
    sys.exit(main())
