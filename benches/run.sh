#!/usr/bin/env bash
# Reproducible benchmarks of the costform binary: one command runs them all.
#
#   bash benches/run.sh                 # everything, 5 runs each
#   RUNS=3 bash benches/run.sh          # fewer runs
#   RL_RUNS=1 bash benches/run.sh       # runs of each rate-limit row (default 3, 20 s each)
#   ONLY=plan bash benches/run.sh       # one group: validate | plan | apply | fetch | costs | ratelimit | postgres | foreach | lookup | focus
#   NO_BUILD=1 bash benches/run.sh      # reuse target/release/costform
#   NO_BUILD=1 COSTFORM_BIN=/tmp/old/costform bash benches/run.sh   # another build
#
# Prints a markdown table and writes it to benches/RESULTS.md with the date,
# the machine and the git commit. Needs python3, curl and GNU time
# (/usr/bin/time). Every server it starts is killed on exit; every loop is
# bounded. Only 127.0.0.1 is contacted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
CURL_RUNS=${CURL_RUNS:-3}
ONLY=${ONLY:-all}
BIN=${COSTFORM_BIN:-$ROOT/target/release/costform}
NOW=2026-11-26
LATER=2026-12-26
TOKEN=costform-demo-access-token
ACCEPT=application/vnd.atlas.2023-01-01+json

for tool in python3 curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "benches: \`$tool\` is required" >&2; exit 1; }
done

if [[ -z ${NO_BUILD:-} ]]; then
  echo "building the release binary..." >&2
  (cd "$ROOT" && cargo build --release --quiet -p costform-cli)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/costform-bench.XXXXXX")
EMULATOR_PIDS=()
POSTGRES_PID=
SHM=
cleanup() {
  local pid
  for pid in "${EMULATOR_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n $POSTGRES_PID ]]; then
    kill -INT "$POSTGRES_PID" 2>/dev/null || true
    wait "$POSTGRES_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  if [[ -n $SHM ]]; then rm -rf "$SHM"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ROWS=()      # markdown table rows
NOTES=()     # lines printed under the table

log() { echo "$*" >&2; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# maximum of the numbers on stdin
maximum() { sort -g | tail -n 1; }

# measure NAME SETUP -- COMMAND...
# Runs SETUP (a shell function, or `:`) then COMMAND, RUNS times. COMMAND's
# stdout goes to $WORK/NAME.out, stderr to $WORK/NAME.err; a non-zero exit
# aborts the benchmark. Sets MEDIAN_MS (wall, from the monotonic clock) and
# PEAK_MB (the highest max RSS over the runs, from GNU time).
measure() {
  local name=$1 setup=$2 runs=${MEASURE_RUNS:-$RUNS}
  shift 3
  local walls=() rss=() run start end
  for ((run = 1; run <= runs; run++)); do
    "$setup"
    start=$(date +%s%N)
    if ! /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
      log "benches: \`$name\` failed (run $run):"
      tail -n 20 "$WORK/$name.err" >&2
      exit 1
    fi
    end=$(date +%s%N)
    walls+=("$(((end - start) / 1000000))")
    rss+=("$(awk '{ print $2 }' "$WORK/$name.time")")
  done
  MEDIAN_MS=$(printf '%s\n' "${walls[@]}" | median)
  PEAK_MB=$(printf '%s\n' "${rss[@]}" | maximum | awk '{ printf "%.1f", $1 / 1024 }')
  log "  $name: wall ms ${walls[*]} -> median $MEDIAN_MS; peak RSS $PEAK_MB MB"
}

# verdict MS MB TARGET_MS TARGET_MB
verdict() {
  awk -v ms="$1" -v mb="$2" -v tms="$3" -v tmb="$4" 'BEGIN { print (ms < tms && mb < tmb) ? "met" : "**missed**" }'
}

# row BENCHMARK INPUT MS MB TARGET RESULT
row() {
  local mb="$4 MB"
  [[ $4 == "—" ]] && mb="—"
  ROWS+=("| $1 | $2 | $3 ms | $mb | $5 | $6 |")
}

# start_emulator LATENCY [EXTRA ARGS...] -> sets EMULATOR_URL
start_emulator() {
  local latency=$1 out="$WORK/emulator-$1-$#.out" attempt
  shift
  local args=(emulator --listen 127.0.0.1:0 --processing-polls 0 "$@")
  [[ $latency != 0 ]] && args+=(--latency "$latency")
  "$BIN" "${args[@]}" >"$out" 2>&1 &
  EMULATOR_PIDS+=($!)
  EMULATOR_URL=
  for ((attempt = 0; attempt < 100; attempt++)); do
    EMULATOR_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" | head -n 1 || true)
    [[ -n $EMULATOR_URL ]] && return 0
    sleep 0.05
  done
  log "benches: the emulator did not start:"
  cat "$out" >&2
  exit 1
}

# check_state STATE COUNT: every report has a 64-char token; prints the count
check_state() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
reports = json.load(open(sys.argv[1]))["reports"]
bad = [name for name, entry in reports.items() if len((entry.get("handle") or {}).get("token") or "") != 64]
if len(reports) != int(sys.argv[2]) or bad:
    sys.exit(f"state {sys.argv[1]}: {len(reports)} reports, expected {sys.argv[2]}; bad tokens: {bad[:5]}")
print(len(reports))
EOF
}

# results_written STATE DIR: the ready results the state records, the files
# in DIR and the rows they hold
results_written() {
  python3 - "$1" "$2" <<'EOF'
import json, os, sys
reports = json.load(open(sys.argv[1]))["reports"].values()
ready = [entry for entry in reports if entry.get("status") == "ready" and entry.get("result")]
rows = sum(entry["result"].get("rows", 0) for entry in ready)
print(f"{len(ready)} results ready, {len(os.listdir(sys.argv[2]))} files, {rows} rows")
EOF
}

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
DIRTY=
[[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no) ]] && DIRTY=" (with uncommitted changes in the checkout)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
log "costform $COMMIT$DIRTY on $(nproc) cores ($CPU); $RUNS runs each; work dir $WORK"

