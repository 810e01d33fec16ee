#!/usr/bin/env bash
# Accept throughput of phigate's inbound path (SMTP in, fsync'd to the spool),
# driven by Postfix's smtp-source, measured in one run for:
#   - smtp-sink (no disk at all): the ceiling of the client and loopback
#   - phigate with group commit
#   - phigate with one fsync per message
#   - with BASELINE_REV=<git revision>: that revision's phigate, built in a
#     temporary worktree, with group commit (e.g. the relay core before
#     inspection, policy and audit existed)
# Every run is bounded (timeout) and every message counted in the spool.
#
# Usage: benches/accept-throughput.sh            (10000 x 4 KiB, 20 sessions)
#        MESSAGES=2000 SIZE=102400 SESSIONS=100 benches/accept-throughput.sh
set -euo pipefail
MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
LIMIT=${LIMIT:-300}   # seconds per run
REUSE=${REUSE:-0}     # 1: smtp-source -d, many messages per connection

cd "$(dirname "$0")/.."
for tool in smtp-source smtp-sink; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool: apt-get install -y postfix" >&2; exit 2; }
done
export PATH="$PATH:/usr/sbin"
cargo build --release -q -p phigate
bin=target/release/phigate
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Let them finish: phigate writes its last audit records on the way out.
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

run_source() { # port -> seconds
  local t0 t1
  t0=$(date +%s.%N)
  local reuse=(); [ "$REUSE" = 1 ] && reuse=(-d)
  timeout "$LIMIT" smtp-source "${reuse[@]}" -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" \
    -f desk@clinic.example -t billing@payer.example "127.0.0.1:$1"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

printf '%-34s %10s %10s\n' "accept ($MESSAGES x $SIZE B, $SESSIONS sessions, reuse=$REUSE)" "msgs/s" "vs sink"

port=$(free_port)
sink_user=(); [ "$(id -u)" = 0 ] && sink_user=(-u nobody)  # smtp-sink refuses to run as root
smtp-sink "${sink_user[@]}" -c "127.0.0.1:$port" 1000 >/dev/null 2>&1 & pids+=($!)
wait_port "$port"
secs=$(run_source "$port")
sink=$(echo "$MESSAGES / $secs" | bc -l)
printf '%-34s %10.0f %10s\n' "smtp-sink (no disk)" "$sink" "1.00"

for gc in true false; do
  port=$(free_port)
  cat > "$work/phigate-$gc.toml" <<TOML
[server]
listen = ["127.0.0.1:$port"]
max_connections_per_ip = 1000
[spool]
dir = "$work/spool-$gc"
group_commit = $gc
[audit]
dir = "$work/audit-$gc"
signing_key = "$work/audit-key-$gc"
[metrics]
listen = "127.0.0.1:0"
# Measure acceptance only: no lookups (nothing leaves loopback), so every
# message stays deferred in the spool where it is counted.
[delivery.dns]
mode = "static"
TOML
  PHIGATE_LOG=warn "$bin" serve --config "$work/phigate-$gc.toml" 2>"$work/log-$gc" & pids+=($!)
  wait_port "$port"
  secs=$(run_source "$port")
  stored=$("$bin" queue list --json --config "$work/phigate-$gc.toml" | wc -l)
  [ "$stored" -eq "$MESSAGES" ] || { echo "group_commit=$gc: $stored of $MESSAGES spooled" >&2; exit 1; }
  rate=$(echo "$MESSAGES / $secs" | bc -l)
  label="phigate, group commit"; [ "$gc" = false ] && label="phigate, fsync per message"
  printf '%-34s %10.0f %10.2f\n' "$label" "$rate" "$(echo "$rate / $sink" | bc -l)"
  eval "rate_$gc=$rate"
done
printf 'group commit / fsync per message: %.1fx\n' "$(echo "$rate_true / $rate_false" | bc -l)"

if [ -n "${BASELINE_REV:-}" ]; then
  tree="$work/baseline"
  git worktree add -q --detach "$tree" "$BASELINE_REV"
  (cd "$tree" && CARGO_TARGET_DIR="$work/baseline-target" cargo build --release -q -p phigate)
  git worktree remove --force "$tree"
  base_bin="$work/baseline-target/release/phigate"
  port=$(free_port)
  cat > "$work/baseline.toml" <<TOML
[server]
listen = ["127.0.0.1:$port"]
max_connections_per_ip = 1000
[spool]
dir = "$work/spool-baseline"
[audit]
dir = "$work/audit-baseline"
TOML
  # Older revisions may not know [delivery.dns]: they had no delivery.
  if grep -q 'mode = "system"' <(cd "$(git rev-parse --show-toplevel)" && git show "$BASELINE_REV:config/phigate.default.toml" 2>/dev/null); then
    printf '[delivery.dns]\nmode = "static"\n' >> "$work/baseline.toml"
  fi
  PHIGATE_LOG=warn "$base_bin" serve --config "$work/baseline.toml" 2>"$work/log-baseline" & pids+=($!)
  wait_port "$port"
  secs=$(run_source "$port")
  base=$(echo "$MESSAGES / $secs" | bc -l)
  printf '%-34s %10.0f %10.2f\n' "baseline $BASELINE_REV, group commit" "$base" "$(echo "$base / $sink" | bc -l)"
  printf 'this revision / baseline: %.2f\n' "$(echo "$rate_true / $base" | bc -l)"
fi
