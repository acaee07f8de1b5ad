"""The thin, impure edge of deploy: hand rendered manifests to kubectl and report what it said.

kubectl, not a Python Kubernetes client: it already knows the user's kubeconfig, contexts, auth
plugins and proxies, and `kubectl apply` is what users would run by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence

from wasmbuild.errors import DeployError

TIMEOUT = 300.0


def executable() -> str:
    """The kubectl to run: $KUBECTL if set, else the one on PATH (DeployError if there is none)."""
    wanted = os.environ.get("KUBECTL") or "kubectl"
    found = shutil.which(wanted)
    if found is None:
        raise DeployError(f"{wanted} was not found on PATH",
                          "install kubectl (or set $KUBECTL), or leave out --apply to print the manifests")
    return found


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.lower().startswith("error"):
            return re.sub(r"^error:\s*", "", line, flags=re.IGNORECASE)
    return lines[-1] if lines else "(no message)"


def run(args: Sequence[str], stdin: str | None = None, context: str | None = None) -> str:
    """Run `kubectl [--context C] ARGS` with `stdin`; its standard output, or DeployError with its message."""
    argv = [executable()]
    if context:
        argv += ["--context", context]
    argv += list(args)
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise DeployError(f"kubectl {args[0]} did not finish within {TIMEOUT:.0f} s",
                          "check that the cluster is reachable ('kubectl cluster-info')") from None
    except OSError as exc:
        raise DeployError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        raise DeployError(f"kubectl {args[0]} failed: {_first_error(proc.stderr)}",
                          "check the cluster and context ('kubectl config current-context'); "
                          "leave out --apply to print the manifests instead")
    return proc.stdout


def apply(manifest: str, context: str | None = None) -> str:
    return run(["apply", "-f", "-"], manifest, context)


def delete(manifest: str, context: str | None = None, ignore_not_found: bool = False) -> str:
    args = ["delete", "-f", "-"]
    if ignore_not_found:
        args.append("--ignore-not-found")
    return run(args, manifest, context)
