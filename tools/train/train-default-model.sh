#!/usr/bin/env bash
# Regenerates models/default: a synthetic world from the journey generator, then the
# session encoder trained on its train split (early stopping on its validation split)
# and evaluated on its test split. Then, for the model card, the same recipe on a CSV
# clickstream: the web events of another world (seed 2, web-heavy) written as CSV by
# world-to-csv.py, trained and evaluated through the CSV path; its table is appended to
# models/default/model_card.md.
# Usage: tools/train/train-default-model.sh [BUILD_DIR]   (default: build)
set -euo pipefail

build="$(cd "${1:-build}" && pwd)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"  # the model card records the command: keep its paths relative
tmp="${TMPDIR:-/tmp}"
world="$tmp/intentstream-world"
csv_world="$tmp/intentstream-csv-world"
csv="$tmp/intentstream-csv"
csv_model="$tmp/intentstream-csv-model"
train="$build/tools/train/intentstream-train"
recipe=(--epochs 60 --patience 10 --lr 0.004 --warmup 0.05 --dropout 0.1 --category-weight 3
  --window-cut random --seed 7 --threads 1)

"$build/tools/journeygen/intentstream-journeygen" --seed 1 --customers 1000 --days 30 \
  --out "$world" --quiet
"$train" --train "$world/train" --valid "$world/validation" --eval "$world/test" \
  --out models/default --name default "${recipe[@]}" --speed-probe-steps 40

"$build/tools/journeygen/intentstream-journeygen" --seed 2 --customers 700 --days 30 \
  --prospect-ratio 3 --web-sessions-per-day 0.3 --out "$csv_world" --quiet
python3 tools/train/world-to-csv.py "$csv_world" "$csv"
"$train" --train "$csv/train.csv" --valid "$csv/validation.csv" --eval "$csv/test.csv" \
  --csv-delimiter ';' --csv-visitor visitor --csv-time ts --csv-item page --csv-type event \
  --csv-product product --out "$csv_model" --name csv "${recipe[@]}"

{
  echo
  echo "## The same recipe on a CSV clickstream"
  echo
  echo "Trained and evaluated through the CSV path (tools/train/train-default-model.sh):"
  echo "the web events of another generated world (journeygen --seed 2 --customers 700"
  echo "--days 30 --prospect-ratio 3 --web-sessions-per-day 0.3), one row per event keyed"
  echo "by the anonymous visitor, with no identity links and no app events, written by"
  echo "tools/train/world-to-csv.py (';'-delimited, fractional Unix seconds)."
  echo
  sed -n '/^## Training data$/,/^## Limits$/p' "$csv_model/model_card.md" | sed '$d' |
    sed 's/^## /### /'
} >> models/default/model_card.md
