#!/usr/bin/env bash
# Soak: the published server (Release) under mixed load for a long while, on a copy of the bundled repository with a
# loaded-model budget far below what the traffic touches, so versions are evicted and loaded again all the time,
# while a management loop uploads, labels, infers through labels and deletes versions. Checks at the end (exit 1 when
# one fails, 0 when all pass):
#   - inference (wrk, soak.lua): no answer but 200 and 503 (503 is the budget's "loading"/"evicted again" answer and
#     is counted, not failed), no socket error or timeout;
#   - management (curl): every call answers what docs/api.md says it does (2xx, or 409 for the conflicts it
#     provokes on purpose), or 503; never anything else;
#   - no stuck version: every CHECK_SECONDS, and once more after the load, every version the repository index and
#     GET /v2/repository/models/{m} list as served (READY, or evicted and reloadable) answers an inference with 200
#     within the load timeout (retrying 503s until then);
#   - the budget was exercised (loads and evictions > 0), the server is still alive and logged no error;
#   - memory is flat: the resident set's slope over the last half of the run is at most RSS_MAX_SLOPE MiB/min
#     (judged on runs of 300 s or more; shorter runs report it only).
# Everything goes to 127.0.0.1 only, with an admin API key on every request. The server is killed on exit.
#   tests/MaaS.Benchmarks/load/soak.sh <output dir> [seconds, 600]
#   DURATION=60 tests/MaaS.Benchmarks/load/soak.sh /tmp/soak        # a short run
# The output directory gets summary.txt (also printed), rss.csv (a sample every SAMPLE_SECONDS), management.csv (every
# management call), checks.log (every stuck-version check), wrk.txt and server.log. Environment:
#   DURATION=<seconds>      the run's length when the second argument is not given (default 600)
#   MALLOC_ARENA_MAX=<n>    glibc's malloc arenas for the server, as the container images set it (default 2; empty: glibc's own)
#   SERVER=<dir>            a published server (dotnet publish src/MaaS.Server -c Release -o <dir>); default: publish one
#   MAX_LOADED=<n>          MaaS:Sessions:MaxLoadedVersions (default 3; the load touches 5 bundled versions + 2 uploaded)
#   LOAD_TIMEOUT=<seconds>  MaaS:Sessions:LoadTimeoutSeconds (default 10)
#   CONNECTIONS=<n>         wrk's connections (default 8, over 2 threads)
#   SAMPLE_SECONDS=<s>      RSS / metrics sampling period (default 2)
#   CHECK_SECONDS=<s>       period of the stuck-version check (default 30)
#   PAUSE=<seconds>         pause between management cycles (default 0.5)
#   RSS_MAX_SLOPE=<MiB/min> the most the resident set may grow per minute over the last half (default 1)
#   PORT=<port>             the server's port on 127.0.0.1 (default 18700)
#   SERVER_ARGS=<args>      more server arguments, e.g. "--Serilog:MinimumLevel:Override:MaaS.Core=Information" to log
#                           every load, eviction and label move (the log is at Warning otherwise)
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
mkdir -p "$1"
out="$(cd "$1" && pwd)"
duration="${2:-${DURATION:-600}}"
if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 10 ]; then echo "soak.sh: the duration must be 10 s or more" >&2; exit 2; fi
root="$(cd "$(dirname "$0")/../../.." && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
max_loaded="${MAX_LOADED:-3}"
load_timeout="${LOAD_TIMEOUT:-10}"
connections="${CONNECTIONS:-8}"
sample_every="${SAMPLE_SECONDS:-2}"
check_every="${CHECK_SECONDS:-30}"
pause="${PAUSE:-0.5}"
rss_max_slope="${RSS_MAX_SLOPE:-1}"
port="${PORT:-18700}"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "soak.sh: PORT must be a number" >&2; exit 2; }
url="http://127.0.0.1:$port"
key="soak-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d)"
server_pid="" wrk_pid="" sampler_pid="" manager_pid=""

cleanup() {
    for pid in $wrk_pid $manager_pid $sampler_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in $wrk_pid $manager_pid $sampler_pid $server_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "# $(date +%H:%M:%S) $*" >&2; }
