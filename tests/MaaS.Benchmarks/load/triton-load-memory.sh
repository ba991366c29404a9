#!/usr/bin/env bash
# Peak memory of Triton's repository load with a large file: POST /v2/repository/models/big/load carrying
# {"parameters": {"config": ..., "file:1/model.onnx": "<base64 of SIZE_MIB random bytes>"}}. The file is not an ONNX
# model, so the answer is a 400 once it has been staged and checked: what is measured is reading the request.
# Not run by CI. Everything goes to 127.0.0.1 only; the servers are killed on exit.
#   tests/MaaS.Benchmarks/load/triton-load-memory.sh <published server dir> [<another published server dir> ...]
#   SIZE_MIB=<n>   the file's size (default 300)
# Publish a server with: dotnet publish src/MaaS.Server -c Release -o <dir>
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 <published server dir>..." >&2; exit 2; }
root="$(cd "$(dirname "$0")/../../.." && pwd)"
size_mib="${SIZE_MIB:-300}"
[[ "$size_mib" =~ ^[0-9]+$ ]] || { echo "SIZE_MIB must be a number" >&2; exit 2; }
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/body.json" "$size_mib" <<'PY'
import base64, os, sys
path, size = sys.argv[1], int(sys.argv[2]) << 20
with open(path, 'wb') as body:
    body.write(b'{"parameters": {"config": "{\\"max_batch_size\\": 0}", "file:1/model.onnx": "')
    left = size
    while left > 0:
        n = min(3 << 20, left)
        body.write(base64.b64encode(os.urandom(n)))
        left -= n
    body.write(b'"}}')
PY
echo "request body: $(( $(stat -c %s "$work/body.json") >> 20 )) MiB for a ${size_mib} MiB file"

port=18790
for dir in "$@"; do
    port=$((port + 1))
    repo="$work/repo-$port"
    mkdir -p "$repo"
    cp -r "$root/models/mlp" "$repo/"
    dotnet "$dir/MaaS.Server.dll" --urls "http://127.0.0.1:$port" --grpc-port 0 --model-repository "$repo" \
        --Serilog:MinimumLevel:Default=Warning >"$work/server-$port.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 200); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready" && break
        sleep 0.3
    done
    before=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
    started=$(date +%s%N)
    status=$(curl -s -o "$work/answer" -w '%{http_code}' -X POST --data-binary @"$work/body.json" \
        "http://127.0.0.1:$port/v2/repository/models/big/load")
    elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
    echo "$dir: HTTP $status in $elapsed_ms ms; RSS before $((before >> 10)) MiB, peak $((peak >> 10)) MiB; $(head -c 160 "$work/answer")"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
done
