#!/usr/bin/env bash
# Side-by-side benchmark of direct memcached, twemproxy (Debian's nutcracker)
# and hashproxy, with `hashproxy bench` as the load generator.
#
# It starts 4 memcached nodes on free loopback ports; for each scenario it
# starts nutcracker and hashproxy afresh with the same ring (ketama,
# fnv1a_64, the 4 nodes), warms each target up, then measures the three
# targets interleaved, in a rotating order, for several rounds. "direct" is
# the load generator against the first memcached node alone (it holds the
# whole key space), the ceiling a proxy is compared with. Scenario u is
# scenario a with the proxies listening on Unix sockets (as a sidecar's
# clients can reach them); "direct" stays on TCP. Scenario t is scenario a
# with hashproxy reaching its own 4 memcached nodes over TLS (memcached -Z,
# a certificate made with openssl; the pool's tls section): nutcracker has
# no TLS, so it and "direct" stay plain, and the row shows what TLS to the
# nodes costs hashproxy against them.
#
# For each proxy it reads utime+stime from /proc/PID/stat before and after
# every run (CPU-seconds per million requests, over all rounds), the read and
# write system calls per request from /proc/PID/io, every system call per
# request when `perf` can count the process's (raw_syscalls:sys_enter; the
# poller's, peeks, futexes and epoll_ctl too, which /proc/PID/io leaves
# out), and VmHWM from /proc/PID/status at the end of the scenario (peak
# RSS). The table of
# medians is printed and written into bench/RESULTS.md, between its results
# markers when it has them (the notes around them are kept).
#
# Settings (environment):
#   ROUNDS=3 RUN_SECONDS=5 SCENARIOS="a b c d e u t" KEYS=10000 LOW_RATE=5000
#   MC_THREADS=2 HP_SERVER_CONNECTIONS=1 NC_SERVER_CONNECTIONS=1
#   HP_CPUS=2         hashproxy serve --cpus (default: hashproxy's own, 1)
#   HP_HOT_KEYS=off   hashproxy's admin.hot_keys (default: on, as hashproxy's)
#   PROFILE=b         save a CPU profile of hashproxy's first run of scenario
#                     b (any letter) to bench/out/
#   RESULTS=bench/RESULTS.md   where the table goes ("" to skip writing)
#
# It stops only the processes it started, by PID, when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
RUN_SECONDS=${RUN_SECONDS:-5}
SCENARIOS=${SCENARIOS:-"a b c d e u t"}
KEYS=${KEYS:-10000}
LOW_RATE=${LOW_RATE:-5000}
# Two threads per node: on a 2-CPU machine one thread caps the direct
# baseline at one core (measured: 2 threads gave 1.06x the ops/s of 1 at
# no pipelining and 1.7x with 16 in flight); the proxies' four nodes then
# have more threads than CPUs, which costs them little as idle threads sleep.
MC_THREADS=${MC_THREADS:-2}
HP_SERVER_CONNECTIONS=${HP_SERVER_CONNECTIONS:-1}
NC_SERVER_CONNECTIONS=${NC_SERVER_CONNECTIONS:-1}
HP_CPUS=${HP_CPUS:-}
HP_HOT_KEYS=${HP_HOT_KEYS:-on}
PROFILE=${PROFILE:-}
RESULTS=${RESULTS-bench/RESULTS.md}

die() { echo "bench: $*" >&2; exit 1; }

for sc in $SCENARIOS; do
  case "$sc" in a | b | c | d | e | u | t) ;; *) die "unknown scenario $sc (a to e, u, t)" ;; esac
done

