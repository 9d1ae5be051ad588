#!/usr/bin/env bash
# Set-up for the benchmarks only (`make bench`, `make bench-scale`): vegeta, an open-loop
# HTTP load generator (a fixed arrival rate, so tails are not hidden), built from the Go
# module proxy into the project's cache. The tests do not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
VEGETA_VERSION=v12.13.0
BIN="${CONSENTRY_CACHE_DIR:-$HOME/.cache/consentry}/bin"
if [ ! -x "$BIN/vegeta" ]; then
  command -v go >/dev/null || { echo "setup-bench: Go is needed to build vegeta" >&2; exit 1; }
  echo "setup-bench: building vegeta $VEGETA_VERSION"
  mkdir -p "$BIN"
  GOBIN="$BIN" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi
echo "vegeta: $BIN/vegeta"
