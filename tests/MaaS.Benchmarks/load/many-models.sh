#!/usr/bin/env bash
# Many models on one replica: N copies of conv96 (a compute-bound CNN, binary 1x3x96x96) loaded at once, wrk sending
# batch-1 requests to all of them in turn at a fixed total concurrency, through the published server on 127.0.0.1.
# Each version runs one session with every CPU (MaaS:Sessions:InstanceCount=1, the choice auto makes for models whose
# run scales over the cores), so N models start N thread pools over the same CPUs. Three ways to run them:
#   spin         per-session pools whose threads spin while waiting for work (AllowSpinning=true)
#   no-spin      per-session pools that sleep when idle (AllowSpinning=false)
#   global       one process-wide pool of the CPU budget's size shared by every session (UseGlobalThreadPool=true)
#   auto         the server's defaults (InstanceCount auto: each version times 1 session against several at load)
# Each (N, way) gets a fresh server, a warm-up window, then `rounds` measured windows; prints the median req/s and
# p50/p99 per line, and each way's ratio against spin at the same N.
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/many-models.sh /tmp/maas-release [seconds, 5] [rounds, 3] [model counts, "1 2 4 8"] [concurrency, 8]
set -euo pipefail
server_dir="$(cd "$1" && pwd)"
seconds="${2:-5}"
rounds="${3:-3}"
counts="${4:-1 2 4 8}"
concurrency="${5:-8}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
port="${PORT:-18700}"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; } || true; rm -rf "$work"; }
trap cleanup EXIT

# One batch-1 binary body (JSON header padded to 8 bytes so the tensor is used in place).
python3 - "$work/body.bin" <<'PY'
import json, struct, sys
values = [((i * 7919) % 256) / 255.0 - 0.5 for i in range(3 * 96 * 96)]
data = struct.pack("<%df" % len(values), *values)
header = json.dumps({"inputs": [{"name": "image", "shape": [1, 3, 96, 96], "datatype": "FP32",
                                 "parameters": {"binary_data_size": len(data)}}],
                     "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}, separators=(",", ":")).encode()
header += b" " * (-len(header) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(header + data)
with open(sys.argv[1] + ".header-length", "w") as f:
    f.write(str(len(header)))
PY

run() {  # model count, way, environment...
    local n="$1" way="$2" repo="$work/repo-$1"
    shift 2
    if [ ! -d "$repo" ]; then
        for i in $(seq 1 "$n"); do
            mkdir -p "$repo/conv96-$i"
            cp -r "$root/tests/MaaS.Benchmarks/models/conv96/1" "$repo/conv96-$i/"
            sed "s/\"conv96\"/\"conv96-$i\"/" "$root/tests/MaaS.Benchmarks/models/conv96/config.json" >"$repo/conv96-$i/config.json"
        done
    fi
    # Each wrk thread walks the models in turn from its own starting point.
    cat >"$work/walk.lua" <<LUA
local n = $n
local f = assert(io.open("$work/body.bin", "rb"))
local body = f:read("*a")
f:close()
local headers = { ["Content-Type"] = "application/octet-stream", ["Inference-Header-Content-Length"] = "$(cat "$work/body.bin.header-length")" }
local next = 0
function setup(thread) thread:set("start", math.random(n)) end
function request()
    next = (next + (start or 1)) % n + 1
    return wrk.format("POST", "/v2/models/conv96-" .. next .. "/infer", headers, body)
end
LUA
    env MaaS__Sessions__InstanceCount=1 "$@" dotnet "$server_dir/MaaS.Server.dll" --urls "http://127.0.0.1:$port" --grpc-port 0 --model-repository "$repo" \
        --Serilog:MinimumLevel:Default=Warning --MaaS:Shutdown:DelaySeconds=0 >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready" && break; sleep 0.2; done
    curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready" || { cat "$work/server.log" >&2; exit 1; }
    wrk -t2 -c"$concurrency" -d3s -s "$work/walk.lua" "http://127.0.0.1:$port/" >/dev/null
    : >"$work/windows"
    for _ in $(seq 1 "$rounds"); do
        wrk -t2 -c"$concurrency" -d"${seconds}s" --latency -s "$work/walk.lua" "http://127.0.0.1:$port/" | awk '
            function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
            /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /Non-2xx/ { errors += $NF }
            END { printf "%s %s %s %d\n", rps, p50, p99, errors }' >>"$work/windows"
    done
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    local rps p50 p99 errors
    rps=$(cut -d' ' -f1 "$work/windows" | median)
    p50=$(cut -d' ' -f2 "$work/windows" | median)
    p99=$(cut -d' ' -f3 "$work/windows" | median)
    errors=$(awk '{ s += $4 } END { print s + 0 }' "$work/windows")
    [ "$way" != spin ] || echo "$rps" >"$work/spin-$n"
    printf "%6s %-8s %10.1f %8.2f %8.2f %8s %s\n" "$n" "$way" "$rps" "$p50" "$p99" \
        "$(awk -v a="$rps" -v b="$(cat "$work/spin-$n")" 'BEGIN { printf "%.2f", a / b }')" "$([ "$errors" = 0 ] || echo "errors: $errors")"
}

printf "%6s %-8s %10s %8s %8s %8s\n" models way "req/s" "p50 ms" "p99 ms" "vs spin"
for n in $counts; do
    [ -z "${ONLY_AUTO:-}" ] || { run "$n" spin MaaS__Sessions__AllowSpinning=true; run "$n" auto MaaS__Sessions__InstanceCount=auto; continue; }
    run "$n" spin MaaS__Sessions__AllowSpinning=true
    run "$n" no-spin MaaS__Sessions__AllowSpinning=false
    run "$n" global MaaS__Sessions__UseGlobalThreadPool=true
    [ -n "${WAYS_AUTO:-1}" ] || continue
    run "$n" auto MaaS__Sessions__InstanceCount=auto
done
