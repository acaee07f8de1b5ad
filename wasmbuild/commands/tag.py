"""`wasmbuild tag SRC DST`: store a module that is in the store under another reference too."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="a reference in the local store")
    parser.add_argument("destination", metavar="DST", help="the new reference, e.g. localhost:5000/filters/x:v1")


def run(args: argparse.Namespace) -> int:
    from wasmbuild import refs
    from wasmbuild.store import Store

    destination = refs.normalize(args.destination)  # a bad DST fails before anything is read
    entry = Store().tag(refs.normalize(args.source), destination)
    sys.stdout.write(f"{entry.ref} sha256:{entry.sha256}\n")
    return 0
