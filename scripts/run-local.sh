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
# listening reports whether 127.0.0.1:$1 accepts connections.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_listening waits up to 5 seconds for process $3, named $2, to accept
# connections on 127.0.0.1:$1, and fails if it exits or does not.
wait_listening() {
  for _ in $(seq 50); do
    kill -0 "$3" 2>/dev/null || { echo "$2 exited" >&2; return 1; }
    listening "$1" && return 0
    sleep 0.1
  done
  echo "$2 is not listening on 127.0.0.1:$1" >&2
  return 1
}

for port in 11311 11312 11313 22122 22120; do
  if listening "$port"; then
    echo "127.0.0.1:$port is already in use (another hashproxy or memcached?)" >&2
    exit 1
  fi
done

for port in 11311 11312 11313; do
  memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 "${user_args[@]}" &
  pids+=($!)
done
# hashproxy dials its nodes at start: with them listening first, its first
# lines say it connected, not that it could not.
i=0
for port in 11311 11312 11313; do
  wait_listening "$port" memcached "${pids[$i]}"
  i=$((i + 1))
done

.run/hashproxy serve --config configs/hashproxy.yaml &
pids+=($!)
wait_listening 22122 hashproxy "${pids[-1]}"

cat <<'MSG'

hashproxy listens on 127.0.0.1:22122 in front of memcached on 127.0.0.1:11311-11313.
Try it:
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/22122; printf "set greeting 0 0 5\r\nhello\r\nget greeting\r\nquit\r\n" >&3; cat <&3'
  .run/hashproxy ring --config configs/hashproxy.yaml greeting
  curl -s 127.0.0.1:22120/metrics | grep hashproxy_
Ctrl-C stops hashproxy and the three memcached nodes.
MSG
wait "${pids[-1]}"
