#!/usr/bin/env bash
# Two server builds (or one build under two environments) side by side on the bundled mlp, JSON, batch 1: both run at
# once, idle in turn, and wrk loads them in alternating windows (A, B, A, B, ...), so that whatever else the machine
# does falls on both alike. Prints each window and then each side's median req/s, p50 and p99, and the ratio B / A.
# The request log stays on at its default level (its lines go to a file, as stdout would in a container).
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-a    (the build before)
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-b    (the build after)
#   tests/MaaS.Benchmarks/load/ab.sh /tmp/maas-a /tmp/maas-b [rounds, 5] [seconds per window, 5] [concurrency, 16]
# Environment: ENV_A / ENV_B="NAME=value ..." set for that server only (the same build twice with ENV_B tries a
# runtime setting); PORT=<port> A's HTTP port (default 18810; B's is the next one); WARMUP=<seconds> of load on each
# before the first round (default 3). Needs wrk and curl.
set -euo pipefail
dir_a="$(cd "$1" && pwd)"
dir_b="$(cd "$2" && pwd)"
rounds="${3:-5}"
seconds="${4:-5}"
concurrency="${5:-16}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
port_a="${PORT:-18810}"
port_b=$((port_a + 1))
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
fail() { echo "ab.sh: $*" >&2; exit 1; }
for tool in wrk curl; do command -v "$tool" >/dev/null || fail "$tool is required"; done

mkdir -p "$work/repository"
cp -r "$root/models/mlp" "$work/repository/"
cat >"$work/mlp.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'
wrk.headers["Content-Type"] = "application/json"
LUA

start() {  # dir, port, environment
    # shellcheck disable=SC2086 # the environment is a list of NAME=value words
    env DOTNET_NOLOGO=1 $3 dotnet "$1/MaaS.Server.dll" --urls "http://127.0.0.1:$2" --grpc-port 0 \
        --model-repository "$work/repository" >"$work/server-$2.log" 2>&1 &
    pids+=($!)
}
start "$dir_a" "$port_a" "${ENV_A:-}"
start "$dir_b" "$port_b" "${ENV_B:-}"
for port in "$port_a" "$port_b"; do
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && continue 2; sleep 0.2; done
    tail -20 "$work/server-$port.log" >&2
    fail "the server on port $port did not become ready"
done

url() { echo "http://127.0.0.1:$1/v2/models/mlp/infer"; }
threads=$((concurrency < 2 ? concurrency : 2))   # wrk needs a connection per thread
log "warming up both servers"
for port in "$port_a" "$port_b"; do wrk -t"$threads" -c"$concurrency" -d"${WARMUP:-3}s" -s "$work/mlp.lua" "$(url "$port")" >/dev/null; done

# wrk's latency lines print units (us, ms, s): converted to ms.
window() {  # port -> "req/s p50 p99"
    wrk -t"$threads" -c"$concurrency" -d"${seconds}s" --latency -s "$work/mlp.lua" "$(url "$1")" | awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { r = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) } /Non-2xx/ { bad = $NF }
        END { if (bad > 0) { print "non-2xx answers: " bad > "/dev/stderr"; exit 1 } printf "%.1f %.3f %.3f\n", r, p50, p99 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "window side req/s p50_ms p99_ms"
for round in $(seq 1 "$rounds"); do
    for side in A B; do
        port=$port_a; [ "$side" = B ] && port=$port_b
        line="$(window "$port")"
        echo "$round $side $line"
        echo "$line" >>"$work/$side"
    done
done
for side in A B; do
    echo "$side median: $(awk '{ print $1 }' "$work/$side" | median) req/s, p50 $(awk '{ print $2 }' "$work/$side" | median) ms, p99 $(awk '{ print $3 }' "$work/$side" | median) ms"
done
awk '{ print $1 }' "$work/A" | median >"$work/ma"
awk '{ print $1 }' "$work/B" | median >"$work/mb"
echo "B / A: $(awk -v a="$(cat "$work/ma")" -v b="$(cat "$work/mb")" 'BEGIN { printf "%.2f", b / a }')"