# ---------------------------------------------------------------------------
# 1. validate and render: 10,000 reports in 100 files
# ---------------------------------------------------------------------------
DEFS10K=$WORK/defs-10k
python3 "$ROOT/benches/gen-definitions.py" --reports 10000 --files 100 --out "$DEFS10K"

if [[ $ONLY == all || $ONLY == validate ]]; then
  log "validate / render (10,000 reports, 100 files)"
  measure validate : -- "$BIN" validate --dir "$DEFS10K" --now "$NOW"
  row "\`validate\`" "10,000 reports / 100 files" "$MEDIAN_MS" "$PEAK_MB" "< 300 ms, < 100 MB" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 300 100)"
  measure render : -- "$BIN" render --dir "$DEFS10K" --now "$NOW"
  rendered=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/render.out")
  row "\`render\`" "10,000 reports / 100 files" "$MEDIAN_MS" "$PEAK_MB" "< 300 ms, < 100 MB" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 300 100)"
  NOTES+=("- \`render\` printed $rendered request bodies ($(wc -c <"$WORK/render.out") bytes of JSON).")
fi

# ---------------------------------------------------------------------------
# 2. plan: 10,000 reports against a 10,000-entry state made by a real apply
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == plan ]]; then
  log "plan (10,000 reports, 10,000-entry state)"
  start_emulator 0
  STATE10K=$WORK/state-10k/costform.state.json
  mkdir -p "$(dirname "$STATE10K")"
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL MONGODB_ATLAS_ACCESS_TOKEN=$TOKEN
  MEASURE_RUNS=1 measure apply-10k : -- "$BIN" apply --dir "$DEFS10K" --state "$STATE10K" --now "$NOW" --auto-approve --parallelism 32
  unset MONGODB_ATLAS_BASE_URL MONGODB_ATLAS_ACCESS_TOKEN
  tokens=$(check_state "$STATE10K" 10000)
  row "\`apply\` (setup, 1 run)" "10,000 reports, no latency, \`--parallelism 32\`" "$MEDIAN_MS" "$PEAK_MB" "—" "$tokens tokens of 64 chars"
  NOTES+=("- The 10,000-entry state was made by one \`apply --parallelism 32\` against the emulator without latency: $tokens POSTs answered, $tokens tokens recorded, $(wc -c <"$STATE10K") bytes of state.")

  measure plan-nochange : -- "$BIN" plan --dir "$DEFS10K" --state "$STATE10K" --now "$NOW"
  if ! grep -q '^No changes\.' "$WORK/plan-nochange.out"; then
    log "benches: plan after apply is not \"No changes.\":"
    tail -n 5 "$WORK/plan-nochange.out" >&2
    exit 1
  fi
  row "\`plan\`, no changes" "10,000 reports, 10,000-entry state" "$MEDIAN_MS" "$PEAK_MB" "< 500 ms, < 150 MB" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 500 150)"

  measure plan-requery : -- "$BIN" plan --dir "$DEFS10K" --state "$STATE10K" --now "$LATER"
  summary=$(grep '^Plan:' "$WORK/plan-requery.out" || true)
  [[ -n $summary ]] || { log "benches: plan a month later has no \`Plan:\` line"; exit 1; }
  row "\`plan\`, templated dates moved a month" "10,000 reports, 10,000-entry state" "$MEDIAN_MS" "$PEAK_MB" "< 500 ms, < 150 MB" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 500 150)"
  NOTES+=("- \`plan --now $LATER\` (a month after the apply): \`$summary\` ($(wc -c <"$WORK/plan-requery.out") bytes printed); the other reports of gen-definitions.py have literal dates.")
