#!/usr/bin/env bash
# Regenerates models/offer: the offer propensity model trained on the world of the
# offline evaluation (journeygen --seed 7 --customers 3000 --days 60) against the
# session encoder in models/default, evaluated on its test split next to the evaluation
# tool's baselines. Re-run it whenever models/default changes: the offer model reads the
# encoder's embeddings. Also prints the tabular comparison on the bank marketing sample
# when it is there.
# Usage: tools/train/train-offer-model.sh [BUILD_DIR]   (default: build)
set -euo pipefail

build="$(cd "${1:-build}" && pwd)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"  # the model card records the command: keep its paths relative
world="${TMPDIR:-/tmp}/intentstream-offer-world"

if [ ! -f "$world/world.properties" ]; then
  nice "$build/tools/journeygen/intentstream-journeygen" --seed 7 --customers 3000 --days 60 \
    --out "$world" --quiet
fi
nice "$build/tools/offer/intentstream-offer" journeys --world "$world" --encoder models/default \
  --out models/offer --report "$world-report" --name offer --seed 7 --threads 1

bank="${BANK_CSV:-$root/../shared/data/bank-additional.csv}"
if [ -f "$bank" ]; then
  nice "$build/tools/offer/intentstream-offer" tabular --csv "$bank" --target y --leak duration
fi
