#!/usr/bin/env bash
# The query-selection experiment of docs/student.md ("Choosing the teacher's next queries"),
# planned there before it ran: from the first 1,835 stored training queries, add 500 of the other
# 1,835 chosen by each rule (random twice, uncertainty, disagreement), distil each set with the
# shipped recipe and compare the students on the 64 test queries, paired per query with the first
# random draw's. It uses stored teacher results only (no teacher time).
#
# Everything lands in models/builtin/query-selection/: the chosen queries' ids (chosen-RULE.txt;
# the batch files are rebuilt from train.jsonl), each student (student.pt, 6 MB: committed, so the
# evaluation recomputes from committed files and a new machine needs no retraining), its
# scaling.json and loss.csv, and the evaluation (eval.json, paired.csv). Each step is skipped when
# its outputs exist and resumes its checkpoint otherwise; with FASTGDA_COMMIT=1 each step is
# committed as it finishes.
#
# FASTGDA_BIN (default build-torch2/app/fastgda): the program (a copy lets the tree be rebuilt
# meanwhile); FASTGDA_THREADS (default 2). About 2.5 hours on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${FASTGDA_BIN:-build-torch2/app/fastgda}"
threads="${FASTGDA_THREADS:-2}"
out=models/builtin/query-selection
plan=models/builtin/teacher/train.jsonl
start=1835 count=500
mkdir -p "$out"
# One run at a time on this machine (a second one waits, then skips what the first finished).
exec 9>"${TMPDIR:-/tmp}/fastgda-query-selection.lock"
flock 9
log() { echo "[query-selection $(date +%H:%M:%S)] $*"; }
commit() {  # message, paths...
  [ "${FASTGDA_COMMIT:-0}" = 1 ] || return 0
  local message=$1
  shift
  git add -- "$@" && git commit -q -m "$message" -- "$@" && log "committed: $message"
}

# The starting set and the pool: the plan's first round and its second.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
head -n $start "$plan" >"$scratch/start.jsonl"
tail -n +$((start + 1)) "$plan" >"$scratch/pool.jsonl"

# The scoring student, from the starting set alone.
# A student is done when its scaling.json and its student.pt are both there.
distilled() { [ -f "$1/scaling.json" ] && [ -f "$1/n-$2/student.pt" ]; }
if ! distilled "$out/start" $start; then
  "$bin" data-scaling --queries "$scratch/start.jsonl" --sizes $start --out "$out/start" \
    --threads "$threads" >"$scratch/start.log"
  log "starting student: $(tail -3 "$scratch/start.log" | tr '\n' ' ')"
  commit "Query selection: the student of the first $start training queries" \
    "$out/start/scaling.json" "$out/start/n-$start/loss.csv" "$out/start/n-$start/student.pt"
fi

# rule name, rule, seed
arms=("random random 0" "random-seed-1 random 1" "uncertainty uncertainty 0"
  "disagreement disagreement 0")
for arm in "${arms[@]}"; do
  read -r name rule seed <<<"$arm"
  if [ ! -f "$out/chosen-$name.txt" ]; then
    "$bin" teacher-plan --select "$rule" --seed "$seed" --pool "$scratch/pool.jsonl" \
      --count $count --student "$out/start/n-$start" --out "$scratch/chosen.jsonl" \
      --threads "$threads"
    python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' \
      "$scratch/chosen.jsonl" >"$out/chosen-$name.txt.tmp"
    mv "$out/chosen-$name.txt.tmp" "$out/chosen-$name.txt"
    commit "Query selection: $count queries chosen by $name" "$out/chosen-$name.txt"
  fi
  # The batch file again, from the ids (in the plan's order).
  grep -F -f <(sed 's/.*/"id":"&"/' "$out/chosen-$name.txt") "$scratch/pool.jsonl" \
    >"$scratch/chosen-$name.jsonl"
  [ "$(wc -l <"$scratch/chosen-$name.jsonl")" = $count ] || {
    echo "chosen-$name.txt: not $count queries of the pool" >&2
    exit 1
  }
  if ! distilled "$out/$name" $((start + count)); then
    "$bin" data-scaling --queries "$scratch/start.jsonl" --queries "$scratch/chosen-$name.jsonl" \
      --sizes $((start + count)) --out "$out/$name" --threads "$threads" >"$scratch/$name.log"
    log "$name: $(tail -3 "$scratch/$name.log" | tr '\n' ' ')"
    commit "Query selection: the student of the first $start and $count queries by $name" \
      "$out/$name/scaling.json" "$out/$name/n-$((start + count))/loss.csv" \
      "$out/$name/n-$((start + count))/student.pt"
  fi
done

# Every student on the 64 test queries, paired per query with the first random draw's.
methods=(--method "student-dir:$out/start/n-$start")
for arm in "${arms[@]}"; do
  read -r name _ _ <<<"$arm"
  methods+=(--method "student-dir:$out/$name/n-$((start + count))")
done
"$bin" eval --raw cnn+text --students cnn+text "${methods[@]}" --threads "$threads" \
  --save-report "$out/eval.json" --paired-with "student-dir:$out/random/n-$((start + count))" \
  >"$out/paired.csv.tmp" && mv "$out/paired.csv.tmp" "$out/paired.csv"
commit "Query selection: the students on the 64 test queries, paired with random's" \
  "$out/eval.json" "$out/paired.csv"
log "done: $out/paired.csv"