fi

# ---------------------------------------------------------------------------
# 3. apply 1,000 reports at 20 ms latency vs 1,000 sequential curl POSTs
# 4. fetch 1,000 ready tokens at 20 ms latency
# ---------------------------------------------------------------------------
DEFS1K=$WORK/defs-1k
STATE1K=$WORK/state-1k/costform.state.json
fresh_state() { rm -rf "$(dirname "$STATE1K")"; mkdir -p "$(dirname "$STATE1K")"; }

if [[ $ONLY == all || $ONLY == apply || $ONLY == fetch || $ONLY == costs ]]; then
  python3 "$ROOT/benches/gen-definitions.py" --reports 1000 --files 10 --budgets --out "$DEFS1K"
  start_emulator 20ms
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL MONGODB_ATLAS_ACCESS_TOKEN=$TOKEN
  log "apply (1,000 reports, 20 ms latency, --parallelism 16)"
  measure apply-1k fresh_state -- "$BIN" apply --dir "$DEFS1K" --state "$STATE1K" --now "$NOW" --auto-approve --parallelism 16
  APPLY_MS=$MEDIAN_MS
  tokens=$(check_state "$STATE1K" 1000)
  row "\`apply --parallelism 16\`" "1,000 reports, 20 ms latency, fresh state" "$MEDIAN_MS" "$PEAK_MB" "≥ 10× the curl loop" "$tokens tokens of 64 chars"
  cp "$STATE1K" "$WORK/state-1k.applied.json"
fi

if [[ $ONLY == all || $ONLY == apply ]]; then
  log "curl loop (1,000 sequential POSTs, 20 ms latency)"
  # One line per request: the URL and the exact body costform sends.
  "$BIN" render --dir "$DEFS1K" --now "$NOW" >"$WORK/render-1k.json"
  python3 - "$WORK/render-1k.json" "$EMULATOR_URL" >"$WORK/requests.txt" <<'EOF'
import json, sys
base = sys.argv[2]
for report in json.load(open(sys.argv[1])).values():
    url = base + "/api/atlas/v2/orgs/" + report["org_id"] + "/billing/costExplorer/usage"
    print(url, json.dumps(report["request"], separators=(",", ":")))
EOF
  cat >"$WORK/curl-loop.sh" <<EOF
while read -r url body; do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST \\
    -H 'Authorization: Bearer $TOKEN' -H 'Accept: $ACCEPT' -H 'Content-Type: $ACCEPT' \\
    --data "\$body" "\$url"
done <"$WORK/requests.txt"
EOF
  MEASURE_RUNS=$CURL_RUNS measure curl-loop : -- bash "$WORK/curl-loop.sh"
  CURL_MS=$MEDIAN_MS
  codes=$(sort "$WORK/curl-loop.out" | uniq -c | awk '{ printf "%s%s× %s", sep, $1, $2; sep = ", " }')
  accepted=$(grep -c '^202$' "$WORK/curl-loop.out" || true)
  [[ $accepted == 1000 ]] || { log "benches: the curl loop got $codes"; exit 1; }
  ratio=$(awk -v c="$CURL_MS" -v a="$APPLY_MS" 'BEGIN { printf "%.1f", c / a }')
  row "1,000 sequential \`curl\` POSTs" "same emulator, headers and bodies ($CURL_RUNS runs)" "$CURL_MS" "—" "—" "$codes; costform ${ratio}× faster ($(awk -v r="$ratio" 'BEGIN { print (r >= 10) ? "met" : "**missed**" }'))"
  NOTES+=("- apply vs curl: ${APPLY_MS} ms vs ${CURL_MS} ms = **${ratio}×** (target ≥ 10×). Each curl run sent 1,000 POSTs, each costform run 1,000 POSTs (one token per report in the state).")
fi

