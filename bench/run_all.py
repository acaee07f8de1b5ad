"""Run every benchmark in bench/ and print one table of figures, baselines, ratios and targets.

Each benchmark is a standalone script that measures its own baseline in the same run and ends
each figure with a line `BENCH name=... value=... baseline=... ratio=... target=... ok=true|false`.
Usage: python bench/run_all.py [NAME_SUBSTRING ...]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELD = re.compile(r"(\w+)=(\S+)")
COLUMNS = ("name", "value", "baseline", "ratio", "target", "ok")


def scripts(filters: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    return [p for p in found if not filters or any(f in p.stem for f in filters)]


def run(script: Path) -> tuple[list[dict[str, str]], str | None]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    sys.stderr.write(f"{script.name}: exit {proc.returncode} in {elapsed:.0f} s\n")
    rows = [dict(FIELD.findall(line)) for line in proc.stdout.splitlines() if line.startswith("BENCH ")]
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return rows, f"{script.name} failed (exit {proc.returncode}): " + " | ".join(tail)
    if not rows:
        return rows, f"{script.name} printed no BENCH line"
    return rows, None


def table(rows: list[dict[str, str]]) -> str:
    widths = [max(len(c), *(len(r.get(c, "")) for r in rows)) for c in COLUMNS]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(r.get(c, "").ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    all_rows: list[dict[str, str]] = []
    problems: list[str] = []
    for script in scripts(argv):
        rows, problem = run(script)
        all_rows += rows
        if problem:
            problems.append(problem)
    print(table(all_rows))
    missed = [r["name"] for r in all_rows if r.get("ok") == "false"]
    if missed:
        print(f"\ntargets missed: {', '.join(missed)}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