find_program() {
  local p
  p=$(command -v "$1" 2>/dev/null) && { echo "$p"; return; }
  for d in /usr/sbin /usr/bin; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return; }
  done
  die "$1 is not installed (Debian: apt-get install $1)"
}
MEMCACHED=$(find_program memcached)
NUTCRACKER=$(find_program nutcracker)
command -v go >/dev/null || die "go is not installed"

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Up to 1,000 client connections go through each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# port_free PORT: nothing accepts on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port sets PORT to a loopback port that was free a moment ago (no
# socket uses it) and that this script has not handed out yet. It picks
# below the usual ephemeral range, where outgoing connections take theirs.
taken=" "
free_port() {
  local i
  for i in $(seq 1 500); do
    PORT=$((12000 + RANDOM % 20000))
    case "$taken" in *" $PORT "*) continue ;; esac
    if port_free "$PORT" && [ -z "$(ss -Htan "( sport = :$PORT )" 2>/dev/null)" ]; then
      taken+="$PORT "
      return
    fi
  done
  die "no free port"
}

# wait_port PORT: wait up to 5s until it accepts.
wait_port() {
  local i
  for i in $(seq 1 100); do
    port_free "$1" || return 0
    sleep 0.05
  done
  die "nothing listens on 127.0.0.1:$1"
}

# wait_socket PATH: wait up to 5s until the Unix socket at PATH accepts.
wait_socket() {
  local i
  for i in $(seq 1 100); do
    [ -S "$1" ] && "$HP" bench --target "$1" --requests 1 --get-ratio 1 --no-warmup --quiet >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "nothing listens on $1"
}

