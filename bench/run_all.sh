#!/usr/bin/env bash
# Run every benchmark; each prints its measurement, target and ratio.
set -euo pipefail
cd "$(dirname "$0")"
for b in bench_help.py bench_overhead.py bench_regenerate.py bench_batch.py bench_batch_api.py bench_sweep_scale.py; do
  echo "== $b"
  python "$b"
done
