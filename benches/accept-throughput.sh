#!/usr/bin/env bash
# Accept throughput of phigate's inbound path (SMTP in, fsync'd to the spool),
# driven by Postfix's smtp-source, measured in one run for:
#   - smtp-sink (no disk at all): the ceiling of the client and loopback
#   - phigate with group commit
#   - phigate with one fsync per message
#   - with BASELINE_REV=<git revision>: that revision's phigate, built in a
#     temporary worktree, with group commit, run in turn with this one
#     (ROUNDS each, default 2) on the same configuration
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
  # The two are run in turn, ROUNDS times each, on fresh spools with the
  # same configuration (when the baseline understands it), so neither gains
  # from running later or loses from running first.
  rounds=${ROUNDS:-2}
  sum_new=0; sum_base=0
  for r in $(seq "$rounds"); do
    for which in new base; do
      port=$(free_port)
      cfg="$work/ab-$which-$r.toml"
      sed -e "s|^listen = \[\"127.0.0.1:[0-9]*\"\]|listen = [\"127.0.0.1:$port\"]|" \
          -e "s|-true\"|-$which-$r\"|g" "$work/phigate-true.toml" > "$cfg"
      b="$bin"; [ "$which" = base ] && b="$base_bin"
      if [ "$which" = base ] && ! "$b" check-config "$cfg" >/dev/null 2>&1; then
        cat > "$cfg" <<TOML
[server]
listen = ["127.0.0.1:$port"]
max_connections_per_ip = 1000
[spool]
dir = "$work/spool-$which-$r"
[audit]
dir = "$work/audit-$which-$r"
TOML
        # Older revisions may not know [delivery.dns]: they had no delivery.
        if grep -q 'mode = "system"' <(cd "$(git rev-parse --show-toplevel)" && git show "$BASELINE_REV:config/phigate.default.toml" 2>/dev/null); then
          printf '[delivery.dns]\nmode = "static"\n' >> "$cfg"
        fi
      fi
      PHIGATE_LOG=warn "$b" serve --config "$cfg" 2>"$work/log-$which-$r" & pid=$!; pids+=($pid)
      wait_port "$port"
      secs=$(run_source "$port")
      kill "$pid"; wait "$pid" 2>/dev/null || true
      rate=$(echo "$MESSAGES / $secs" | bc -l)
      if [ "$which" = new ]; then sum_new=$(echo "$sum_new + $rate" | bc -l); else sum_base=$(echo "$sum_base + $rate" | bc -l); fi
    done
  done
  new=$(echo "$sum_new / $rounds" | bc -l); base=$(echo "$sum_base / $rounds" | bc -l)
  printf '%-34s %10.0f %10.2f
' "this revision, group commit (A/B)" "$new" "$(echo "$new / $sink" | bc -l)"
  printf '%-34s %10.0f %10.2f
' "baseline $BASELINE_REV (A/B)" "$base" "$(echo "$base / $sink" | bc -l)"
  printf 'this revision / baseline: %.2f (mean of %d alternating runs each)\n' "$(echo "$new / $base" | bc -l)" "$rounds"
fi
