"""The ABI check every build ends with: an error finding fails the build (exit 4), warnings are shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wasmbuild import console
from wasmbuild.errors import BuildError

if TYPE_CHECKING:
    from wasmbuild.abi import Report


def check_module(module: bytes, abi: str | None, what: str) -> Report:
    """wasmbuild.abi.check's Report for the module; its warnings are printed, and any error
    finding raises BuildError listing them all (`what` names the module in the message)."""
    from wasmbuild.abi import check

    report = check(module, abi)
    errors = [f for f in report.findings if f.severity == "error"]
    for finding in report.findings:
        if finding.severity == "warning":
            console.warn(f"{finding.code}: {finding.message}")
    if errors:
        lines = "\n".join(f"  {f.code}{' (' + f.symbol + ')' if f.symbol else ''}: {f.message}" for f in errors)
        if errors[0].code in ("not-wasm", "malformed", "unreadable"):
            hint = "give a compiled .wasm module (the file itself is the problem, not its exports)"
        else:
            hint = "fix the module's exports/imports; 'wasmbuild check FILE' shows every finding"
        raise BuildError(f"{what} fails the proxy-wasm ABI check ({len(errors)} "
                         f"error{'s' if len(errors) != 1 else ''}):\n{lines}", hint)
    return report
