#!/usr/bin/env bash
# Makes the built-in bundle's teacher data with the chosen teacher (docs/teacher.md, "How
# repeatable the teacher is": diagonal Fisher, 512 query samples, 10 loss timesteps) in
# models/builtin/teacher/ (or $FASTGDA_TEACHER_OUT, to make another teacher's data beside it): the
# plan (3,670 training queries of 1,000 candidates, 64 test queries over the whole training set),
# then the test queries, then the training queries. Resumable: a rerun keeps every finished query
# and runs the others (on complete data it checks that all are there and stops). Hours of CPU
# (docs/teacher.md, "The stored teacher data").
#
# Runs FASTGDA_WORKERS workers (default 2) of FASTGDA_THREADS threads each (default 1): on the
# 2-core machines two one-thread workers finish 1.3 times as many queries per hour as one
# two-thread run (docs/teacher.md, "The stored teacher data"). Workers share the batch through its
# lock files; each goes on to the training queries when no test query is left for it.
#
# FASTGDA_TRAIN_QUERIES (default 3670, the stored plan's: two captions of each of the 1,835
# families that no test query uses, the first of every family before any second) is how many
# training queries the plan has: above the plan in the folder, the plan is extended (teacher-plan
# --extend: its queries stay, the new ones come from the next families, then the next round) and
# only the new queries are run.
#
# FASTGDA_BIN (default build/app/fastgda) is the program that runs: a copy of it lets the tree be
# rebuilt while the hours of teacher work go on.
#
# FASTGDA_CANDIDATES_FROM picks where a training query's 1,000 candidates come from (teacher-plan
# --candidates-from; default raw:cnn+text, the stored data's). The test queries do not depend on it: to
# make training data with other candidates beside the stored data, copy teacher/test.jsonl and
# teacher/test/ into $FASTGDA_TEACHER_OUT first, and only the training queries are run.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${FASTGDA_WORKERS:-2}"
threads="${FASTGDA_THREADS:-1}"
candidates_from="${FASTGDA_CANDIDATES_FROM:-raw:cnn+text}"
out="${FASTGDA_TEACHER_OUT:-models/builtin/teacher}"
train_queries="${FASTGDA_TRAIN_QUERIES:-3670}"
fastgda="${FASTGDA_BIN:-build/app/fastgda}"
plan=("$fastgda" teacher-plan --train "$train_queries" --test 64
  --candidates-from "$candidates_from" --out "$out" --threads $((workers * threads)))
if [ ! -f "$out/train.jsonl" ]; then
  "${plan[@]}"
elif [ "$(wc -l < "$out/train.jsonl")" -lt "$train_queries" ]; then
  "${plan[@]}" --extend
fi

worker() {
  for part in test train; do
    "$fastgda" teacher --batch "$out/$part.jsonl" --out "$out/$part" \
      --loss-timesteps 10 --threads "$threads"
  done
}

pids=()
for w in $(seq 1 "$workers"); do
  (worker 2>&1 | sed -u "s/^/[worker $w] /") &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
