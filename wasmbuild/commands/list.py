"""`wasmbuild list`: the modules in the local store, as `wasme list` showed them:
NAME, TAG, SIZE (SI units), SHA (the first 8 hex digits of the module's sha256), UPDATED."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON array (full digests, ISO 8601 times)")


def run(args: argparse.Namespace) -> int:
    from wasmbuild import console, refs
    from wasmbuild.build.units import human_age, human_size
    from wasmbuild.store import Store

    entries, damaged_entries = Store().contents()
    for damaged in damaged_entries:  # on stderr: stdout stays parseable
        what = damaged.ref or str(damaged.directory)
        fix = f"'wasmbuild rm {damaged.ref}' removes it" if damaged.ref else "delete that directory to remove it"
        console.warn(f"damaged store entry {what} ({damaged.problem}) not listed; {fix}")
    if args.json:
        from datetime import datetime, timezone  # only --json prints times as dates

        rows = []
        for entry in entries:
            ref = refs.parse(entry.ref)
            rows.append({"ref": entry.ref, "name": ref.name, "tag": ref.tag or "", "digest": entry.digest,
                         "size": entry.size,
                         "updated": datetime.fromtimestamp(entry.updated, timezone.utc).isoformat(),
                         "runtime_config": dict(entry.runtime_config)})
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    table = [("NAME", "TAG", "SIZE", "SHA", "UPDATED")]
    for entry in entries:
        ref = refs.parse(entry.ref)
        table.append((ref.name, ref.tag or ref.digest or "", human_size(entry.size), entry.sha256[:8],
                      human_age(entry.updated)))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        sys.stdout.write("  ".join([*padded, row[-1]]) + "\n")
    return 0