fail() { echo "soak.sh: $*" >&2; exit 1; }
for tool in wrk curl jq python3; do command -v "$tool" >/dev/null || fail "$tool is needed (Debian: apt-get install $tool)"; done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ -n "${SERVER:-}" ]; then
    server_dir="$(cd "$SERVER" && pwd)"
else
    log "publishing src/MaaS.Server (Release)"
    server_dir="$work/server"
    dotnet publish "$root/src/MaaS.Server" -c Release -o "$server_dir" >"$work/publish.log" 2>&1 \
        || { tail -20 "$work/publish.log" >&2; fail "publish failed"; }
fi

# ---------------------------------------------------------------------------------------------------- repository
repo="$work/repository"
mkdir -p "$repo" "$work/bodies"
# The small bundled models: all-MiniLM-L6-v2 (all-minilm-l6-v2*, written by the server's build) is left out.
for model in "$root"/models/*/; do
    case "$model" in */all-minilm-l6-v2*/) continue ;; esac
    if [ -f "$model/config.json" ]; then cp -r "$model" "$repo/"; fi
done
# The management loop's model: the mlp's file uploaded again and again under new versions.
churn=churn
churn_file="$root/models/mlp/1/model.onnx"
jq --arg name "$churn" '.name = $name | del(.output[].label_filename)' "$root/models/mlp/config.json" >"$work/churn-config.json"

# V2 JSON bodies of batch 1, one per bundled model (docs/models.md gives the inputs).
python3 - "$work/bodies" <<'PY'
import json, sys
out = sys.argv[1]
def write(name, inputs):
    body = {"inputs": [{"name": n, "shape": s, "datatype": t, "data": d} for n, s, t, d in inputs]}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(body, f, separators=(",", ":"))
write("mlp", [("input", [1, 4], "FP32", [5.1, 3.5, 1.4, 0.2])])
write("cnn", [("image", [1, 1, 28, 28], "FP32", [0.01 * (i % 100) for i in range(784)])])
write("rnn", [("sequence", [1, 6, 8], "FP32", [0.1 * ((i * 7) % 11) - 0.5 for i in range(48)])])
write("transformer", [("input_ids", [1, 12], "INT64", [(i * 7) % 99 + 1 for i in range(12)]),
                      ("attention_mask", [1, 12], "INT64", [1] * 12)])
PY
body_of() {  # model
    case "$1" in
        "$churn") echo "$work/bodies/mlp.json" ;;
        *) echo "$work/bodies/$1.json" ;;
    esac
}

# wrk's targets: every bundled version, and the churn model through its labels and as "latest".
targets="$work/targets"
: >"$targets"
for model_dir in "$repo"/*/; do
    model="$(basename "$model_dir")"
    for version_dir in "$model_dir"[0-9]*/; do
        echo "/v2/models/$model/versions/$(basename "$version_dir")/infer $(body_of "$model")" >>"$targets"
    done
done
for route in labels/stable labels/previous; do echo "/v2/models/$churn/$route/infer $(body_of "$churn")" >>"$targets"; done
echo "/v2/models/$churn/infer $(body_of "$churn")" >>"$targets"

# ---------------------------------------------------------------------------------------------------- server
read -ra server_args <<<"${SERVER_ARGS:-}"
log "starting the server on $url: MaxLoadedVersions=$max_loaded, LoadTimeoutSeconds=$load_timeout"
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX-2}" \
MaaS__Sessions__MaxLoadedVersions="$max_loaded" MaaS__Sessions__LoadTimeoutSeconds="$load_timeout" \
MaaS__Auth__ApiKeys__0__Key="$key" MaaS__Auth__ApiKeys__0__Role=admin \
    dotnet "$server_dir/MaaS.Server.dll" --urls "$url" --grpc-port 0 --model-repository "$repo" \
    --Serilog:MinimumLevel:Default=Warning --MaaS:Shutdown:DelaySeconds=0 "${server_args[@]}" >"$out/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 900); do
    curl -sf -o /dev/null "$url/v2/health/ready" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log" >&2; fail "the server exited"; }
    sleep 0.2
