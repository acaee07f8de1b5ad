"""Benchmark: push + pull round trip of a 1 MB module against a local registry, vs `skopeo copy`.

Like with like: both sides move the same image (the compat image wasmbuild packs: ~1 MB module in
one tar+gzip layer, image config, manifest) up to a real registry (Debian's docker-registry on
127.0.0.1) and back down, as fresh processes, the way a user runs them:

- wasmbuild: `wasmbuild push REF` (reads the image kept in the store, verifies, uploads) then
  `wasmbuild pull REF` (downloads, verifies digests, unpacks, stores), run through the console
  script pip generates from [project.scripts] (bench/_abi.py writes the same launcher for this
  checkout), as users run it; `python -m wasmbuild` would add runpy's start-up, which no
  installed wasmbuild pays;
- skopeo:    `skopeo copy oci:LAYOUT docker://REF` (the same packed image from an OCI layout
  directory) then `skopeo copy docker://REF oci:OUT` (downloads and verifies into a layout).

Neither side is timed packing the image: skopeo's OCI layout is written before its timer starts,
and wasmbuild's module is stored the way `wasmbuild build` and `package` store one, which packs its
compat image then (wasmbuild.oci.layout; ~10 ms per MiB of module, once per build) so that push
sends it as is, as `docker push` sends the layers `docker build` made.

Every round uses fresh modules (different bytes for each tool), so neither finds its blobs
already in the registry. The rounds alternate which tool goes first; the figure is the median.
A line for the oci variant is printed too; the last line is the compat (default) variant.

For the record it also prints what start-up costs (2 x `wasmbuild --version`: interpreter, CLI
and no OCI code) and the same round trip through the Python API in one process (`push()` packs
the module there, compression included). With a 1 MB module on a local registry the transfer
itself takes milliseconds, so the CLI figure is mostly process start-up: CPython's (interpreter
~11 ms, imports ~20 ms, exit ~3 ms per command here) against a Go binary's (~12 ms).

    /work/venv/bin/python bench/oci_roundtrip.py [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
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

from _abi import console_script  # noqa: E402

from tests.fixtures.registry import start_registry  # noqa: E402
from tests.fixtures.wasm import wasm_module  # noqa: E402
from wasmbuild import runtime_config  # noqa: E402
from wasmbuild.oci import layout as kept  # noqa: E402
from wasmbuild.oci.image import Image, pack  # noqa: E402
from wasmbuild.store import Store  # noqa: E402

TARGET = 1.5
MODULE_BYTES = 1024 * 1024
RUNTIME_CONFIG = runtime_config.default(["v0.2.1"], ["bench_root"])


def module(tag: str) -> bytes:
    """A valid proxy-wasm module of ~1 MB: code plus a data segment of text-like bytes."""
    return wasm_module(tag, MODULE_BYTES)


def write_layout(image: Image, directory: Path, tag: str) -> None:
    """The image as an OCI image layout, which skopeo reads with `oci:DIR:TAG`."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in image.blobs():
        (blobs / blob.digest.split(":", 1)[1]).write_bytes(blob.data)
    (blobs / image.digest.split(":", 1)[1]).write_bytes(image.manifest)
    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (directory / "index.json").write_text(json.dumps(index))


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"error: {' '.join(argv)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def measure(variant: str, runs: int, host: str, work: Path, env: dict[str, str], wasmbuild: Path
            ) -> tuple[float, float]:
    store = Store(Path(env["WASMBUILD_HOME"]) / "store")
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(runs + 1):  # round 0 warms caches and is not counted
        mine = module(f"{variant}-wasmbuild-{i}")
        ref = f"{host}/bench/wasmbuild-{variant}:{i}"
        store.put(ref, mine, RUNTIME_CONFIG, image=kept.packed(mine, RUNTIME_CONFIG))  # as build, package do
        layout = work / f"{variant}-layout-{i}"
        write_layout(pack(module(f"{variant}-skopeo-{i}"), RUNTIME_CONFIG, variant), layout, "v1")
        remote = f"docker://{host}/bench/skopeo-{variant}:{i}"

        def run_ours() -> float:
            push = timed([str(wasmbuild), "push", "--variant", variant, ref], env)  # noqa: B023
            store.remove(ref)  # noqa: B023
            pull = timed([str(wasmbuild), "pull", ref], env)  # noqa: B023
            assert store.get(ref).read_module() == mine  # noqa: B023
            return push + pull

        def run_skopeo() -> float:
            push = timed(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:v1", remote], env)  # noqa: B023
            pull = timed(["skopeo", "copy", "-q", "--src-tls-verify=false", remote,  # noqa: B023
                          f"oci:{work / f'{variant}-out-{i}'}:v1"], env)  # noqa: B023
            return push + pull

        first, second = (run_ours, run_skopeo) if i % 2 else (run_skopeo, run_ours)
        a, b = first(), second()
        if i:
            (ours, theirs)[first is run_skopeo].append(a)
            (ours, theirs)[second is run_skopeo].append(b)
    return statistics.median(ours) * 1000, statistics.median(theirs) * 1000


def startup_floor(runs: int, env: dict[str, str], wasmbuild: Path) -> float:
    """`wasmbuild --version` (interpreter + CLI start-up, no OCI code): the part of each command
    that is not push or pull."""
    return statistics.median(timed([str(wasmbuild), "--version"], env) for _ in range(runs)) * 1000


def library(variant: str, runs: int, host: str) -> float:
    """push() + pull() through the Python API in this process (no start-up), for the record."""
    from wasmbuild import refs
    from wasmbuild.oci.pull import pull
    from wasmbuild.oci.push import push
    from wasmbuild.oci.registry import Registry

    store = Store(Path(tempfile.mkdtemp(prefix="wasmbuild-bench-lib-")) / "store")
    times = []
    for i in range(runs):
        ref = refs.parse(f"{host}/bench/library-{variant}:{i}")
        data = module(f"{variant}-library-{i}")
        start = time.perf_counter()
        with Registry(host) as registry, contextlib.redirect_stderr(io.StringIO()):
            push(registry, ref, data, RUNTIME_CONFIG, variant)
            pull(registry, ref, store)
        times.append(time.perf_counter() - start)
    shutil.rmtree(store.root.parent, ignore_errors=True)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for tool in ("docker-registry", "skopeo"):
        if shutil.which(tool) is None:
            raise SystemExit(f"error: {tool} is not installed (scripts/bootstrap-debian installs it)")
    work = Path(tempfile.mkdtemp(prefix="wasmbuild-bench-oci-"))
    env = dict(os.environ, PYTHONPATH=str(REPO), WASMBUILD_HOME=str(work / "home"), WASMBUILD_NO_PROGRESS="1")
    # An installed wasmbuild has its bytecode compiled; so should the checkout we measure.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "wasmbuild")], check=True,
                   stdout=subprocess.DEVNULL)
    wasmbuild = console_script(work)
    running = start_registry(work / "registry")
    host = running.server.host
    try:
        results = {variant: measure(variant, args.runs, host, work, env, wasmbuild) for variant in ("oci", "compat")}
        floor = startup_floor(args.runs, env, wasmbuild)
        in_process = {variant: library(variant, args.runs, host) for variant in ("oci", "compat")}
    finally:
        running.stop()
        shutil.rmtree(work, ignore_errors=True)
    for variant in ("oci", "compat"):
        ours, theirs = results[variant]
        print(f"{variant}: wasmbuild push+pull {ours:.0f} ms, skopeo copy up+down {theirs:.0f} ms "
              f"(median of {args.runs}, 1 MiB module); through the Python API, no start-up: "
              f"{in_process[variant]:.0f} ms")
    print(f"start-up share: 2 x 'wasmbuild --version' = {2 * floor:.0f} ms of each wasmbuild round trip")
    for variant in ("oci", "compat"):
        ours, theirs = results[variant]
        ratio = ours / theirs
        print(f"BENCH name=oci_roundtrip_{variant}_1mb value={ours:.1f}ms baseline={theirs:.1f}ms "
              f"ratio={ratio:.2f} target={TARGET} ok={'true' if ratio <= TARGET else 'false'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
