#!/usr/bin/env bash
# gRPC against HTTP on the published server, measured in the same run, with the same model and the same tensors:
#   http  POST /v2/models/<m>/infer with a V2 binary body (JSON header, then the tensors, with
#         Inference-Header-Content-Length), binary outputs requested; one HttpClient (SocketsHttpHandler), HTTP/1.1,
#         a connection per caller.
#   grpc  inference.GRPCInferenceService/ModelInfer with the tensors in raw_input_contents, the same outputs
#         requested; one GrpcChannel, every caller a stream on one HTTP/2 connection (h2c).
# Both are driven by the same .NET client (`MaaS.Benchmarks load`: a closed loop of C callers sending one request
# built once, checking every answer and counting the failed ones), so only the protocol differs; wrk would compare
# a C client with a .NET one. The models: mlp (input FP32 [1,4]: the protocols' fixed costs dominate) and transformer
# (input_ids and attention_mask INT64 [1,32], outputs embedding and logits).
#
# A fresh .NET server needs seconds under load to reach full speed (tiered JIT), so each model is warmed up first over
# both protocols, then each concurrency runs in interleaved windows (http, grpc, then grpc, http; `rounds` windows
# each) and each protocol's medians are reported, with grpc/http: gRPC's req/s over HTTP's. Drift on the machine
# touches both alike, and the ratio holds better than the numbers. The client shares the cores with the server.
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/grpc-vs-http.sh /tmp/maas-release [seconds per window, 5] [rounds, 3] [concurrencies, "1 8 64"]
# About 4 minutes with the defaults. Environment:
#   MODELS="<m> ..."   only these models (default: mlp transformer).
#   WARMUP=<seconds>   untimed window per protocol, at the highest concurrency, before each model (default 3).
#   PORT=<port>        the server's HTTP port; gRPC takes the next one (default 18700).
#   CHANNELS=<n>       gRPC channels (HTTP/2 connections) the gRPC client spreads its calls over (default 1).
#   CLIENT=h2load      drive both protocols with nghttp2's h2load (Debian's nghttp2-client) instead of the .NET client:
#                      a C load generator, so that the client's own HTTP/2 and gRPC stack (the .NET one costs more CPU per
#                      call than its HTTP/1.1 client, on the cores the server shares) does not weigh on one protocol.
#                      HTTP/1.1 with a connection per caller (--h1 -c C -m 1); gRPC over one HTTP/2 connection with C
#                      streams (-c 1 -m C), as one tritonclient channel. Latencies from h2load's per-request log; gRPC
#                      answers come as HTTP 200 whatever their grpc-status, so failed calls are read from the server's
#                      statistics after each model.
# The server inherits the environment, so its settings can be varied per run, e.g.
#   MaaS__Sessions__InstanceCount=1 grpc-vs-http.sh /tmp/maas-release
set -euo pipefail
server_dir="$(cd "$1" && pwd)"
seconds="${2:-5}"
rounds="${3:-3}"
concurrencies="${4:-1 8 64}"
warmup="${WARMUP:-3}"
models="${MODELS:-mlp transformer}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
http_port="${PORT:-18700}"
grpc_port=$((http_port + 1))
http_url="http://127.0.0.1:$http_port"
grpc_url="http://127.0.0.1:$grpc_port"
work="$(mktemp -d)"
server_pid=""
declare -A load_pid=() load_in=() load_out=()
table="$work/table"

cleanup() {
    for pid in "${load_pid[@]}" $server_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in "${load_pid[@]}" $server_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
fail() { echo "grpc-vs-http.sh: $*" >&2; exit 1; }

# The client runs with the server's GC (ASP.NET Core projects default to server GC; a console app does not).
export DOTNET_gcServer=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
client="${CLIENT:-dotnet}"
case "$client" in
    dotnet)
        log "publishing tests/MaaS.Benchmarks"
        dotnet publish "$root/tests/MaaS.Benchmarks" -c Release -o "$work/bench" >"$work/publish.log" 2>&1 || { tail -20 "$work/publish.log"; fail "publish failed"; }
        bench=("dotnet" "$work/bench/MaaS.Benchmarks.dll") ;;
    h2load) command -v h2load >/dev/null || fail "CLIENT=h2load needs h2load (apt-get install nghttp2-client)" ;;
    *) fail "CLIENT must be dotnet or h2load, not '$client'" ;;