done
curl -sf -o /dev/null "$url/v2/health/ready" || fail "the server did not become ready"

# The churn model's version 1, with the mlp's config under its name, and both labels on it.
setup_call() {  # expected status, curl arguments...
    local expected="$1" got
    shift
    got=$(curl -s -o "$work/setup" -w '%{http_code}' -H "Authorization: Bearer $key" "$@") || true
    [ "$got" = "$expected" ] || fail "setup: $* answered $got: $(head -c 500 "$work/setup")"
}
setup_call 201 -X POST "$url/v2/repository/models/$churn/versions" -F "model=@$churn_file" -F "config=<$work/churn-config.json"
for label in stable previous; do
    setup_call 204 -X PUT "$url/v2/repository/models/$churn/labels/$label" -d '{"version": 1}'
done

started=$(date +%s)
deadline=$((started + duration))
elapsed() { echo $(($(date +%s) - started)); }

# Every management call goes through call: it records the status in management.csv and judges it. Expected: a
# comma-separated list of codes, "2xx" for any success. 503 is counted apart; anything else unexpected fails.
# Leaves the status in $status and the body in $work/body.<caller>.
status=""
call() {  # caller, expected, method, path, curl arguments...
    local caller="$1" expected="$2" method="$3" path="$4" verdict begin took
    shift 4
    begin=$(date +%s%N)
    status=$(curl -s -o "$work/body.$caller" -w '%{http_code}' --max-time $((load_timeout * 3 + 10)) -X "$method" \
        -H "Authorization: Bearer $key" "$@" "$url$path" 2>/dev/null) || true
    took=$(( ($(date +%s%N) - begin) / 1000000 ))
    if [[ ",$expected," == *",$status,"* ]] || { [[ ",$expected," == *",2xx,"* ]] && [[ "$status" == 2?? ]]; }; then
        verdict=ok
    elif [ "$status" = 503 ]; then
        verdict=unavailable
    else
        verdict=FAIL
    fi
    printf '%s,%s,%s,%s,%s,%s,%s,%s,"%s"\n' "$(elapsed)" "$caller" "$method" "$path" "$status" "${expected//,/ }" \
        "$verdict" "$took" "$( [ "$verdict" = ok ] || head -c 300 "$work/body.$caller" | tr '\r\n",' '    ')" \
        >>"$out/management.csv"
}
echo "elapsed_s,caller,method,path,status,expected,verdict,ms,body" >"$out/management.csv"

# ---------------------------------------------------------------------------------------------------- checks
# The stuck-version check: every version listed as served answers 200 within the load timeout (503s retried until
# then, as a client of an evicted version would). Appends to checks.log, and a line to $work/stuck per stuck version.
check_versions() {  # caller, when
    local caller="$1" when="$2" models model versions version state reason begin verdict
    call "$caller" 200 POST /v2/repository/index
    [ "$status" = 200 ] || { echo "$when: the index answered $status" >>"$work/stuck"; return; }
    models=$(jq -r '[.[].name] | unique | .[]' "$work/body.$caller")
    for model in $models; do
        call "$caller" 200 GET "/v2/repository/models/$model"
        [ "$status" = 200 ] || { echo "$when: GET /v2/repository/models/$model answered $status" >>"$work/stuck"; continue; }
        versions=$(jq -r '.versions[] | "\(.version) \(.state) \(.reason // "")"' "$work/body.$caller")
        while read -r version state reason; do
            [ -n "$version" ] || continue
            if [ "$state" != READY ] && [ "$state" != LOADING ] && [ "$reason" != evicted ]; then
                echo "$when $model/$version $state ($reason): not served" >>"$out/checks.log"
                # Bundled and churn versions are all meant to be served (policy, or a label).
                echo "$when: $model/$version is $state ($reason)" >>"$work/stuck"
                continue
            fi
            begin=$(date +%s)
            verdict=stuck
            while :; do
                call "$caller" 200 POST "/v2/models/$model/versions/$version/infer" --data-binary "@$(body_of "$model")"
                if [ "$status" = 200 ]; then verdict=ok; break; fi
                if [ "$status" != 503 ]; then verdict="answered $status"; break; fi
                [ $(($(date +%s) - begin)) -lt $((load_timeout * 2)) ] || break
                sleep 0.5
            done
            echo "$when $model/$version $state${reason:+ ($reason)}: $verdict after $(($(date +%s) - begin)) s" >>"$out/checks.log"
            if [ "$verdict" != ok ]; then
                echo "$when: $model/$version ($state${reason:+, $reason}) $verdict: $(head -c 300 "$work/body.$caller")" >>"$work/stuck"
            fi
        done <<<"$versions"
    done
}

