#!/usr/bin/env bash
# Regenerates models/default: a synthetic world from the journey generator, then the
# session encoder trained on its train split and evaluated on its test split.
# Usage: tools/train/train-default-model.sh [BUILD_DIR]   (default: build)
set -euo pipefail

build="$(cd "${1:-build}" && pwd)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"  # the model card records the command: keep its paths relative
world="${TMPDIR:-/tmp}/intentstream-world"

"$build/tools/journeygen/intentstream-journeygen" --seed 1 --customers 1000 --days 30 \
  --out "$world" --quiet
"$build/tools/train/intentstream-train" --train "$world/train" --eval "$world/test" \
  --out models/default --name default --epochs 40 --lr 0.004 --seed 7 --threads 1
