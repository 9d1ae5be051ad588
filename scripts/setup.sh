#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: system packages (Debian), the virtualenv with
# the pinned dependencies of requirements.lock, Kafka's jars from Maven Central, and
# kustomize built from the Go module proxy, AsyncAPI's JSON Schema from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
command -v mvn >/dev/null || missing+=(maven)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v promtool >/dev/null || missing+=(prometheus)  # local Prometheus and promtool
command -v setpriv >/dev/null || missing+=(util-linux)  # the launcher's parent-death signal
# The portal's browser tests drive Debian's Chromium through Playwright (Playwright's own
# browser download is not used); fonts so that pages render text.
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.consentry-installed
# The editable install maps the packages present when it ran: a new package reinstalls.
packages=$(find events services tools -mindepth 1 -maxdepth 1 -type d -name 'consentry_*' | sort | sha1sum)
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ] \
   || [ "$(cat "$stamp")" != "$packages" ]; then
  echo "setup: installing pinned Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --require-hashes -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$packages" > "$stamp"
fi

.venv/bin/consentry-stack fetch-kafka

# kustomize renders deploy/kubernetes (the manifests' tests run it), built with Go from
# the Go module proxy; the version is pinned here.
KUSTOMIZE_VERSION=v5.7.1
if [ "$(.tools/bin/kustomize version 2>/dev/null)" != "$KUSTOMIZE_VERSION" ]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  if [ ! -x "$go" ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >/dev/null
    go=$(command -v go)
  fi
  echo "setup: building kustomize $KUSTOMIZE_VERSION"
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi

# AsyncAPI's published JSON Schema, which docs/asyncapi.yaml is validated against in the
# tests, from its npm package (npm checks the tarball's integrity); the version pinned here.
ASYNCAPI_SPECS=6.11.1
spec=".tools/asyncapi/$ASYNCAPI_SPECS/3.0.0-without-\$id.json"
if [ ! -f "$spec" ]; then
  if ! command -v npm >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "setup: fetching AsyncAPI's JSON Schema (@asyncapi/specs $ASYNCAPI_SPECS)"
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "@asyncapi/specs@$ASYNCAPI_SPECS" >/dev/null)
  tar -xzf "$work"/asyncapi-specs-*.tgz -C "$work" "package/schemas/3.0.0-without-\$id.json"
  mkdir -p "$(dirname "$spec")"
  mv "$work/package/schemas/3.0.0-without-\$id.json" "$spec"
  rm -rf "$work"
fi