if [[ $ONLY == all || $ONLY == fetch || $ONLY == costs ]]; then
  log "fetch (1,000 ready tokens, 20 ms latency, --parallelism 16)"
  restore_applied() {
    cp "$WORK/state-1k.applied.json" "$STATE1K"
    rm -rf "$WORK/results-1k"
  }
  measure fetch-1k restore_applied -- "$BIN" fetch --dir "$DEFS1K" --state "$STATE1K" --parallelism 16 --out-dir "$WORK/results-1k"
  written=$(results_written "$STATE1K" "$WORK/results-1k")
  row "\`fetch --parallelism 16\`" "1,000 ready tokens, 20 ms latency" "$MEDIAN_MS" "$PEAK_MB" "—" "$written"
  FETCH_MS=$MEDIAN_MS
  # The same on tmpfs, where fsync costs nothing: the difference is the time
  # fetch spends syncing result files and journal records.
  if [[ -d /dev/shm && -w /dev/shm ]]; then
    SHM=$(mktemp -d /dev/shm/costform-bench.XXXXXX)
    restore_applied_shm() {
      cp "$WORK/state-1k.applied.json" "$SHM/costform.state.json"
      rm -rf "$SHM/results"
    }
    measure fetch-1k-tmpfs restore_applied_shm -- "$BIN" fetch --dir "$DEFS1K" --state "$SHM/costform.state.json" --parallelism 16 --out-dir "$SHM/results"
    row "\`fetch --parallelism 16\`, state and results on tmpfs" "same, fsync free" "$MEDIAN_MS" "$PEAK_MB" "—" "$(ls "$SHM/results" | wc -l) files"
    NOTES+=("- fetch: ${FETCH_MS} ms on disk vs ${MEDIAN_MS} ms on tmpfs; the floor is 1,000 × 20 ms / 16 = 1250 ms.")
  fi
fi

# ---------------------------------------------------------------------------
# 5. costs and check over the 1,000 results fetched above (offline)
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == costs ]]; then
  # The results as the last fetch left them, in the state's own folder.
  COSTS_STATE=$WORK/costs/costform.state.json
  mkdir -p "$WORK/costs"
  restore_applied
  "$BIN" fetch --dir "$DEFS1K" --state "$STATE1K" --parallelism 16 -q >/dev/null
  cp -r "$(dirname "$STATE1K")/." "$WORK/costs/"
  cost_rows=$("$BIN" costs --dir "$DEFS1K" --state "$COSTS_STATE" --format csv --by day | tail -n +2 | wc -l)
  log "costs / check ($cost_rows table cells from 1,000 results)"
  measure costs-text : -- "$BIN" costs --dir "$DEFS1K" --state "$COSTS_STATE" --now "$NOW" --compare previous
  row "\`costs --compare previous\`" "1,000 results, $cost_rows cells" "$MEDIAN_MS" "$PEAK_MB" "< 300 ms" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 300 1000)"
  measure costs-html : -- "$BIN" costs --dir "$DEFS1K" --state "$COSTS_STATE" --now "$NOW" --compare previous --format html --out "$WORK/costs.html"
  row "\`costs --compare previous --format html\`" "same ($(wc -c <"$WORK/costs.html") bytes written)" "$MEDIAN_MS" "$PEAK_MB" "< 1 s" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 1000 1000)"
  check_status=0
  "$BIN" check --dir "$DEFS1K" --state "$COSTS_STATE" --now "$NOW" >"$WORK/check.txt" 2>&1 || check_status=$?
  [[ $check_status == 0 || $check_status == 3 ]] || { log "benches: check failed:"; tail -n 5 "$WORK/check.txt" >&2; exit 1; }
  # Exit 3 (a breach) is a result here, not a failure.
  measure check : -- bash -c '"$0" check --dir "$1" --state "$2" --now "$3" || [ $? = 3 ]' "$BIN" "$DEFS1K" "$COSTS_STATE" "$NOW"
  row "\`check\`" "1,000 reports with budgets" "$MEDIAN_MS" "$PEAK_MB" "< 300 ms" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 300 1000); $(tail -n 1 "$WORK/check.txt")"
fi