# ---------------------------------------------------------------------------------------------------- management
# A cycle on the churn model, whose "stable" label points at the newest version and "previous" at the one before:
# upload N, infer N, move previous to N-1 and stable to N, infer through both labels, delete N-2 (now unlabelled),
# then the documented conflicts: deleting the labelled N (409) and labelling a missing version (409). Then the
# churn model must list exactly N-1 and N. Every CHECK_SECONDS, the stuck-version check on every model.
manage() {
    local cycle=0 newest=1 last_check upload
    last_check=$(date +%s)
    while [ "$(date +%s)" -lt "$deadline" ]; do
        cycle=$((cycle + 1))
        call manage 201 POST "/v2/repository/models/$churn/versions" --data-binary "@$churn_file" \
            -H 'Content-Type: application/octet-stream'
        if [ "$status" = 201 ]; then
            upload=$(jq -r .version "$work/body.manage")
            [ "$upload" = $((newest + 1)) ] || echo "cycle $cycle: the upload got version $upload, not $((newest + 1))" >>"$work/stuck"
            newest=$upload
            call manage 200 POST "/v2/models/$churn/versions/$newest/infer" --data-binary "@$(body_of "$churn")"
            call manage 2xx PUT "/v2/repository/models/$churn/labels/previous" -d "{\"version\": $((newest - 1))}"
            call manage 2xx PUT "/v2/repository/models/$churn/labels/stable" -d "{\"version\": $newest}"
            call manage 200 POST "/v2/models/$churn/labels/stable/infer" --data-binary "@$(body_of "$churn")"
            call manage 200 POST "/v2/models/$churn/labels/previous/infer" --data-binary "@$(body_of "$churn")"
            if [ "$newest" -gt 2 ]; then
                call manage 2xx DELETE "/v2/repository/models/$churn/versions/$((newest - 2))"
            fi
            call manage 409 DELETE "/v2/repository/models/$churn/versions/$newest"
            call manage 409 PUT "/v2/repository/models/$churn/labels/stable" -d '{"version": 999999}'
            call manage 200 GET "/v2/repository/models/$churn"
            if [ "$status" = 200 ]; then
                local listed
                listed=$(jq -r '[.versions[].version] | join(" ")' "$work/body.manage")
                [ "$listed" = "$((newest - 1)) $newest" ] \
                    || echo "cycle $cycle: $churn lists versions '$listed', expected '$((newest - 1)) $newest'" >>"$work/stuck"
            fi
        fi
        if [ $(($(date +%s) - last_check)) -ge "$check_every" ]; then
            check_versions manage "t=$(elapsed)s"
            last_check=$(date +%s)
        fi
        sleep "$pause"
    done
    echo "$cycle" >"$work/cycles"
}

# ---------------------------------------------------------------------------------------------------- sampler
metric() {  # name, metrics file: the sum of the series of that name (without labels or with)
    awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $NF; found = 1 } END { if (found) printf "%.0f", sum }' "$2"
}
sample() {
    local rss
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null) || return 1
    [ -n "$rss" ] || return 1
    curl -s --max-time 5 -H "Authorization: Bearer $key" -o "$work/metrics" "$url/metrics" || : >"$work/metrics"
    echo "$(elapsed),$rss,$(metric dotnet_gc_heap_bytes "$work/metrics"),$(metric maas_loaded_versions "$work/metrics"),$(metric maas_model_loads_total "$work/metrics"),$(metric maas_model_evictions_total "$work/metrics"),$(metric dotnet_threadpool_threads "$work/metrics")" >>"$out/rss.csv"
}
echo "elapsed_s,rss_kib,gc_heap_bytes,loaded_versions,loads_total,evictions_total,threadpool_threads" >"$out/rss.csv"
sample || fail "cannot read the server's VmRSS"
sampler() {
    while [ "$(date +%s)" -lt "$deadline" ]; do
        sleep "$sample_every"
        sample || return 0
    done
}

