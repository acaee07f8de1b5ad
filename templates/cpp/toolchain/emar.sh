#!/bin/sh
. "$(dirname "$0")/common.sh"
exec emar "$@"