# ---------------------------------------------------------------------------
# 6. rate limits: the emulator meters each organization as Atlas does, with a
#    bucket of 10 requests refilled by 5 every 2 s; apply --parallelism 16
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == ratelimit ]]; then
  RL_RUNS=${RL_RUNS:-3}
  start_emulator 0 --token-bucket 10:5/2s
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL MONGODB_ATLAS_ACCESS_TOKEN=$TOKEN
  # 60 reports of one organization; 60 of two (the second file's 30 moved to
  # another organization, so each organization's reports are listed together).
  python3 "$ROOT/benches/gen-definitions.py" --reports 60 --files 1 --out "$WORK/defs-rl-one"
  python3 "$ROOT/benches/gen-definitions.py" --reports 60 --files 2 --out "$WORK/defs-rl-two"
  sed -i 's/^  org_id: "{{ var.org }}"$/  org_id: 65a1b2c3d4e5f6a7b8c9d0e1/' "$WORK/defs-rl-two/defs-001.yaml"
  STATE_RL=$WORK/state-rl/costform.state.json
  # Each run starts on a fresh state and full buckets (two refills of 5 take
  # 4 s; the pause is not timed).
  rl_fresh() { rm -rf "$(dirname "$STATE_RL")"; mkdir -p "$(dirname "$STATE_RL")"; sleep 6; }
  # One apply at -v; appends the run's "POSTS 429S" to COUNTS, counted from
  # its retry lines (every POST beyond the 60 is a retry).
  cat >"$WORK/rl-apply.sh" <<'SCRIPT'
bin=$1 defs=$2 state=$3 now=$4 counts=$5
"$bin" -v apply --dir "$defs" --state "$state" --now "$now" --auto-approve --parallelism 16 2>"$counts.err" || { cat "$counts.err" >&2; exit 1; }
retries=$(grep -c 'retrying atlas request' "$counts.err" || true)
limited=$(grep 'retrying atlas request' "$counts.err" | grep -c '429' || true)
echo "$((60 + retries)) $limited" >>"$counts"
SCRIPT
  # rl_row NAME INPUT TARGET_MS TARGET_TEXT MAX_429
  rl_row() {
    local counts="$WORK/$1.counts" posts limited verdict runs
    posts=$(awk '{ print $1 }' "$counts" | median)
    limited=$(awk '{ print $2 }' "$counts" | median)
    verdict=$(awk -v ms="$MEDIAN_MS" -v t="$3" -v l="$limited" -v lt="$5" 'BEGIN { print (ms <= t && l <= lt) ? "met" : "**missed**" }')
    runs=$(awk '{ printf "%s%s/%s", sep, $1, $2; sep = ", " }' "$counts")
    row "$2" "60 reports, \`--parallelism 16\`, bucket 10 + 5 per 2 s" "$MEDIAN_MS" "$PEAK_MB" "$4" "$verdict; median $posts POSTs, $limited answered 429 (POSTs/429s per run: $runs)"
  }
  log "rate limits (60 reports, one organization, bucket 10, 5 per 2 s)"
  rm -f "$WORK/rl-one.counts"
  MEASURE_RUNS=$RL_RUNS measure rl-one rl_fresh -- bash "$WORK/rl-apply.sh" "$BIN" "$WORK/defs-rl-one" "$STATE_RL" "$NOW" "$WORK/rl-one.counts"
  check_state "$STATE_RL" 60 >/dev/null
  rl_row rl-one "\`apply\` under a rate limit, one org" 23000 "≤ 23 s (1.15 × 20 s), ≤ 11 × 429" 11
  log "rate limits (2 × 30 reports, two organizations, same buckets)"
  rm -f "$WORK/rl-two.counts"
  MEASURE_RUNS=$RL_RUNS measure rl-two rl_fresh -- bash "$WORK/rl-apply.sh" "$BIN" "$WORK/defs-rl-two" "$STATE_RL" "$NOW" "$WORK/rl-two.counts"
  check_state "$STATE_RL" 60 >/dev/null
  rl_row rl-two "\`apply\` under a rate limit, 2 orgs × 30" 10400 "≤ 10.4 s (1.3 × 8 s)" 1000000
  NOTES+=("- rate limits: a bucket of 10 refilled by 5 every 2 s allows 60 requests of one organization in 20 s at best, and 30 of each of two organizations in 8 s; POSTs and 429s are counted from the \`-v\` retry lines ($RL_RUNS runs, a fresh state and full buckets each).")
  unset MONGODB_ATLAS_BASE_URL MONGODB_ATLAS_ACCESS_TOKEN
fi

