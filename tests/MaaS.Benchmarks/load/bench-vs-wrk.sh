#!/usr/bin/env bash
# `maas bench` against wrk on the same server and the same request: the bundled cnn, one zero image [1,1,28,28] FP32
# as a binary tensor with binary outputs (what `maas bench` sends by default). The server is pinned to CPU 0 and the
# load generator (maas or wrk) to CPU 1 with taskset, so neither generator takes the server's core; the two
# generators run in interleaved windows (maas, wrk, then wrk, maas, ...) and each one's median req/s is reported with
# the ratio maas / wrk.
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/bench-vs-wrk.sh /tmp/maas-release [seconds per window, 10] [rounds, 3] [concurrency, 8]
# Needs two CPUs, taskset (util-linux) and wrk. Environment: PORT=<port> the server's HTTP port (default 18760),
# WARMUP=<seconds> of wrk load before the first round (default 20).
set -euo pipefail
server_dir="$(cd "$1" && pwd)"
seconds="${2:-10}"
rounds="${3:-3}"
concurrency="${4:-8}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
port="${PORT:-18760}"
url="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
fail() { echo "bench-vs-wrk.sh: $*" >&2; exit 1; }
for tool in wrk taskset curl; do command -v "$tool" >/dev/null || fail "$tool is required"; done
[ "$(nproc --all)" -ge 2 ] || fail "two CPUs are needed (one for the server, one for the load generator)"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log "publishing src/MaaS.Cli"
dotnet publish "$root/src/MaaS.Cli" -c Release -o "$work/cli" >"$work/publish.log" 2>&1 || { tail -20 "$work/publish.log"; fail "publish failed"; }

mkdir -p "$work/repository"
cp -r "$root/models/cnn" "$work/repository/"
header='{"inputs":[{"name":"image","datatype":"FP32","shape":[1,1,28,28],"parameters":{"binary_data_size":3136}}],"outputs":[{"name":"logits","parameters":{"binary_data":true}}],"parameters":{"binary_data_output":true}}'
{ printf '%s' "$header"; head -c 3136 /dev/zero; } >"$work/body.bin"
cat >"$work/body.lua" <<LUA
wrk.method = "POST"
local f = assert(io.open("$work/body.bin", "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["Inference-Header-Content-Length"] = "${#header}"
LUA

log "starting the server on $url, pinned to CPU 0"
taskset -c 0 dotnet "$server_dir/MaaS.Server.dll" --urls "$url" --grpc-port 0 --model-repository "$work/repository" \
    --MaaS:Shutdown:DelaySeconds=0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    curl -sf -o /dev/null "$url/v2/health/ready" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server stopped"; }
    sleep 0.2
done
status=$(curl -s -o "$work/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
    -H "Inference-Header-Content-Length: ${#header}" --data-binary "@$work/body.bin" "$url/v2/models/cnn/infer")
[ "$status" = 200 ] || fail "the server answered $status: $(head -c 300 "$work/answer")"

maas_window() {
    taskset -c 1 dotnet "$work/cli/maas.dll" --url "$url" --output json bench cnn --concurrency "$concurrency" \
        --duration "${1}s" --warmup 2s \
        | tr -d ' \n' | grep -o '"throughput[^,}]*' | head -1 | cut -d: -f2
}
wrk_window() {
    taskset -c 1 wrk -t1 -c"$concurrency" -d"${1}s" -s "$work/body.lua" "$url/v2/models/cnn/infer" \
        | awk '/Requests\/sec/ { print $2 } /Non-2xx/ { print "errors " $0 > "/dev/stderr" }'
}
# A fresh server needs tens of seconds under load to reach full speed (tiered JIT): warm it up before measuring.
log "warming up (${WARMUP:-20} s)"
wrk_window "${WARMUP:-20}" >/dev/null
first=$(maas_window 2)
[ -n "$first" ] || fail "could not read maas bench's throughput from its JSON output"
maas="" wrk="" ratios=""
for round in $(seq 1 "$rounds"); do
    if (( round % 2 == 1 )); then
        a=$(maas_window "$seconds"); b=$(wrk_window "$seconds")
    else
        b=$(wrk_window "$seconds"); a=$(maas_window "$seconds")
    fi
    a=$(printf '%.0f' "$a")
    log "round $round: maas bench $a req/s, wrk $b req/s, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
    maas+="$a " wrk+="$b " ratios+="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }') "
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
m=$(echo "$maas" | median) w=$(echo "$wrk" | median)
echo "| generator (cnn, binary, c=$concurrency, server on CPU 0, generator on CPU 1) | req/s (median of $rounds) |"
echo "|---|---|"
echo "| maas bench | $m |"
echo "| wrk -t1 | $w |"
echo "| maas / wrk (of the medians) | $(awk -v a="$m" -v b="$w" 'BEGIN { printf "%.2f", a / b }') |"
echo "| maas / wrk (median of the rounds' ratios) | $(echo "$ratios" | median) |"
