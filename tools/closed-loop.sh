#!/usr/bin/env bash
# The closed loop end to end (docs/closed-loop.md): an embedded mock Kafka cluster inside
# the processor (default models: session encoder models/default, offer model
# models/offer), the journey generator answering the processor's homepage tiles arm by
# arm, then the report. With the off-policy check (default on) a second processor run
# decides over the open-loop world of the same options, and the report sets IPS and SNIPS
# estimates of the processor's CTR from that logged world next to the closed-loop CTR.
#
#   bash tools/closed-loop.sh                         # 400 customers, 14 days (about 4 minutes on 2 shared cores)
#   bash tools/closed-loop.sh --customers 200 --days 7 --no-off-policy --out /tmp/cl
#
# Flags: --customers N, --days N, --seed N, --step-minutes N (simulated time per step,
# default 10), --holdout-percent X (the processor's holdout arm, default 50: treated
# and holdout each get a quarter of the customers, bank and oracle the other halves),
# --decision-wait-ms N (default 5000), --out DIR (default /tmp/intentstream-closed-loop),
# --build DIR (default build), --no-off-policy.
set -euo pipefail
cd "$(dirname "$0")/.."

customers=400 days=14 seed=1 step=10 holdout=50 wait_ms=5000
out=/tmp/intentstream-closed-loop build=build off_policy=1
while [ $# -gt 0 ]; do
  case "$1" in
    --customers) customers=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --step-minutes) step=$2; shift 2 ;;
    --holdout-percent) holdout=$2; shift 2 ;;
    --decision-wait-ms) wait_ms=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-off-policy) off_policy=0; shift ;;
    *) echo "closed-loop.sh: unknown flag $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
done
processor="$build/tools/intentstream/intentstream"
journeygen="$build/tools/journeygen/intentstream-journeygen"
evaluate="$build/tools/evaluate/intentstream-evaluate"
for binary in "$processor" "$journeygen" "$evaluate"; do
  [ -x "$binary" ] || {
    echo "closed-loop.sh: $binary missing; build it: cmake --build $build --target" \
      "intentstream intentstream-journeygen intentstream-evaluate" >&2
    exit 2
  }
done
rm -rf "$out"
mkdir -p "$out"
world=(--seed "$seed" --customers "$customers" --days "$days" --start-time-ms now --quiet)

pid=""
stop_processor() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2> /dev/null || true
    wait "$pid" || true
    pid=""
  fi
}
trap stop_processor EXIT

# Starts the processor with its own embedded cluster; sets $pid and $bootstrap.
#   - decision.holdout_percent: the generator's --holdout-percent must match it, so the
#     processor's holdout decisions land in the world's holdout arm.
#   - processing.max_task_idle_ms=100 and kafka.consumer.fetch.wait.max.ms=5: each step
#     is a round trip (records in, decisions out); the generator stops producing while
#     it waits, its partitions reach their end (trusted: processing.end_wait_ms=0), and
#     neither an idle wait nor a broker-side fetch wait should stretch the round trip.
start_processor() {
  local name=$1
  shift
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$processor" run --embedded --set "state.dir=$out/$name-state" \
    --set "http.listen=127.0.0.1:$port" --set model.dir=models/default \
    --set model.offer_dir=models/offer --set "decision.holdout_percent=$holdout" \
    --set processing.max_task_idle_ms=100 --set kafka.consumer.fetch.wait.max.ms=5 \
    "$@" > "$out/$name-processor.log" 2>&1 &
  pid=$!
  bootstrap=""
  for _ in $(seq 1 300); do
    bootstrap=$(sed -n 's/.*embedded Kafka (mock cluster) at \([0-9.:]*\).*/\1/p' \
      "$out/$name-processor.log" | head -n 1)
    [ -n "$bootstrap" ] && curl -sf "127.0.0.1:$port/readyz" > /dev/null && return 0
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.2
  done
  echo "closed-loop.sh: the processor did not start; see $out/$name-processor.log" >&2
  exit 1
}

echo "== closed loop: $customers customers, $days days, steps of $step min (logs in $out)"
start_processor closed
"$journeygen" "${world[@]}" --bootstrap "$bootstrap" --out "$out/closed" --closed-loop \
  --holdout-percent "$holdout" --step-minutes "$step" --decision-wait-ms "$wait_ms" \
  | tee "$out/closed-journeygen.txt" | grep '^closed loop:'
# Records the processor applied behind its task's event time: a visit's responses can
# come after later records of other customers of the same step (docs/closed-loop.md).
metrics=$(curl -sf "127.0.0.1:$port/metrics" || true)
late=$(awk '/^intentstream_late_events_lateness_seconds_count/ {n += $2} END {print n + 0}' <<< "$metrics")
accepted=$(awk '/^intentstream_input_messages_total/ {n += $2} END {print n + 0}' <<< "$metrics")
echo "processor: $accepted input records, $late applied late" | tee "$out/closed-processor-late.txt"
stop_processor

report=(--closed-loop "$out/closed" --out "$out/report")
if [ "$off_policy" = 1 ]; then
  echo "== logged world (open loop, bank policy) and the processor's decisions over it"
  start_processor logged --decisions-out "$out/logged-decisions.jsonl" --exit-when-idle-ms 5000
  "$journeygen" "${world[@]}" --bootstrap "$bootstrap" --out "$out/logged" > /dev/null
  wait "$pid"
  pid=""
  report+=(--logged "$out/logged" --logged-decisions "$out/logged-decisions.jsonl")
fi

echo "== report"
"$evaluate" "${report[@]}" | tee "$out/report.md"