# ---------------------------------------------------------------------------
# 7. PostgreSQL state: a throwaway cluster on loopback (Debian's server,
#    run as nobody when the benchmarks run as root), fsync on
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == postgres ]]; then
  PG_BIN=${COSTFORM_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
  [[ -x $PG_BIN/postgres ]] || { log "benches: PostgreSQL's server is not installed (apt-get install postgresql)"; exit 1; }
  PG=$WORK/pg
  mkdir -p "$PG"
  echo bench-password >"$PG/password"
  as_pg=()
  if [[ $(id -u) == 0 ]]; then
    # The server refuses root: it runs as nobody, who must reach its folder.
    chmod o+x "$WORK"
    chown -R 65534:65534 "$PG"
    as_pg=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  fi
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG/data" -U costform --auth=scram-sha-256 --pwfile="$PG/password" >"$WORK/initdb.log" 2>&1 ||
    { log "benches: initdb failed:"; tail -n 5 "$WORK/initdb.log" >&2; exit 1; }
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as_pg[@]}" "$PG_BIN/postgres" -D "$PG/data" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$PG" >"$WORK/postgres.log" 2>&1 &
  POSTGRES_PID=$!
  for ((attempt = 0; attempt < 600; attempt++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 0.05
  done
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || { log "benches: postgres did not start:"; tail -n 5 "$WORK/postgres.log" >&2; exit 1; }
  PG_URL="postgres://costform:bench-password@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
  pg_sql() { PGPASSWORD=bench-password "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U costform -d postgres -AtX -c "$1"; }
  # pg_state WORKSPACE COUNT: the state as show --json reads it, checked
  pg_state() {
    "$BIN" show --json --state "$PG_URL" --workspace "$1" >"$WORK/pg-$1.json"
    check_state "$WORK/pg-$1.json" "$2"
  }

  [[ -d $DEFS1K ]] || python3 "$ROOT/benches/gen-definitions.py" --reports 1000 --files 10 --budgets --out "$DEFS1K"
  start_emulator 20ms
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL MONGODB_ATLAS_ACCESS_TOKEN=$TOKEN
  # The same apply with the local file, measured here too: the machine's
  # load and disk are then the same for both rows.
  PG_LOCAL=$WORK/pg-local/costform.state.json
  pg_local_fresh() { rm -rf "$(dirname "$PG_LOCAL")"; mkdir -p "$(dirname "$PG_LOCAL")"; }
  log "apply with a local state, the baseline of this section"
  measure pg-local-apply-1k pg_local_fresh -- "$BIN" apply --dir "$DEFS1K" --state "$PG_LOCAL" --now "$NOW" --auto-approve --parallelism 16
  row "\`apply --parallelism 16\`, local file (baseline)" "1,000 reports, 20 ms latency, fresh state, same run" "$MEDIAN_MS" "$PEAK_MB" "—" "$(check_state "$PG_LOCAL" 1000) tokens"
  LOCAL_MS=$MEDIAN_MS
  log "apply with PostgreSQL state (1,000 reports, 20 ms latency, --parallelism 16)"
  # A first apply (not measured) creates the schema, as the first writing
  # command does; each measured run starts on an empty workspace.
  "$BIN" apply --dir "$DEFS1K" --state "$PG_URL" --workspace apply --now "$NOW" --auto-approve --parallelism 16 >/dev/null 2>&1
  pg_fresh() { pg_sql "DELETE FROM costform.states WHERE workspace = 'apply'; DELETE FROM costform.journal WHERE workspace = 'apply'" >/dev/null; }
  measure pg-apply-1k pg_fresh -- "$BIN" apply --dir "$DEFS1K" --state "$PG_URL" --workspace apply --now "$NOW" --auto-approve --parallelism 16
  tokens=$(pg_state apply 1000)
  row "\`apply --parallelism 16\`, PostgreSQL state" "1,000 reports, 20 ms latency, fresh workspace" "$MEDIAN_MS" "$PEAK_MB" "≤ 1625 ms (1.3 × 1.25 s)" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 1626 1000); $tokens tokens, one transaction per group of answers; $(awk -v p="$MEDIAN_MS" -v l="$LOCAL_MS" 'BEGIN { printf "%.2f", p / l }')× the local file"

  log "plan against a 10,000-entry PostgreSQL state"
  start_emulator 0
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL
  MEASURE_RUNS=1 measure pg-apply-10k : -- "$BIN" apply --dir "$DEFS10K" --state "$PG_URL" --workspace plan --now "$NOW" --auto-approve --parallelism 32
  row "\`apply\` (setup, 1 run), PostgreSQL state" "10,000 reports, no latency, \`--parallelism 32\`" "$MEDIAN_MS" "$PEAK_MB" "—" "$(pg_state plan 10000) tokens"
  unset MONGODB_ATLAS_BASE_URL MONGODB_ATLAS_ACCESS_TOKEN
  measure pg-plan-nochange : -- "$BIN" plan --dir "$DEFS10K" --state "$PG_URL" --workspace plan --now "$NOW"
  grep -q '^No changes\.' "$WORK/pg-plan-nochange.out" || { log "benches: plan after apply is not \"No changes.\""; exit 1; }
  row "\`plan\`, no changes, PostgreSQL state" "10,000 reports, 10,000-entry state" "$MEDIAN_MS" "$PEAK_MB" "≤ 600 ms" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 601 1000)"
  PG_PLAN_MS=$MEDIAN_MS
  # The same state copied to a file, planned in the same run.
  PG_COPY=$WORK/pg-copy/costform.state.json
  mkdir -p "$(dirname "$PG_COPY")"
  "$BIN" state migrate --state "$PG_URL" --workspace plan --to "$PG_COPY" -q
  measure pg-plan-local : -- "$BIN" plan --dir "$DEFS10K" --state "$PG_COPY" --now "$NOW"
  row "\`plan\`, no changes, the same state as a local file (baseline)" "10,000 reports, 10,000-entry state, same run" "$MEDIAN_MS" "$PEAK_MB" "—" "PostgreSQL $(awk -v p="$PG_PLAN_MS" -v l="$MEDIAN_MS" 'BEGIN { printf "%.2f", p / l }')× the file"
  NOTES+=("- PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on loopback, fsync on: $(pg_sql "SELECT count(*) FROM costform.states") state versions kept, $(pg_sql "SELECT pg_size_pretty(pg_database_size('postgres'))") in the database after the runs.")
fi

# ---------------------------------------------------------------------------
# 8. for_each: one report expanded into 10,000 instances by a map variable
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == foreach ]]; then
  DEFS_FE=$WORK/defs-foreach
  mkdir -p "$DEFS_FE"
  python3 - "$DEFS_FE/teams.yaml" <<'PY'
