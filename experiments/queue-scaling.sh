#!/usr/bin/env bash
# Wall-clock of one sweep through the job queue with W `onward worker` processes (each --concurrency 1), on a
# fresh Redis (127.0.0.1, no persistence) each time. Each worker starts with setsid: its own scheduling group,
# as on separate machines (processes of one session share one CPU share under autogroup scheduling).
#
#   bash experiments/queue-scaling.sh W [STEPS=200] [SEEDS=8]      # prints wall-clock and load
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:?workers}; STEPS=${2:-200}; SEEDS=${3:-8}; PORT=$((17000 + RANDOM % 1000))
tmp=$(mktemp -d)
redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null 2>&1 & RP=$!
sleep 0.5
pids=()
for i in $(seq 1 "$W"); do
  setsid node --import tsx src/cli/bin.ts worker --queue redis://127.0.0.1:$PORT --concurrency 1 --quiet 2>"$tmp/worker-$i.log" & pids+=($!)
done
for i in $(seq 1 "$W"); do until grep -q "working on" "$tmp/worker-$i.log"; do sleep 0.2; done; done
load=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s.%N)
node --import tsx src/cli/bin.ts bench --tasks delayed-xor --learners rtrl --steps "$STEPS" --seeds "$SEEDS" --out "$tmp/out" \
  --queue redis://127.0.0.1:$PORT --collect --quiet
end=$(date +%s.%N)
echo "workers=$W runs=$SEEDS steps=$STEPS wall=$(echo "$end - $start" | bc) s load_before=[$load] load_after=[$(cut -d' ' -f1-3 /proc/loadavg)]"
for p in "${pids[@]}"; do kill -TERM "$p"; done; wait "${pids[@]}" 2>/dev/null || true
kill $RP; wait $RP 2>/dev/null || true
rm -rf "$tmp"
