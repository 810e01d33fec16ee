#!/usr/bin/env bash
# End-to-end relay throughput, one run: smtp-source -> phigate -> smtp-sink
# against smtp-source -> tuned Postfix -> smtp-sink. Each is timed from the
# first message sent until its queue is empty (every message delivered).
# Needs root (Postfix's master) and the postfix package.
#
# Usage: benches/relay-vs-postfix.sh        (5000 x 4 KiB, 20 sessions)
#        MESSAGES=2000 SIZE=102400 SESSIONS=100 benches/relay-vs-postfix.sh
set -euo pipefail
MESSAGES=${MESSAGES:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
LIMIT=${LIMIT:-600}
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
for t in smtp-source smtp-sink postfix script; do command -v "$t" >/dev/null || { echo "missing $t: scripts/install-test-tools" >&2; exit 2; }; done
cargo build --release -q -p phigate
bin=$PWD/target/release/phigate
work=$(mktemp -d /tmp/relaybench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  script -q -c "postfix -c $work/pf/conf stop" /dev/null >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
now() { date +%s.%N; }

sink=$(free_port)
smtp-sink -u nobody -c "127.0.0.1:$sink" 1000 >/dev/null 2>&1 & pids+=($!)
wait_port "$sink"

# phigate relaying everything to the sink.
gp=$(free_port)
cat > "$work/phigate.toml" <<TOML
[server]
listen = ["127.0.0.1:$gp"]
max_connections_per_ip = 1000
[spool]
dir = "$work/spool"
[audit]
dir = "$work/audit"
signing_key = "$work/audit-signing.key"
[delivery]
relay = "[127.0.0.1]:$sink"
concurrency = 100
per_destination = 40
[delivery.dns]
mode = "static"
TOML
PHIGATE_LOG=warn "$bin" serve --config "$work/phigate.toml" 2>"$work/phigate.log" & pids+=($!)
wait_port "$gp"

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

phigate_waiting() { "$bin" queue list --json --config "$work/phigate.toml" | wc -l; }
postfix_waiting() { find "$pf/queue/maildrop" "$pf/queue/incoming" "$pf/queue/active" "$pf/queue/deferred" -type f 2>/dev/null | wc -l; }

run() { # name port waiting-fn
  local t0 t1 end
  t0=$(now)
  timeout "$LIMIT" smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f desk@clinic.example -t billing@payer.example "127.0.0.1:$2"
  end=$(( $(date +%s) + LIMIT ))
  until [ "$($3)" -eq 0 ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "$1: queue did not drain in ${LIMIT}s" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(now)
  echo "$MESSAGES / ($t1 - $t0)" | bc -l
}

rp=$(run phigate "$gp" phigate_waiting)
rf=$(run postfix "$pp" postfix_waiting)
printf '%-48s %10s\n' "relay end to end ($MESSAGES x $SIZE B, $SESSIONS sessions)" "msgs/s"
printf '%-48s %10.0f\n' "phigate (inspected, fsync'd, delivered)" "$rp"
printf '%-48s %10.0f\n' "Postfix, tuned" "$rf"
printf 'phigate / Postfix: %.2fx\n' "$(echo "$rp / $rf" | bc -l)"
