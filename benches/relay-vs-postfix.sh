#!/usr/bin/env bash
# End-to-end relay load, one run: load -> phigate -> smtp-sink against
# load -> tuned Postfix -> smtp-sink, for each message size and session
# count. The load (benches/src/relay_load.rs) sends messages built from the
# corpus (clean ones: the sink has no TLS), 100 KiB ones with a base64 text
# attachment, reusing each session's connection. Each server is timed from
# the first message sent until its queue is empty (every message
# delivered). Printed per cell: msgs/s of each, phigate/Postfix, p50/p99
# accept latency (end of data to 250) of each, phigate's peak RSS.
# Needs root (Postfix's master) and the postfix package. Every run is
# bounded by LIMIT seconds.
#
# A second table sends with Postfix's own smtp-source (-F FILE, the
# connection reused, -d), a load tool we did not write, with files from
# bench-message: a 4 KiB clean note and the 100 KiB message of
# detector-vs-grep's input (b) (a note and a base64 CSV attachment).
# smtp-source reports no latencies; that table has throughput and RSS.
#
# Usage: benches/relay-vs-postfix.sh
#        SIZES="4096" SESSIONS_LIST="20" MESSAGES=300 benches/relay-vs-postfix.sh
#        TOOLS="smtp-source" benches/relay-vs-postfix.sh   (or "load", default both)
set -euo pipefail
SIZES=${SIZES:-"4096 102400"}
SESSIONS_LIST=${SESSIONS_LIST:-"20 100"}
TOOLS=${TOOLS:-"load smtp-source"}
LIMIT=${LIMIT:-600}
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
for t in smtp-sink smtp-source postfix script; do command -v "$t" >/dev/null || { echo "missing $t: scripts/install-test-tools" >&2; exit 2; }; done
cargo build --release -q -p phigate -p phigate-benches
bin=$PWD/target/release/phigate
load=$PWD/target/release/relay-load
work=$(mktemp -d /tmp/relaybench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Let them finish: phigate writes its last audit records on the way out.
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  script -q -c "postfix -c $work/pf/conf stop" /dev/null >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
now() { date +%s.%N; }
json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

sink=$(free_port)
smtp-sink -u nobody -c "127.0.0.1:$sink" 1000 >/dev/null 2>&1 & pids+=($!)
wait_port "$sink"

# Postfix, tuned for relaying: no inflow delay, enough processes and
# destination concurrency, connection caching; relayhost = the sink.
pf=$work/pf; mkdir -p "$pf/conf" "$pf/queue" "$pf/data"; chmod 755 "$work" "$pf"; chown postfix "$pf/data"
pp=$(free_port)
cat > "$pf/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
myhostname = bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$sink
in_flow_delay = 0s
default_process_limit = 200
default_destination_concurrency_limit = 40
smtp_destination_concurrency_limit = 40
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtp_connection_cache_on_demand = yes
maillog_file_prefixes = /tmp
maillog_file = $pf/maillog
CF
sed "s/^smtp      inet.*/127.0.0.1:$pp inet n - n - - smtpd/" /etc/postfix/master.cf > "$pf/conf/master.cf"
grep -q postlogd "$pf/conf/master.cf" || echo "postlog unix-dgram n - n - 1 postlogd" >> "$pf/conf/master.cf"
script -q -c "postfix -c $pf/conf check && postfix -c $pf/conf start" /dev/null >/dev/null
wait_port "$pp"

start_phigate() { # cell -> sets gp, gpid, gcfg
  gp=$(free_port)
  gcfg="$work/phigate-$1.toml"
  cat > "$gcfg" <<TOML
[server]
listen = ["127.0.0.1:$gp"]
max_connections_per_ip = 1000
[spool]
dir = "$work/spool-$1"
[audit]
dir = "$work/audit-$1"
signing_key = "$work/audit-signing.key"
[metrics]
listen = "127.0.0.1:0"
[delivery]
relay = "[127.0.0.1]:$sink"
concurrency = 100
per_destination = 40
[delivery.dns]
mode = "static"
TOML
  PHIGATE_LOG=warn "$bin" serve --config "$gcfg" 2>"$work/phigate-$1.log" & gpid=$!
  pids+=($gpid)
  wait_port "$gp"
}
phigate_waiting() { "$bin" queue list --json --config "$gcfg" | wc -l; }
postfix_waiting() { find "$pf/queue/maildrop" "$pf/queue/incoming" "$pf/queue/active" "$pf/queue/deferred" -type f 2>/dev/null | wc -l; }

drain() { # name waiting-fn -> waits until the server's queue is empty
  local end=$(( $(date +%s) + LIMIT ))
  until [ "$($2)" -eq 0 ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "$1: queue did not drain in ${LIMIT}s" >&2; exit 1; }
    sleep 0.05
  done
}

source_run() { # name port waiting-fn messages file sessions -> "msgs/s"
  local t0 t1
  t0=$(now)
  timeout "$LIMIT" smtp-source -d -m "$4" -s "$6" -F "$5" -f bench@clinic.example -t dest@partner.example "127.0.0.1:$2" \
    || { echo "$1: smtp-source failed" >&2; exit 1; }
  drain "$1" "$3"
  t1=$(now)
  echo "$(echo "$4 / ($t1 - $t0)" | bc -l)"
}

run() { # name port waiting-fn messages size sessions -> "msgs/s p50 p99"
  local t0 t1 out
  t0=$(now)
  out=$(timeout "$LIMIT" "$load" --addr "127.0.0.1:$2" --messages "$4" --size "$5" --sessions "$6" --limit "$LIMIT" --corpus tests/corpus/dev) \
    || { echo "$1: load failed: $out" >&2; exit 1; }
  drain "$1" "$3"
  t1=$(now)
  echo "$(echo "$4 / ($t1 - $t0)" | bc -l) $(json "$out" p50_ms) $(json "$out" p99_ms)"
}

cell=0   # each server run gets its own data directory
if [[ " $TOOLS " == *" load "* ]]; then
echo "load: relay-load (corpus messages; 100 KiB ones with a base64 text attachment)"
printf '%-8s %5s %6s  %12s %12s %8s  %17s %17s  %9s\n' size sess msgs "phigate/s" "Postfix/s" ratio "phigate p50/p99" "Postfix p50/p99" "peak RSS"
for size in $SIZES; do
  if [ -n "${MESSAGES:-}" ]; then n=$MESSAGES; elif [ "$size" -le 8192 ]; then n=3000; else n=600; fi
  for sessions in $SESSIONS_LIST; do
    cell=$((cell + 1))
    start_phigate "$cell"
    read -r rp p50 p99 < <(run phigate "$gp" phigate_waiting "$n" "$size" "$sessions")
    rss=$(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$gpid/status")
    kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true
    read -r rf f50 f99 < <(run postfix "$pp" postfix_waiting "$n" "$size" "$sessions")
    printf '%-8s %5s %6s  %12.0f %12.0f %7.2fx  %7.1f/%-6.1fms %7.1f/%-6.1fms  %9s\n' \
      "$size" "$sessions" "$n" "$rp" "$rf" "$(echo "$rp / $rf" | bc -l)" "$p50" "$p99" "$f50" "$f99" "$rss"
  done
done
fi

if [[ " $TOOLS " == *" smtp-source "* ]]; then
echo
echo "load: smtp-source -d -F FILE (bench-message 4k / 100k)"
printf '%-8s %5s %6s  %12s %12s %8s  %9s\n' size sess msgs "phigate/s" "Postfix/s" ratio "peak RSS"
for size in $SIZES; do
  if [ "$size" -le 8192 ]; then kind=4k; n=${MESSAGES:-3000}; else kind=100k; n=${MESSAGES:-600}; fi
  file=$work/msg-$kind.eml
  # smtp-source ends every line with CRLF itself: the file has bare LFs.
  "$PWD/target/release/bench-message" "$kind" | tr -d '\r' > "$file"
  for sessions in $SESSIONS_LIST; do
    cell=$((cell + 1))
    start_phigate "$cell"
    rp=$(source_run phigate "$gp" phigate_waiting "$n" "$file" "$sessions")
    rss=$(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$gpid/status")
    kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true
    rf=$(source_run postfix "$pp" postfix_waiting "$n" "$file" "$sessions")
    printf '%-8s %5s %6s  %12.0f %12.0f %7.2fx  %9s\n' "$(wc -c < "$file")" "$sessions" "$n" "$rp" "$rf" "$(echo "$rp / $rf" | bc -l)" "$rss"
  done
done
fi
