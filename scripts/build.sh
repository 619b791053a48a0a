#!/bin/sh
# Builds the release binary: static (no cgo), without local paths, with the
# version and commit that `hashproxy version` prints. The Dockerfile runs
# this script, and scripts/docker-build-check.sh runs it in CI, so both
# build with the same flags.
#
#   scripts/build.sh OUTPUT [VERSION [COMMIT]]
#
# VERSION defaults to `git describe`, COMMIT to `git rev-parse HEAD`, each
# falling back to dev and unknown outside a git checkout.
set -eu
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/build.sh OUTPUT [VERSION [COMMIT]]}
version=${2:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${3:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}

CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X main.version=$version -X main.commit=$commit" \
  -o "$out" ./cmd/hashproxy
