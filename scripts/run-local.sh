#!/usr/bin/env bash
# Starts three local memcached nodes (installing Debian's memcached when it
# is missing) and hashproxy in front of them with configs/hashproxy.yaml.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v memcached >/dev/null 2>&1; then
  echo "installing memcached..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq memcached
fi

mkdir -p .run
go build -o .run/hashproxy ./cmd/hashproxy

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

user_args=()
[ "$(id -u)" = 0 ] && user_args=(-u root)
for port in 11311 11312 11313; do
  memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 "${user_args[@]}" &
  pids+=($!)
done

.run/hashproxy serve --config configs/hashproxy.yaml &
pids+=($!)
sleep 1

cat <<'MSG'

hashproxy listens on 127.0.0.1:22122 in front of memcached on 127.0.0.1:11311-11313.
Try it:
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/22122; printf "set greeting 0 0 5\r\nhello\r\nget greeting\r\nquit\r\n" >&3; cat <&3'
  .run/hashproxy ring --config configs/hashproxy.yaml greeting
  curl -s 127.0.0.1:22120/metrics | grep hashproxy_
Ctrl-C stops hashproxy and the three memcached nodes.
MSG
wait "${pids[-1]}"
