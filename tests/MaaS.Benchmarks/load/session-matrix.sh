#!/usr/bin/env bash
# Sessions x threads x client concurrency on the bundled cnn and transformer, through the published server and wrk
# (Debian's package) on 127.0.0.1. Each configuration gets a fresh server, a warm-up, then one measured window per
# concurrency. Prints one line per run: config, model, concurrency, req/s, p50 and p99 latency.
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/session-matrix.sh /tmp/maas-release [seconds]
set -euo pipefail
server_dir="$1"
seconds="${2:-8}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
port=18500
bodies="$(mktemp -d)"
trap 'rm -rf "$bodies"; kill $(jobs -p) 2>/dev/null || true' EXIT

python3 - "$bodies" <<'PY'
import json, sys
out = sys.argv[1]
cnn = {"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [0.01 * (i % 100) for i in range(784)]}]}
tr = {"inputs": [{"name": "input_ids", "shape": [1, 32], "datatype": "INT64", "data": [(i * 7) % 100 for i in range(32)]},
                 {"name": "attention_mask", "shape": [1, 32], "datatype": "INT64", "data": [1] * 32}]}
for name, body in (("cnn", cnn), ("transformer", tr)):
    with open(f"{out}/{name}.lua", "w") as f:
        f.write("wrk.method = \"POST\"\nwrk.body = '%s'\n" % json.dumps(body))
PY

run() {  # name, then environment settings
    local name="$1"; shift
    env "$@" dotnet "$server_dir/MaaS.Server.dll" --urls "http://127.0.0.1:$port" --grpc-port 0 --model-repository "$root/models" \
        --Serilog:MinimumLevel:Default=Warning >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break; sleep 0.2; done
    for model in cnn transformer; do
        wrk -t2 -c16 -d3s -s "$bodies/$model.lua" "http://127.0.0.1:$port/v2/models/$model/infer" >/dev/null
        for connections in 1 4 16; do
            local threads=$(( connections < 2 ? 1 : 2 ))
            wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$bodies/$model.lua" "http://127.0.0.1:$port/v2/models/$model/infer" \
                | awk -v config="$name" -v model="$model" -v c="$connections" '
                    /Requests\/sec/ { rps = $2 }
                    /^ +50%/ { p50 = $2 }
                    /^ +99%/ { p99 = $2 }
                    /Non-2xx/ { errors = $NF }
                    END { printf "%-28s %-12s c=%-3s %10s req/s  p50 %-9s p99 %-9s %s\n", config, model, c, rps, p50, p99, (errors ? "errors " errors : "") }'
        done
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

run "1 instance, ORT threads"     MaaS__Sessions__InstanceCount=1
run "2 instances, ORT threads"    MaaS__Sessions__InstanceCount=2
run "2 instances, 1 thread each"  MaaS__Sessions__InstanceCount=2 MaaS__Sessions__IntraOpThreads=1
run "4 instances, 1 thread each"  MaaS__Sessions__InstanceCount=4 MaaS__Sessions__IntraOpThreads=1
run "2 instances, global pool 2"  MaaS__Sessions__InstanceCount=2 MaaS__Sessions__UseGlobalThreadPool=true MaaS__Sessions__IntraOpThreads=2
