#!/usr/bin/env bash
# Distils the built-in bundle's six students from its stored teacher training data
# (models/builtin/teacher/train) with the shipped recipe (docs/student.md, "The shipped default
# student"), then evaluates every method on the test queries (`fastgda eval`, which saves
# models/builtin/eval/report.json).
# `cnn+text` is made the default student with the code's recipe (hidden layers of 1,024, learning
# rate 5e-4, chosen by held-out mAP: docs/student.md, "Tuning"); the other five keep the recipe
# they were shipped with, 512-wide layers and learning rate 1e-3.
# Resumable: a stopped run resumes each student after its last finished epoch (a checkpoint of
# other teacher data or options is not resumed). It learns from every finished query in
# teacher/train: the shipped students learnt from the first 1,835 (docs/student.md, "The shipped
# default student").
#
# FASTGDA_WORKERS distillations run at once (default 2), one thread each, as the teacher's workers
# share the 2-core machines best (docs/teacher.md, "The stored teacher data"; not measured for
# distillation). The list is ordered by the shipped students' measured times, longest first, so
# that the lanes end together; FASTGDA_SPACES overrides it. Hours of CPU (docs/student.md, "The
# shipped default student").
#
# FASTGDA_BIN (default build/app/fastgda) is the program that runs: a copy of it lets the tree be
# rebuilt while the distillations go on.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${FASTGDA_WORKERS:-2}"
export FASTGDA_BIN="${FASTGDA_BIN:-build/app/fastgda}"
spaces="${FASTGDA_SPACES:-cnn+text hog latent+text text cnn latent}"

distill_one() {
  set -o pipefail
  local space=$1 extra=()
  extra=(--hidden 512,512 --lr 1e-3)
  [ "$space" = cnn+text ] && extra=(--default)
  "$FASTGDA_BIN" distill --features "$space" --epochs 10 --threads 1 --json "${extra[@]}" \
    2>&1 | sed -u "s/^/[$space] /"
}
export -f distill_one

# shellcheck disable=SC2086 # one space name per word
# shellcheck disable=SC2016 # $1 is expanded by the inner bash
printf '%s\n' $spaces | xargs -P "$workers" -I{} bash -c 'distill_one "$1"' _ {}
"$FASTGDA_BIN" eval --threads "$workers" --json >/dev/null
echo "evaluation saved: models/builtin/eval/report.json"
