# Sourced by emcc.sh and emar.sh: run Debian's emscripten with the prebuilt library cache it
# ships (FROZEN_CACHE), so nothing is built or downloaded, and without the sanity check that
# would want to write to that cache.
export EM_CACHE="${EM_CACHE:-/usr/share/emscripten/cache}"
export EMCC_SKIP_SANITY_CHECK=1