# stop_pid PID: stop a process this script started and forget it.
stop_pid() {
  local pid=$1 kept=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# syscalls PID: "reads writes", the read- and write-family system calls so far.
syscalls() { awk '/^syscr:/ {r = $2} /^syscw:/ {w = $2} END {print r, w}' "/proc/$1/io"; }
peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# start_counting PID FILE: count PID's system calls into FILE for the
# next RUN_SECONDS (a run's length), when perf is installed; sets COUNTER.
# stop_counting waits for the count.
PERF=$(command -v perf 2>/dev/null || true)
COUNTER=""
start_counting() {
  [ -n "$PERF" ] || return 0
  "$PERF" stat -x, -e raw_syscalls:sys_enter -p "$1" -o "$2" -- sleep "$RUN_SECONDS" 2>/dev/null &
  COUNTER=$!
  pids+=("$COUNTER")
}
stop_counting() {
  [ -n "$COUNTER" ] || return 0
  wait "$COUNTER" 2>/dev/null || true
  stop_pid "$COUNTER"
  COUNTER=""
}
# counted FILE: the count start_counting wrote, or 0 when there is none.
counted() { awk -F, '$3 ~ /raw_syscalls:sys_enter/ && $1 ~ /^[0-9]+$/ {print $1; n = 1} END {if (!n) print 0}' "$1" 2>/dev/null || echo 0; }

# json_field NAME FILE: a number from the indented JSON of `hashproxy bench`.
json_field() { awk -v k="\"$1\":" '$1 == k {gsub(/,/, "", $2); print $2; exit}' "$2"; }

echo "bench: building hashproxy" >&2
go build -o "$work/hashproxy" ./cmd/hashproxy
HP="$work/hashproxy"

user_args=()
[ "$(id -u)" = 0 ] && user_args=(-u root)
mc_ports=()
for n in 1 2 3 4; do
  free_port
  "$MEMCACHED" -l 127.0.0.1 -p "$PORT" -U 0 -m 256 -c 4096 -t "$MC_THREADS" "${user_args[@]}" &
  pids+=($!)
  mc_ports+=("$PORT")
done
for p in "${mc_ports[@]}"; do wait_port "$p"; done
DIRECT="127.0.0.1:${mc_ports[0]}"

# start_tls_nodes: for scenario t, 4 more memcached nodes that speak only
# TLS, with a self-signed certificate for 127.0.0.1 (also the CA hashproxy
# trusts); sets tls_ports.
tls_ports=()
start_tls_nodes() {
  [ ${#tls_ports[@]} -eq 0 ] || return 0
  local openssl n
  openssl=$(find_program openssl)
  "$openssl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/node.key" -out "$work/node.pem" 2>/dev/null || die "openssl could not make a certificate"
  for n in 1 2 3 4; do
    free_port
    "$MEMCACHED" -l 127.0.0.1 -p "$PORT" -U 0 -m 256 -c 4096 -t "$MC_THREADS" "${user_args[@]}" \
      -Z -o "ssl_chain_cert=$work/node.pem,ssl_key=$work/node.key" &
    pids+=($!)
    tls_ports+=("$PORT")
  done
  for p in "${tls_ports[@]}"; do wait_port "$p"; done
}

# start_proxies SCENARIO: start nutcracker and hashproxy, on TCP or (for
# scenario u) on Unix sockets; sets NC_PID, NC_ADDR, HP_PID, HP_ADDR,
# ADMIN_ADDR.
start_proxies() {
  local servers="" hp_servers="" hp_tls="" p
  for p in "${mc_ports[@]}"; do servers+="    - 127.0.0.1:$p:1"$'\n'; done
  hp_servers=$servers
  if [ "$1" = t ]; then
    start_tls_nodes
    hp_servers=""
    for p in "${tls_ports[@]}"; do hp_servers+="    - 127.0.0.1:$p:1"$'\n'; done
    hp_tls="    tls: {ca_file: $work/node.pem}"
  fi

  if [ "$1" = u ]; then
    NC_ADDR="$work/nutcracker.sock"
  else
    free_port; NC_ADDR="127.0.0.1:$PORT"
  fi
  free_port; local nc_stats=$PORT
  cat >"$work/nutcracker.yml" <<YML
bench:
  listen: $NC_ADDR
  hash: fnv1a_64
  distribution: ketama
  timeout: 2000
  backlog: 1024
  preconnect: true
  auto_eject_hosts: false
  server_connections: $NC_SERVER_CONNECTIONS
  servers:
$servers
YML
  "$NUTCRACKER" -c "$work/nutcracker.yml" -s "$nc_stats" -a 127.0.0.1 \
    -o "$work/nutcracker-$1.log" -p "$work/nutcracker.pid" &
  NC_PID=$!
  pids+=("$NC_PID")

  if [ "$1" = u ]; then
    HP_ADDR="$work/hashproxy.sock"
  else
    free_port; HP_ADDR="127.0.0.1:$PORT"
  fi
  free_port; ADMIN_ADDR="127.0.0.1:$PORT"
  local pprof=false
  [ "$PROFILE" = "$1" ] && pprof=true
  cat >"$work/hashproxy.yaml" <<YML
admin:
  listen: $ADMIN_ADDR
  pprof: $pprof
  hot_keys: $HP_HOT_KEYS
log:
  level: warn
pools:
  bench:
    listen: $HP_ADDR
    hash: fnv1a_64
    distribution: ketama
    timeout: 2s
    backlog: 1024
    preconnect: true
    client_connections: 0
    server_connections: $HP_SERVER_CONNECTIONS
$hp_tls
    servers:
$hp_servers
YML
  local cpus=()
  [ -n "$HP_CPUS" ] && cpus=(--cpus "$HP_CPUS")
  "$HP" serve --config "$work/hashproxy.yaml" "${cpus[@]}" 2>"$work/hashproxy-$1.log" &
  HP_PID=$!
  pids+=("$HP_PID")
  if [ "$1" = u ]; then
    wait_socket "$NC_ADDR"
    wait_socket "$HP_ADDR"
  else
    wait_port "${NC_ADDR##*:}"
    wait_port "${HP_ADDR##*:}"
  fi
}

scenario_flags() {
  case "$1" in
    a | u | t) echo "--conns 50 --pipeline 1 --get-ratio 0.9 --value-size 100" ;;
    b) echo "--conns 50 --pipeline 16 --get-ratio 0.9 --value-size 100" ;;
    c) echo "--conns 50 --pipeline 1 --get-ratio 0.9 --value-size 100 --multiget 10" ;;
    d) echo "--conns 1000 --pipeline 1 --get-ratio 0.9 --value-size 100 --rate $LOW_RATE" ;;
    e) echo "--conns 50 --pipeline 1 --get-ratio 0.9 --value-size 4096" ;;
  esac
}
scenario_title() {
  case "$1" in
    a) echo "(a) 50 conns, no pipelining, 90% gets, 100 B" ;;
    b) echo "(b) 50 conns x 16 in flight" ;;
    c) echo "(c) 10-key multi-gets" ;;
    d) echo "(d) 1,000 conns at $LOW_RATE req/s total" ;;
    e) echo "(e) 4 KiB values" ;;
    u) echo "(u) as (a), clients on a Unix socket" ;;
    t) echo "(t) as (a), hashproxy to its nodes over TLS" ;;
  esac
}

