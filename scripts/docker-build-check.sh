#!/usr/bin/env bash
# Keeps the Dockerfile honest where no Docker engine runs: builds the binary
# with the command the Dockerfile runs (scripts/build.sh), checks that it is
# static and carries its version and commit, and that the configuration the
# image ships and the Kubernetes example agree with the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "docker-build-check: $*" >&2; exit 1; }

grep -q '^RUN sh scripts/build.sh /out/hashproxy ' Dockerfile ||
  fail "the Dockerfile no longer builds with scripts/build.sh"
go_minor=$(sed -n 's/^go \([0-9]*\.[0-9]*\).*/\1/p' go.mod)
grep -q "^FROM golang:${go_minor} AS build" Dockerfile ||
  fail "the Dockerfile's builder image is not golang:${go_minor}, the Go of go.mod"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bin="$dir/hashproxy"
sh scripts/build.sh "$bin" check-version check-commit

info=$(go version -m "$bin")
grep -q 'CGO_ENABLED=0' <<<"$info" || fail "the binary was built with cgo"
grep -q -- '-trimpath=true' <<<"$info" || fail "the binary was built without -trimpath"
if command -v readelf >/dev/null && readelf -l "$bin" | grep -q INTERP; then
  fail "the binary is dynamically linked; the image has no libc"
fi
"$bin" version | grep -q '^hashproxy check-version (commit check-commit, go' ||
  fail "version and commit are not set by the build: $("$bin" version)"

# The image's files and ports.
config=$(sed -n 's|^COPY configs/\([^ ]*\) /etc/hashproxy/hashproxy.yaml$|configs/\1|p' Dockerfile)
[ -n "$config" ] || fail "the Dockerfile does not install a configuration at /etc/hashproxy/hashproxy.yaml"
"$bin" check --config "$config" >/dev/null
grep -q '^EXPOSE 22122 22120$' Dockerfile || fail "the Dockerfile does not expose 22122 and 22120"
grep -q '^CMD \["serve", "--config", "/etc/hashproxy/hashproxy.yaml", "--watch-config"\]$' Dockerfile ||
  fail "the image does not serve its configuration with --watch-config"
grep -q 'args: \["serve", "--config", "/etc/hashproxy/hashproxy.yaml", "--watch-config"\]' configs/kubernetes-sidecar.yaml ||
  fail "the Kubernetes example does not run the image's configuration path"
grep -q 'mountPath: /etc/hashproxy$' configs/kubernetes-sidecar.yaml ||
  fail "the Kubernetes example does not mount its ConfigMap at /etc/hashproxy"
echo "docker-build-check: ok ($(du -h "$bin" | cut -f1) static binary)"
