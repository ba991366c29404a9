#!/usr/bin/env bash
# Builds the CUDA flavour of the server (-p:OnnxRuntimeFlavor=cuda) and starts it on a machine without a GPU:
#   1. MaaS:ExecutionProvider=cuda falls back to the CPU, says why in a warning, reports "cpu" in GET /v2, and serves;
#   2. with MaaS:Cuda:Strict=true it refuses to start, exiting non-zero with a message that names CUDA.
# On a machine with a working GPU the first check instead sees "cuda" and says so. Prints one line per check and
# a final "cuda checks: N passed, N failed"; exits non-zero when a check failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
port="${MAAS_CUDA_CHECK_PORT:-18431}"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

passed=0
failed=0
check() { if [ "$2" = ok ]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1: $2"; failed=$((failed + 1)); fi; }

# A copy of the sources, so the CUDA restore does not touch the CPU build's obj/ folders.
tar -C "$root" --exclude=bin --exclude=obj -cf - src models Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig | tar -xf - -C "$work"
if ! dotnet publish "$work/src/MaaS.Server/MaaS.Server.csproj" -c Release -p:OnnxRuntimeFlavor=cuda -o "$work/out" >"$work/publish.log" 2>&1; then
    tail -20 "$work/publish.log"
    check "cuda flavour builds" "dotnet publish -p:OnnxRuntimeFlavor=cuda failed"
    echo "cuda checks: $passed passed, $failed failed"
    exit 1
fi
check "cuda flavour builds" ok
ls "$work/out/runtimes/linux-x64/native/" | grep -q libonnxruntime_providers_cuda.so \
    && check "cuda flavour ships the CUDA provider library" ok \
    || check "cuda flavour ships the CUDA provider library" "libonnxruntime_providers_cuda.so missing"

MaaS__ExecutionProvider=cuda dotnet "$work/out/MaaS.Server.dll" --urls "http://127.0.0.1:$port" --grpc-port 0 --model-repository "$work/models" >"$work/fallback.log" 2>&1 &
server=$!
metadata=""
for _ in $(seq 1 60); do
    metadata="$(curl -sf "http://127.0.0.1:$port/v2" 2>/dev/null)" && break
    sleep 0.5
done
provider="$(sed -n 's/.*"execution_provider":"\([a-z]*\)".*/\1/p' <<<"$metadata")"
if [ "$provider" = cuda ]; then
    check "cuda provider starts (a GPU is present)" ok
elif [ "$provider" = cpu ] && grep -q "CUDA cannot start; serving on the CPU instead. Cause:" "$work/fallback.log"; then
    check "without a GPU, cuda falls back to the CPU with a warning that says why" ok
else
    check "without a GPU, cuda falls back to the CPU with a warning that says why" "GET /v2 said '$metadata'; log: $(tail -5 "$work/fallback.log")"
fi
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break; sleep 0.5; done
answer="$(curl -s -X POST "http://127.0.0.1:$port/v2/models/mlp/infer" -d '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}')"
grep -q '"model_name":"mlp"' <<<"$answer" && check "the fallback server answers inference" ok || check "the fallback server answers inference" "$answer"
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=""

if [ "$provider" != cuda ]; then
    MaaS__ExecutionProvider=cuda MaaS__Cuda__Strict=true timeout 60 dotnet "$work/out/MaaS.Server.dll" \
        --urls "http://127.0.0.1:$port" --grpc-port 0 --model-repository "$work/models" >"$work/strict.log" 2>&1
    status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && grep -q "MaaS:Cuda:Strict is true, but the CUDA execution provider cannot start" "$work/strict.log"; then
        check "strict mode refuses to start, naming CUDA (exit $status)" ok
    else
        check "strict mode refuses to start, naming CUDA" "exit $status; log: $(tail -5 "$work/strict.log")"
    fi
fi

echo "cuda checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