esac

# ---------------------------------------------------------------------------------------------------- repository, bodies
repo="$work/repository"
mkdir -p "$repo" "$work/bodies"
for model in $models; do
    [ -f "$root/models/$model/config.json" ] || fail "no model '$model' in models/"
    cp -r "$root/models/$model" "$repo/"
done

# V2 binary bodies, batch 1, asking for binary outputs; the JSON header is padded with spaces to a multiple of 8 bytes
# so the tensors after it are aligned, as a client that cares would send them. The gRPC client takes its tensors from
# the same file.
python3 - "$work/bodies" <<'PY'
import json, struct, sys
out = sys.argv[1]

def write_binary(name, inputs, outputs):
    packed = [struct.pack("<%d%s" % (len(d), {"FP32": "f", "INT64": "q"}[t]), *d) for _, _, t, d in inputs]
    header = {
        "inputs": [{"name": n, "shape": s, "datatype": t, "parameters": {"binary_data_size": len(p)}}
                   for (n, s, t, _), p in zip(inputs, packed)],
        "outputs": [{"name": o, "parameters": {"binary_data": True}} for o in outputs],
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(f"{out}/{name}.bin", "wb") as f:
        f.write(text + b"".join(packed))
    with open(f"{out}/{name}.bin.header-length", "w") as f:
        f.write(str(len(text)))
    # The same call as a gRPC message (for CLIENT=h2load): ModelInferRequest with model_name (1), inputs (5: name 1,
    # datatype 2, shape 3), outputs (6: name 1) and raw_input_contents (7), after gRPC's 5-byte frame prefix.
    message = field(1, name.encode())
    for (n, s, t, _), p in zip(inputs, packed):
        message += field(5, field(1, n.encode()) + field(2, t.encode()) + field(3, b"".join(varint(d) for d in s)))
    message += b"".join(field(6, field(1, o.encode())) for o in outputs)
    message += b"".join(field(7, p) for p in packed)
    with open(f"{out}/{name}.grpc", "wb") as f:
        f.write(b"\x00" + struct.pack(">I", len(message)) + message)

def varint(n):
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([low])
        out += bytes([low | 0x80])

def field(number, payload):  # a length-delimited field
    return varint(number << 3 | 2) + varint(len(payload)) + payload

write_binary("mlp", [("input", [1, 4], "FP32", [5.1, 3.5, 1.4, 0.2])], ["logits"])
ids = [(i * 7) % 100 for i in range(32)]
write_binary("transformer", [("input_ids", [1, 32], "INT64", ids), ("attention_mask", [1, 32], "INT64", [1] * 32)],
             ["embedding", "logits"])
PY

# ---------------------------------------------------------------------------------------------------- processes
wait_for() {  # url, seconds, pid
    for _ in $(seq 1 $(($2 * 5))); do
        curl -sf -o /dev/null "$1" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

log "starting the server on $http_url (HTTP) and $grpc_url (gRPC)"
dotnet "$server_dir/MaaS.Server.dll" --urls "$http_url" --grpc-port "$grpc_port" --model-repository "$repo" \
    --Serilog:MinimumLevel:Default=Warning --MaaS:Shutdown:DelaySeconds=0 >"$work/server.log" 2>&1 &
server_pid=$!
wait_for "$http_url/v2/health/ready" 180 "$server_pid" || { cat "$work/server.log" >&2; fail "the server did not become ready"; }

# One load process per protocol and model, fed one window per line ("concurrency seconds") through a pipe, so both
# stay warm while their windows interleave. It makes one call before reading any line, and ends if that call fails.
start_load() {  # protocol, model
    local url="$http_url" fd_in fd_out
    [ "$1" = http ] || url="$grpc_url"
    rm -f "$work/$1.in" "$work/$1.out"
    mkfifo "$work/$1.in" "$work/$1.out"
    # The child must not hold the other process's pipe ends: that process would never read the end of its input.
    (
        for fd in "${load_in[@]}" "${load_out[@]}"; do eval "exec $fd>&-"; done
        exec "${bench[@]}" load --protocol "$1" --url "$url" --model "$2" --body "$work/bodies/$2.bin" \
            --header-length "$(cat "$work/bodies/$2.bin.header-length")" --channels "${CHANNELS:-1}"
    ) <"$work/$1.in" >"$work/$1.out" 2>>"$work/$1.log" &
    load_pid[$1]=$!
    exec {fd_in}>"$work/$1.in" {fd_out}<"$work/$1.out"
    load_in[$1]=$fd_in
    load_out[$1]=$fd_out
    # Its first line on standard error says the first call succeeded; if it ended instead, say why.
    for _ in $(seq 1 300); do
        grep -q "^$1: $2 at " "$work/$1.log" && return 0
        kill -0 "${load_pid[$1]}" 2>/dev/null || break
        sleep 0.2
    done
    tail -5 "$work/$1.log" >&2
    fail "the $1 client of $2 did not start"
}

stop_load() {  # protocol
    local fd_in="${load_in[$1]}" fd_out="${load_out[$1]}"
    exec {fd_in}>&- {fd_out}<&-
    wait "${load_pid[$1]}" 2>/dev/null || true
    unset "load_pid[$1]" "load_in[$1]" "load_out[$1]"
}

# ---------------------------------------------------------------------------------------------------- windows
window() {  # protocol, concurrency, seconds; prints "rps p50_ms p99_ms errors"
    local line
    if [ "$client" = h2load ]; then h2load_window "$@"; return; fi
    echo "$2 $3" >&"${load_in[$1]}"
    if ! read -r -t $((${3%.*} * 3 + 120)) line <&"${load_out[$1]}"; then
        tail -20 "$work/$1.log" >&2
        fail "the $1 client gave no result"
    fi
    awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%s %s %s %s\n", v["rps"], v["p50_ms"], v["p99_ms"], v["errors"] }' <<<"$line"
}

h2load_window() {  # protocol, concurrency, seconds
    local args out
    if [ "$1" = http ]; then
        args=(--h1 -c "$2" -m 1 -H "Inference-Header-Content-Length: $(cat "$work/bodies/$model.bin.header-length")"
              -d "$work/bodies/$model.bin" "$http_url/v2/models/$model/infer")
    else
        args=(-c 1 -m "$2" -H "content-type: application/grpc" -H "te: trailers" -d "$work/bodies/$model.grpc"
              "$grpc_url/inference.GRPCInferenceService/ModelInfer")
    fi
    rm -f "$work/h2load.requests"   # h2load appends to its log
    out=$(h2load -t 1 -D "$3" --log-file="$work/h2load.requests" "${args[@]}" 2>&1) || { echo "$out" >&2; fail "h2load failed"; }
    # "finished in 5.00s, 34328.33 req/s, ..."; "requests: N total, N started, N done, N succeeded, N failed, ..."
    # per request: start (us), status, duration (us)
    local rps bad
    rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
    bad=$(awk '/^requests:/ { print $2 - $8 }' <<<"$out")
    [ -n "$rps" ] || { echo "$out" >&2; fail "no result from h2load"; }
    cut -f3 "$work/h2load.requests" | sort -n | awk -v rps="$rps" -v bad="$bad" '{ v[NR] = $1 }
        END { printf "%s %.3f %.3f %s\n", rps, v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000, bad }'
}

# Failed calls of a model so far, from the server's statistics (a failed gRPC call is still an HTTP 200).
failed_calls() { curl -sf "$http_url/v2/models/$1/stats" | python3 -c 'import json, sys; print(sum(m["inference_stats"]["fail"]["count"] for m in json.load(sys.stdin)["model_stats"]))'; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# `rounds` rounds of one window per protocol, odd rounds http first, even rounds grpc first, so that neither always
# runs right after the other. Leaves each protocol's medians in $work/result.<protocol>: "rps p50 p99 errors".
measure() {  # model, concurrency
    local protocol round order
    for protocol in http grpc; do : >"$work/windows.$protocol"; done
    for round in $(seq 1 "$rounds"); do
        order="http grpc"
        [ $((round % 2)) = 1 ] || order="grpc http"
        for protocol in $order; do
            window "$protocol" "$2" "$seconds" >>"$work/windows.$protocol"
        done
    done
    for protocol in http grpc; do
        echo "$(cut -d' ' -f1 "$work/windows.$protocol" | median) $(cut -d' ' -f2 "$work/windows.$protocol" | median)" \
            "$(cut -d' ' -f3 "$work/windows.$protocol" | median) $(awk '{ s += $4 } END { print s + 0 }' "$work/windows.$protocol")" \
            >"$work/result.$protocol"
        log "$1 c=$2 $protocol: $(tr '\n' ' ' <"$work/windows.$protocol")"
    done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf("%.2f", a / b) }'; }

row() {  # model, concurrency
    local h_rps h_p50 h_p99 h_err g_rps g_p50 g_p99 g_err note=""
    read -r h_rps h_p50 h_p99 h_err <"$work/result.http"
    read -r g_rps g_p50 g_p99 g_err <"$work/result.grpc"
    [ "$h_err$g_err" = 00 ] || note="errors: http $h_err, grpc $g_err"
    printf "%-12s %4s %11.1f %8.3f %8.3f %11.1f %8.3f %8.3f %9s  %s\n" "$1" "$2" "$h_rps" "$h_p50" "$h_p99" \
        "$g_rps" "$g_p50" "$g_p99" "$(ratio "$g_rps" "$h_rps")" "$note" | tee -a "$table" >&2
}

# ---------------------------------------------------------------------------------------------------- run
printf "%-12s %4s %11s %8s %8s %11s %8s %8s %9s  %s\n" model c "http req/s" "p50 ms" "p99 ms" \
    "grpc req/s" "p50 ms" "p99 ms" grpc/http note | tee "$table" >&2
highest=$(printf '%s\n' $concurrencies | sort -n | tail -1)
for model in $models; do
    : >"$work/http.log"
    : >"$work/grpc.log"
    if [ "$client" = dotnet ]; then
        start_load http "$model"
        start_load grpc "$model"
    fi
    failed_before=$(failed_calls "$model")
    log "warming up $model: $warmup s per protocol at c=$highest"
    for protocol in http grpc; do window "$protocol" "$highest" "$warmup" >/dev/null; done
    for c in $concurrencies; do
        measure "$model" "$c"
        row "$model" "$c"
    done
    if [ "$client" = dotnet ]; then
        stop_load http
        stop_load grpc
    fi
    grep -h "calls failed" "$work/http.log" "$work/grpc.log" >&2 || true
    # h2load ends a window by closing its connections, which cancels the calls then in flight (the server counts them
    # as failed): at most the window's concurrency per window. More than that is a real failure.
    failed=$(($(failed_calls "$model") - failed_before))
    in_flight=$(( (2 * highest + 2 * rounds * $(printf '%s\n' $concurrencies | awk '{ s += $1 } END { print s }')) ))
    if [ "$client" = dotnet ] && [ "$failed" != 0 ] || [ "$failed" -gt "$in_flight" ]; then
        fail "$model: $failed calls failed on the server"
    fi
    [ "$failed" = 0 ] || log "$model: $failed calls cancelled at the end of h2load's windows (at most $in_flight were in flight)"
done

kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=""
if grep -E '\[(WRN|ERR|FTL)\]' "$work/server.log" | grep -v 'No API keys configured' >"$work/server.warnings"; then
    log "the server logged warnings or errors:"
    head -20 "$work/server.warnings" >&2
fi

echo "# $(nproc) cores; ${seconds} s windows, ${rounds} rounds, medians; the same client for both protocols ($client);"
echo "# grpc/http: gRPC's req/s over HTTP's (V2 binary tensors)"
cat "$table"
