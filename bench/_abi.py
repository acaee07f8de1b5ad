"""Shared pieces of the ABI checker benchmarks (bench/check_*.py, bench/fuzz_stress.py).

- deterministic modules: a realistic ~1 MB filter (many function bodies, a data segment, the
  whole 0.2.1 host API and WASI imported, hundreds of exports), and a mix of sizes for throughput;
- process timing that interleaves the commands compared, with bytecode caches warm for both
  and the minimum of many runs as the figure (timeit's advice: higher values come from other
  processes interfering, not from the code measured; the median is printed beside it)
  (as after `pip install`: this checkout runs with PYTHONDONTWRITEBYTECODE unset and a private
  PYTHONPYCACHEPREFIX, so nothing is written into the tree);
- the `BENCH name=... value=... baseline=... ratio=... target=... ok=...` line run_all.py collects.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fixtures.wasm import big_filter_wat, filter_module, mutate  # noqa: E402
from wasmbuild.abi.rules import rules  # noqa: E402

__all__ = ["REPO", "bench_line", "console_script", "host_imports_wat", "load_note", "mutate", "process_env",
           "realistic_module", "report_times", "seed_modules", "temp_dir", "time_commands"]


def bench_line(name: str, value: float, baseline: float, ratio: float, target: str, ok: bool) -> str:
    return (f"BENCH name={name} value={value:.2f} baseline={baseline:.2f} ratio={ratio:.3f} target={target} "
            f"ok={'true' if ok else 'false'}")


def host_imports_wat(abi: str = "0.2.1", wasi: str = "wasi_snapshot_preview1") -> str:
    """Every function a proxy-wasm host provides for `abi` (env and WASI), as WAT imports."""
    lines = []
    for (module, name), host in rules().imports.items():
        if module not in ("env", wasi) or abi not in host.versions or host.envoy_only:
            continue
        params = " ".join(host.type.params)
        results = " ".join(host.type.results)
        lines.append(f'  (import "{module}" "{name}" (func (param {params}) (result {results})))'
                     .replace("(param )", "").replace("(result )", ""))
    return "\n".join(lines)


def realistic_module(target_size: int = 1 << 20, seed: int = 0) -> bytes:
    """A filter of about `target_size` bytes: ~80% code, a data segment, a name section, the full
    host API imported and one function in eight exported."""
    import wasmtime

    imports = host_imports_wat()
    functions = max(1, int(target_size * 0.8 / 400))

    def build(data_bytes: int) -> bytes:
        text = big_filter_wat(functions=functions, data_bytes=data_bytes, seed=seed)
        text = text.replace("(module", "(module\n" + imports, 1)
        return bytes(wasmtime.wat2wasm(_dedupe_imports(text)))

    without_data = len(build(0))
    return build(max(0, target_size - without_data - 8))


def _dedupe_imports(text: str) -> str:
    """The filter template imports a few host functions itself; keep the first of each."""
    seen: set[str] = set()
    out = []
    for line in text.splitlines():
        key = line.strip()
        if key.startswith("(import "):
            name = " ".join(key.split()[1:3])
            if name in seen:
                continue
            seen.add(name)
        out.append(line)
    return "\n".join(out)


def seed_modules() -> list[bytes]:
    """Small valid modules of every ABI version and flavour, for mutation."""
    return [filter_module("0.1.0"), filter_module("0.2.0", allocator="proxy_on_memory_allocate", wasi="wasi_unstable"),
            filter_module("0.2.1", wasi="wasi_snapshot_preview1",
                          extra='(global (mut i32) (i32.const 7)) (table 2 funcref) (data (i32.const 64) "xyz")'),
            realistic_module(1 << 15, seed=3)]


def process_env(pycache: Path) -> dict[str, str]:
    """The environment of timed processes: bytecode cached (as an installed package has it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def console_script(directory: Path) -> Path:
    """A `wasmbuild` console script exactly like the one pip generates from [project.scripts]."""
    path = directory / "wasmbuild"
    path.write_text(
        f"#!{sys.executable}\n"
        "# -*- coding: utf-8 -*-\n"
        "import re\nimport sys\nfrom wasmbuild.cli import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n")
    path.chmod(0o755)
    return path


def time_commands(commands: dict[str, Sequence[str]], runs: int, env: dict[str, str],
                  warmup: int = 3) -> dict[str, list[float]]:
    """Wall-clock milliseconds of each command, `runs` times, interleaved so that load on the machine
    hits every command alike. Each command must exit 0 or 1 (1: a check that found errors).
    The CPU time (user + system, children included) of each run is kept under "<name> cpu"."""
    for _ in range(warmup):
        for argv in commands.values():
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: dict[str, list[float]] = {}
    for name in commands:
        times[name] = []
        times[f"{name} cpu"] = []
    for _ in range(runs):
        for name, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = (time.perf_counter() - start) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
            times[name].append(elapsed)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            times[f"{name} cpu"].append(cpu * 1000)
    return times


def report_times(times: dict[str, list[float]], width: int) -> None:
    print(f"  {'':{width}s} {'wall min':>9s} {'median':>8s} {'cpu min':>8s}")
    for name, values in times.items():
        if name.endswith(" cpu"):
            continue
        cpu = times[f"{name} cpu"]
        print(f"  {name:{width}s} {min(values):7.1f}ms {statistics.median(values):6.1f}ms {min(cpu):6.1f}ms")


def load_note() -> str:
    """The machine's load, printed beside timings: on a busy machine medians mean little."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
