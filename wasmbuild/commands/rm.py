"""`wasmbuild rm REF...`: remove references from the local store (the others stay)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("refs", nargs="+", metavar="REF", help="references to remove")


def run(args: argparse.Namespace) -> int:
    from wasmbuild import refs
    from wasmbuild.errors import NotFoundError
    from wasmbuild.store import Store

    canonical = [refs.normalize(ref) for ref in args.refs]  # all valid, or nothing is removed
    store = Store()
    missing: list[str] = []
    for ref in canonical:
        try:
            removed = store.remove(ref)
        except NotFoundError:
            missing.append(ref)
            continue
        sys.stdout.write(f"removed {removed}\n")
    if missing:
        raise NotFoundError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in the local store",
                            "run 'wasmbuild list' to see the stored modules")
    return 0
