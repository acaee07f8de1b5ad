"""Benchmark: `wasmbuild new` per language, as a user runs it (a fresh process each time).

Prints the median milliseconds per language next to a bare `python -c pass` measured in the same
run, then one summary line. The target is "well under a second" for the slowest language:
500 ms, interpreter start-up included.

    /work/venv/bin/python bench/scaffold.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wasmbuild import scaffold  # noqa: E402
from wasmbuild.resources import templates_dir  # noqa: E402

TARGET_MS = 500.0


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    languages = [lang for lang in scaffold.LANGUAGES if (templates_dir() / lang).is_dir()]
    work = Path(tempfile.mkdtemp(prefix="wasmbuild-bench-"))
    try:
        baseline = statistics.median(_time([sys.executable, "-c", "pass"], env) for _ in range(args.runs))
        print(f"python -c pass: {baseline:.1f} ms (median of {args.runs})")
        results = {}
        for lang in languages:
            times = []
            for i in range(args.runs):
                target = work / f"{lang}-{i}"
                times.append(_time([sys.executable, "-m", "wasmbuild", "new", str(target), "--lang", lang,
                                    "--no-prompt"], env))
                shutil.rmtree(target)
            results[lang] = statistics.median(times)
            files = len(scaffold.plan(scaffold.resolve(language_name=lang, name="x")))
            print(f"wasmbuild new --lang {lang}: {results[lang]:.1f} ms ({files} files), "
                  f"{results[lang] / baseline:.1f}x python -c pass")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    slowest = max(results, key=lambda lang: results[lang])
    value = results[slowest]
    print(f"BENCH name=scaffold_{slowest}_ms value={value:.1f} baseline={baseline:.1f} "
          f"ratio={value / baseline:.2f} target={TARGET_MS:.0f} ok={'true' if value <= TARGET_MS else 'false'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
