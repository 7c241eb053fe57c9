#!/usr/bin/env bash
# Regenerates the built-in bundle's teacher data with the chosen teacher (README, "How repeatable
# the teacher is": diagonal Fisher, 512 query samples, 10 loss timesteps) into
# models/builtin/teacher-next/, beside the data in use: the plan (1,000 training queries of 1,000
# candidates, 64 test queries over the whole training set), then the test queries, then the
# training queries. Resumable: a rerun keeps every finished query. Hours of CPU (README).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${FASTGDA_THREADS:-2}"
next=models/builtin/teacher-next
[ -f "$next/test.jsonl" ] ||
  build/app/fastgda teacher-plan --train 1000 --test 64 --out "$next" --threads "$threads"
for part in test train; do
  build/app/fastgda teacher --batch "$next/$part.jsonl" --out "$next/$part" \
    --loss-timesteps 10 --threads "$threads"
done