# One line per run: scenario target round ops_per_sec p99_us requests errors
# cpu_ticks reads writes syscalls
runs="$work/runs.txt"
: >"$runs"
# One line per scenario and proxy: scenario target peak_rss_kib
rss="$work/rss.txt"
: >"$rss"
mkdir -p bench/out

for sc in $SCENARIOS; do
  flags=$(scenario_flags "$sc")
  start_proxies "$sc"
  declare -A addr=([direct]=$DIRECT [nutcracker]=$NC_ADDR [hashproxy]=$HP_ADDR)
  declare -A pid=([direct]="" [nutcracker]=$NC_PID [hashproxy]=$HP_PID)
  targets=(direct nutcracker hashproxy)
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086 # flags are words
    "$HP" bench --target "${addr[$t]}" $flags --key-prefix "$sc:" --keys "$KEYS" \
      --get-ratio 0 --requests 1 --quiet >/dev/null || die "warm-up of $t failed"
  done
  for round in $(seq 1 "$ROUNDS"); do
    for i in 0 1 2; do
      t=${targets[$(((round + i) % 3))]}
      p=${pid[$t]}
      before=0 io_before="0 0"
      [ -n "$p" ] && before=$(cpu_ticks "$p") && io_before=$(syscalls "$p")
      prof=""
      if [ "$t" = hashproxy ] && [ "$PROFILE" = "$sc" ] && [ "$round" = 1 ]; then
        curl -s -o "bench/out/hashproxy-$sc.pprof" \
          "http://$ADMIN_ADDR/debug/pprof/profile?seconds=$((RUN_SECONDS - 1))" &
        prof=$!
      fi
      out="$work/$sc-$t-$round.json"
      count="$work/$sc-$t-$round.syscalls"
      : >"$count"
      [ -n "$p" ] && start_counting "$p" "$count"
      # shellcheck disable=SC2086
      "$HP" bench --target "${addr[$t]}" $flags --key-prefix "$sc:" --keys "$KEYS" \
        --duration "${RUN_SECONDS}s" --no-warmup --quiet --json >"$out" || true
      after=0 io_after="0 0"
      [ -n "$p" ] && after=$(cpu_ticks "$p") && io_after=$(syscalls "$p")
      stop_counting
      [ -n "$prof" ] && wait "$prof"
      ops=$(json_field ops_per_sec "$out"); p99=$(json_field p99 "$out")
      reqs=$(json_field requests "$out"); errs=$(json_field errors "$out")
      [ -n "$ops" ] || die "no result from $t in scenario $sc: $(cat "$out")"
      read -r r0 w0 <<<"$io_before"
      read -r r1 w1 <<<"$io_after"
      echo "$sc $t $round $ops $p99 $reqs $errs $((after - before)) $((r1 - r0)) $((w1 - w0)) $(counted "$count")" >>"$runs"
      printf 'bench: %s round %d %-10s %9.0f ops/s  p99 %7.0fus  errors %s\n' "$sc" "$round" "$t" "$ops" "$p99" "$errs" >&2
    done
  done
  echo "$sc nutcracker $(peak_rss_kib "$NC_PID")" >>"$rss"
  echo "$sc hashproxy $(peak_rss_kib "$HP_PID")" >>"$rss"
  stop_pid "$NC_PID"
  stop_pid "$HP_PID"
  unset addr pid