# ---------------------------------------------------------------------------------------------------- run
: >"$work/stuck"
: >"$out/checks.log"
log "soak for $duration s: wrk -t2 -c$connections over $(wc -l <"$targets") targets, management every ${pause}s, checks every ${check_every}s"
SOAK_KEY="$key" SOAK_TARGETS="$targets" SOAK_REPORT="$work/wrk.report" \
    wrk -t2 -c"$connections" -d"${duration}s" --timeout "$((load_timeout + 5))s" --latency -s "$here/soak.lua" "$url" \
    >"$out/wrk.txt" 2>&1 &
wrk_pid=$!
manage &
manager_pid=$!
sampler &
sampler_pid=$!
wait "$wrk_pid" || log "wrk exited with $?"
wrk_pid=""
wait "$manager_pid" || log "the management loop exited with $?"
manager_pid=""
wait "$sampler_pid" || true
sampler_pid=""

server_alive=yes
kill -0 "$server_pid" 2>/dev/null || server_alive=no
if [ "$server_alive" = yes ]; then
    log "final check: every served version answers"
    check_versions final "end"
    sample || true
fi

# ---------------------------------------------------------------------------------------------------- summary
[ -f "$work/wrk.report" ] || fail "wrk wrote no report: $(tail -5 "$out/wrk.txt")"
cp "$work/wrk.report" "$out/wrk.report"
count_status() { awk -v code="$1" '$1 == "status" && $2 == code { print $3; found = 1 } END { if (!found) print 0 }' "$work/wrk.report"; }
wrk_requests=$(awk '$1 == "requests" { print $2 }' "$work/wrk.report")
wrk_200=$(count_status 200)
wrk_503=$(count_status 503)
wrk_other=$(awk '$1 == "status" && $2 != 200 && $2 != 503 { s += $3 } END { print s + 0 }' "$work/wrk.report")
socket_errors=$(awk '$1 == "socket_errors" { s = 0; for (i = 2; i <= NF; i++) { split($i, kv, "="); s += kv[2] } print s }' "$work/wrk.report")
mgmt_calls=$(($(wc -l <"$out/management.csv") - 1))
mgmt_fail=$(awk -F, 'NR > 1 && $7 == "FAIL"' "$out/management.csv" | wc -l)
mgmt_503=$(awk -F, 'NR > 1 && $7 == "unavailable"' "$out/management.csv" | wc -l)
stuck=$(wc -l <"$work/stuck")
checks=$(grep -c ': ok after\|: stuck\|answered' "$out/checks.log" || true)
server_errors=$(grep -cE '\[(ERR|FTL)\]' "$out/server.log" || true)
cycles=$(cat "$work/cycles" 2>/dev/null || echo 0)