import hashlib, sys
with open(sys.argv[1], "w") as out:
    out.write("variables:\n  teams:\n    type: map\n    default:\n")
    for n in range(10000):
        out.write(f"      team-{n:05}: \"{hashlib.sha256(str(n).encode()).hexdigest()[:24]}\"\n")
    out.write("reports:\n  per-team:\n    for_each: \"{{ var.teams }}\"\n"
              "    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    period: last_month\n"
              "    group_by: projects\n    projects: [\"{{ each.value }}\"]\n")
PY
  log "for_each (one report, 10,000 instances)"
  # cpu_ms COMMAND...: user + system CPU of one run, which load on the
  # machine inflates less than the wall time.
  cpu_ms() { /usr/bin/time -f "%U %S" -o "$WORK/cpu.time" "$@" >/dev/null 2>&1; awk '{ printf "%d", ($1 + $2) * 1000 }' "$WORK/cpu.time"; }
  measure foreach-validate : -- "$BIN" validate --dir "$DEFS_FE" --now "$NOW"
  cpu=$(cpu_ms "$BIN" validate --dir "$DEFS_FE" --now "$NOW")
  row "\`validate\`, \`for_each\` over 10,000 elements" "one report, a 10,000-entry map variable" "$MEDIAN_MS" "$PEAK_MB" "≤ 400 ms, ≤ 150 MB" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 400.001 150.001); CPU $cpu ms"
  measure foreach-plan : -- "$BIN" plan --dir "$DEFS_FE" --state "$WORK/state-foreach.json" --now "$NOW"
  instances=$(grep -c '^  + report.per-team\["team-' "$WORK/foreach-plan.out")
  [[ $instances == 10000 ]] || { log "benches: plan shows $instances instances, expected 10000"; exit 1; }
  cpu=$(cpu_ms "$BIN" plan --dir "$DEFS_FE" --state "$WORK/state-foreach.json" --now "$NOW")
  row "\`plan\`, \`for_each\` over 10,000 elements" "same, no state: $instances creates" "$MEDIAN_MS" "$PEAK_MB" "≤ 400 ms, ≤ 150 MB" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 400.001 150.001); CPU $cpu ms"
fi

# ---------------------------------------------------------------------------
# 9. lookup: 5,000 projects over 10 pages of 500, 20 ms latency per request
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == lookup ]]; then
  start_emulator 20ms
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL MONGODB_ATLAS_ACCESS_TOKEN=$TOKEN
  DEFS_LU=$WORK/defs-lookup
  mkdir -p "$DEFS_LU"
  # An org id starting 0b16 has 5,000 projects in the emulator.
  cat >"$DEFS_LU/big.yaml" <<'YAML'
lookups:
  big:
    kind: projects
    org_id: 0b16a1b2c3d4e5f6a7b8c9d0
reports:
  all-projects:
    org_id: 0b16a1b2c3d4e5f6a7b8c9d0
    period: last_month
    group_by: projects
    projects: "{{ lookup.big }}"