done

# The table: medians over rounds; CPU over all rounds.
table="$work/table.md"
clk=$(getconf CLK_TCK)
{
  echo "| scenario | target | ops/s (median) | vs nutcracker | vs direct | p99 µs (median) | CPU-s per 1M req | system calls per req: all (reads+writes) | peak RSS MiB | errors |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for sc in $SCENARIOS; do
    title=$(scenario_title "$sc")
    awk -v sc="$sc" -v title="$title" -v clk="$clk" '
      function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      FILENAME == ARGV[1] && $1 == sc { ops[$2] = ops[$2] " " $4; p99[$2] = p99[$2] " " $5; req[$2] += $6; err[$2] += $7; cpu[$2] += $8; rd[$2] += $9; wr[$2] += $10; sys[$2] += $11 }
      FILENAME == ARGV[2] && $1 == sc { rss[$2] = $3 }
      END {
        n = split("direct nutcracker hashproxy", ts, " ")
        for (i = 1; i <= n; i++) { m[ts[i]] = median(ops[ts[i]]) }
        for (i = 1; i <= n; i++) {
          t = ts[i]
          vn = m["nutcracker"] > 0 ? sprintf("%.2f×", m[t] / m["nutcracker"]) : "–"
          vd = m["direct"] > 0 ? sprintf("%.2f×", m[t] / m["direct"]) : "–"
          c = (t == "direct" || req[t] == 0) ? "–" : sprintf("%.2f", cpu[t] / clk / req[t] * 1e6)
          all = sys[t] > 0 ? sprintf("%.2f", sys[t] / req[t]) : "–"
          s = (t == "direct" || req[t] == 0) ? "–" : sprintf("%s (%.2f+%.2f)", all, rd[t] / req[t], wr[t] / req[t])
          r = (t in rss) ? sprintf("%.1f", rss[t] / 1024) : "–"
          printf "| %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s | %d |\n", (i == 1 ? title : ""), t, m[t], vn, vd, median(p99[t]), c, s, r, err[t]
        }
      }' "$runs" "$rss"
  done
} >"$table"

model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
header="$work/header.md"
{
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)'):"
  echo
  echo '```'
  echo "ROUNDS=$ROUNDS RUN_SECONDS=$RUN_SECONDS KEYS=$KEYS LOW_RATE=$LOW_RATE MC_THREADS=$MC_THREADS HP_SERVER_CONNECTIONS=$HP_SERVER_CONNECTIONS NC_SERVER_CONNECTIONS=$NC_SERVER_CONNECTIONS ${HP_CPUS:+HP_CPUS=$HP_CPUS }HP_HOT_KEYS=$HP_HOT_KEYS bash bench/run.sh"
  echo '```'
  echo
  echo "Machine: $(nproc) CPUs, ${model:-unknown CPU}, Linux $(uname -r); $("$MEMCACHED" -V), $("$NUTCRACKER" -V 2>&1 | head -1 | sed 's/^This is //'), $(go version | awk '{print $3}')."
  echo "Four memcached nodes with $MC_THREADS thread(s) each; \"direct\" is the load generator against the first node alone."
  echo "The load generator runs on the same machine and competes for its CPUs; $ROUNDS rounds of ${RUN_SECONDS}s, targets interleaved."
  echo
  cat "$table"
} >"$header"

cat "$header"
if [ -n "$RESULTS" ]; then
  begin='<!-- results:begin -->' end='<!-- results:end -->'
  if [ -f "$RESULTS" ] && grep -qF "$begin" "$RESULTS" && grep -qF "$end" "$RESULTS"; then
    awk -v b="$begin" -v e="$end" -v f="$header" '
      $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$RESULTS" >"$work/results.md"
  else
    { echo "# Benchmark results"; echo; echo "$begin"; cat "$header"; echo "$end"; } >"$work/results.md"
  fi
  cp "$work/results.md" "$RESULTS"
  echo "bench: wrote $RESULTS" >&2
fi