# RSS: start, peak, end, and the least-squares slope over the last half (MiB per minute).
read -r rss_start rss_peak rss_end rss_slope gc_start gc_end loads evictions < <(awk -F, -v half="$((duration / 2))" '
    NR == 1 { next }
    { t = $1; r = $2 / 1024; if (NR == 2) { start = r; gc0 = $3 } if (r > peak) peak = r; end = r; gc1 = $3; loads = $5; ev = $6
      if (t >= half && t <= half * 2) { n++; st += t; sr += r; stt += t * t; str += t * r } }
    END { slope = (n > 1 && n * stt - st * st > 0) ? (n * str - st * sr) / (n * stt - st * st) * 60 : 0
          printf "%.1f %.1f %.1f %.2f %.1f %.1f %s %s\n", start, peak, end, slope, gc0 / 1048576, gc1 / 1048576, loads + 0, ev + 0 }' "$out/rss.csv")

failed=0
verdict() {  # ok (0/1), text
    if [ "$1" = 1 ]; then echo "  PASS  $2"; else echo "  FAIL  $2"; failed=1; fi
}
flat_judged=$([ "$duration" -ge 300 ] && echo 1 || echo 0)
{
    echo "MaaS soak: $duration s, $(nproc) cores, MaxLoadedVersions=$max_loaded, LoadTimeoutSeconds=$load_timeout, wrk -t2 -c$connections"
    echo "inference (wrk): $wrk_requests requests over $(wc -l <"$targets") targets, $wrk_200 x 200, $wrk_503 x 503, $wrk_other other, $socket_errors socket errors; $(awk '$1 == "latency_ms" { print $2, $3, $4 }' "$work/wrk.report") ms"
    echo "management: $cycles cycles, $mgmt_calls calls, $mgmt_503 x 503, $mgmt_fail unexpected"
    echo "loaded-model cache: $loads loads, $evictions evictions; loaded versions at most $(awk -F, 'NR > 1 && $4 > m { m = $4 } END { print m + 0 }' "$out/rss.csv") (budget $max_loaded) in the samples"
    echo "RSS MiB: start $rss_start, peak $rss_peak, end $rss_end; slope over the last half $rss_slope MiB/min; managed heap MiB: start $gc_start, end $gc_end"
    echo "checks:"
    verdict "$([ "$wrk_other" = 0 ] && [ "$socket_errors" = 0 ] && echo 1 || echo 0)" "inference: only 200 and 503 ($wrk_other other, $socket_errors socket errors)"
    verdict "$([ "$mgmt_fail" = 0 ] && echo 1 || echo 0)" "management: every call answered as documented or 503 ($mgmt_fail did not)"
    verdict "$([ "$stuck" = 0 ] && [ "$checks" -gt 0 ] && echo 1 || echo 0)" "no stuck version ($checks version checks, $stuck problems)"
    verdict "$([ "$server_alive" = yes ] && [ "$server_errors" = 0 ] && echo 1 || echo 0)" "server alive ($server_alive), no error logged ($server_errors)"
    verdict "$([ "$loads" -gt 0 ] && [ "$evictions" -gt 0 ] && echo 1 || echo 0)" "budget exercised ($loads loads, $evictions evictions)"
    if [ "$flat_judged" = 1 ]; then
        verdict "$(awk -v s="$rss_slope" -v m="$rss_max_slope" 'BEGIN { print (s <= m) ? 1 : 0 }')" "RSS flat: $rss_slope MiB/min over the last half (at most $rss_max_slope)"
    else
        echo "  ----  RSS flat: not judged on a run under 300 s ($rss_slope MiB/min over the last half)"
    fi
    if [ "$wrk_other" != 0 ] || [ "$wrk_503" != 0 ]; then
        echo "inference answers other than 200 (first few bodies per status):"
        awk '$1 == "sample" { $1 = "   "; print }' "$work/wrk.report"
    fi
    if [ "$mgmt_fail" != 0 ]; then
        echo "unexpected management answers (first 10; all in management.csv):"
        awk -F, 'NR > 1 && $7 == "FAIL"' "$out/management.csv" | head -10 | sed 's/^/    /'
    fi
    if [ "$stuck" != 0 ]; then
        echo "stuck or missing versions (first 10):"
        head -10 "$work/stuck" | sed 's/^/    /'
    fi
    if [ "$server_errors" != 0 ]; then
        echo "server errors (first 10 lines; all in server.log):"
        grep -E '\[(ERR|FTL)\]' "$out/server.log" | head -10 | sed 's/^/    /'
    fi
    if grep -q ' responded 5[0-9][0-9] ' "$out/server.log"; then
        echo "5xx answers by status and route (server log):"
        awk '/ responded 5[0-9][0-9] / { for (i = 1; i <= NF; i++) if ($i == "responded") print $(i + 1), $(i - 4), $(i - 3) }' \
            "$out/server.log" | sort | uniq -c | sort -rn | head -20 | sed 's/^/  /'
    fi
} >"$out/summary.txt"
cat "$out/summary.txt"
[ "$failed" = 0 ]