YAML
  log "lookup (5,000 projects, 20 ms latency)"
  measure lookup-refresh : -- "$BIN" plan --dir "$DEFS_LU" --state "$WORK/state-lookup.json" --now "$NOW" --refresh
  read_line=$(grep -o 'lookup.big: [0-9]* projects' "$WORK/lookup-refresh.err")
  [[ $read_line == "lookup.big: 5000 projects" ]] || { log "benches: expected 5000 projects, got: $read_line"; exit 1; }
  row "\`plan --refresh\` reading a lookup" "5,000 projects, 10 full pages (+1 empty), 20 ms latency" "$MEDIAN_MS" "$PEAK_MB" "≤ 500 ms" "$(verdict "$MEDIAN_MS" "$PEAK_MB" 500.001 1000)"
fi

# ---------------------------------------------------------------------------
# 10. FOCUS invoice reports: apply (invoice lookup + report) and fetch (report
#    read + download of a gzip file from the second listener) of 200 reports
# ---------------------------------------------------------------------------
if [[ $ONLY == all || $ONLY == focus ]]; then
  start_emulator 20ms
  export MONGODB_ATLAS_BASE_URL=$EMULATOR_URL MONGODB_ATLAS_ACCESS_TOKEN=$TOKEN
  DEFS_FOCUS=$WORK/defs-focus
  STATE_FOCUS=$WORK/state-focus/costform.state.json
  mkdir -p "$DEFS_FOCUS"
  # 8 organizations x 25 months from January 2020: every report its own invoice.
  python3 - "$DEFS_FOCUS/focus.yaml" <<'EOF_PY'
import sys
lines = ["reports:"]
for index in range(200):
    org, months = index % 8 + 1, index // 8
    lines += [f"  focus-{index:03}:", "    kind: focus_report",
              f'    org_id: "{org:024x}"',
              f'    invoice_month: "{2020 + months // 12}-{months % 12 + 1:02}-01"']
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF_PY
  fresh_focus() { rm -rf "$(dirname "$STATE_FOCUS")"; mkdir -p "$(dirname "$STATE_FOCUS")"; }
  log "focus apply (200 FOCUS reports, 20 ms latency, --parallelism 16)"
  measure focus-apply fresh_focus -- "$BIN" apply --dir "$DEFS_FOCUS" --state "$STATE_FOCUS" --now "$NOW" --auto-approve --parallelism 16
  reports=$(python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1]))["reports"].values() if e["handle"].get("report_id")))' "$STATE_FOCUS")
  row "\`apply --parallelism 16\`, FOCUS reports" "200 reports, 20 ms latency (2 requests each)" "$MEDIAN_MS" "$PEAK_MB" "—" "$reports report ids"
  cp "$STATE_FOCUS" "$WORK/state-focus.applied.json"
  restore_focus() {
    cp "$WORK/state-focus.applied.json" "$STATE_FOCUS"
    rm -rf "$WORK/results-focus"
  }
  log "focus fetch (200 ready FOCUS reports, 20 ms latency, --parallelism 16)"
  measure focus-fetch restore_focus -- "$BIN" fetch --dir "$DEFS_FOCUS" --state "$STATE_FOCUS" --parallelism 16 --out-dir "$WORK/results-focus"
  written=$(results_written "$STATE_FOCUS" "$WORK/results-focus")
  row "\`fetch --parallelism 16\`, FOCUS reports" "200 ready reports, 20 ms latency, gzip downloads" "$MEDIAN_MS" "$PEAK_MB" "—" "$written"
  unset MONGODB_ATLAS_BASE_URL MONGODB_ATLAS_ACCESS_TOKEN
fi

# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------
{
  echo "# costform benchmarks"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($CPU), costform \`$COMMIT\`$DIRTY,"
  echo "with \`bash benches/run.sh\` (median of $RUNS runs; peak RSS is the highest of the runs;"
  echo "definitions from \`benches/gen-definitions.py\`, \`--now $NOW\`)."
  echo "Load average before / after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)."
  echo
  echo "| benchmark | input | median wall | peak RSS | target | result |"
  echo "| --- | --- | ---: | ---: | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  if ((${#NOTES[@]})); then
    echo
    printf '%s\n' "${NOTES[@]}"
  fi
} >"$WORK/RESULTS.md"
cat "$WORK/RESULTS.md"
if [[ $ONLY == all ]]; then
  cp "$WORK/RESULTS.md" "$ROOT/benches/RESULTS.md"
  log "wrote benches/RESULTS.md"
fi
