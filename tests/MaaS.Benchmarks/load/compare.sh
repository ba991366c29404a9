#!/usr/bin/env bash
# The published server against its baselines, measured in the same run, on a request decoded once:
#   raw         the best a user could write with no serving layer: ONE ONNX Runtime session with default
#               SessionOptions (nothing from the server), shared by all the callers, which call Run at once.
#   raw-leased  the server's own choices without the server: its session options, two sessions, each leased by one
#               caller at a time. Shows what the serving layer costs over those choices, not whether they are right.
#   kestrel     a bare ASP.NET Core endpoint that reads the same body and answers the server's own response without
#               inference (what HTTP alone costs).
# wrk (Debian's package) drives the server and the Kestrel endpoint on 127.0.0.1; the raw loops run the same
# concurrency in their own processes, without HTTP.
#
# A fresh .NET server needs seconds under load to reach full speed (tiered JIT), so everything is warmed up first,
# then each scenario runs in interleaved windows (server, raw, kestrel, then the other way round; `rounds` windows
# each) and reports each target's median: drift on the machine touches every target alike, and the ratios hold
# better than the numbers. wrk shares the cores with the server and the Kestrel endpoint, not with the raw loop.
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/compare.sh /tmp/maas-release [seconds per window, 5] [rounds, 3] [concurrencies, "1 8 16"]
# Every model runs at each concurrency; the batching scenarios at c=64. About 25 minutes with the defaults on 2
# cores. Environment:
#   REAL_MODELS=<repository>  also runs each model <m> of that repository (e.g. the one models/prepare-real-models.sh
#                             writes) at the same concurrencies and targets, with the body REAL_BODIES/<m>.bin (a V2
#                             body: JSON header, then binary tensors) and <m>.bin.header-length (the JSON's length in
#                             bytes), or else <m>.json; models without a body are left out.
#   REAL_BODIES=<dir>         where those bodies are (default <repository>/../bodies).
#   MODELS="<m> ..."          only the scenarios of these models (default: all).
#   WARMUP=<seconds>          untimed window per target before each scenario (default 2).
#   PORT=<port>               the server's port; the Kestrel endpoint takes the next one (default 18600).
#   BATCHING=<json>           the batched models' dynamic_batching section (default {}: the server's defaults).
#   LOG_LEVEL=<level>         the server's Serilog default level (default: the server's own, Information, so every
#                             request writes its log line, as in production; Warning turns the request log off).
# The server's stdout is a pipe, read as a container runtime reads it; its lines above Information are kept, for errors.
# The server inherits the environment, so its settings can be varied per run, e.g.
#   MaaS__Sessions__InstanceCount=1 MODELS="conv96 conv96-batched" compare.sh /tmp/maas-release
set -euo pipefail
server_dir="$(cd "$1" && pwd)"
seconds="${2:-5}"
rounds="${3:-3}"
concurrencies="${4:-1 8 16}"
warmup="${WARMUP:-2}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
server_port="${PORT:-18600}"
kestrel_port=$((server_port + 1))
server_url="http://127.0.0.1:$server_port"
kestrel_url="http://127.0.0.1:$kestrel_port"
work="$(mktemp -d)"
server_pid="" kestrel_pid=""
declare -A raw_pid=() raw_in=() raw_out=()
table="$work/table"

cleanup() {
    for pid in "${raw_pid[@]}" $kestrel_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in "${raw_pid[@]}" $kestrel_pid $server_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
fail() { echo "compare.sh: $*" >&2; exit 1; }

# The baselines run with the server's GC (ASP.NET Core projects default to server GC; a console app does not).
export DOTNET_gcServer=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log "publishing tests/MaaS.Benchmarks"
dotnet publish "$root/tests/MaaS.Benchmarks" -c Release -o "$work/bench" >"$work/publish.log" 2>&1 || { tail -20 "$work/publish.log"; fail "publish failed"; }
bench=("dotnet" "$work/bench/MaaS.Benchmarks.dll")

# ---------------------------------------------------------------------------------------------------- repository
# The bundled models, image224 (a 3x224x224 input, for JSON against binary), deep_mlp (a call costs far more than a
# row), conv96 (a 3x96x96 image through four convolutions: compute-bound, milliseconds per image), and mlp,
# transformer, deep_mlp and conv96 again with dynamic batching on (max_batch_size kept), so on/off is one server,
# one run.
repo="$work/repository"
mkdir -p "$repo" "$work/bodies" "$work/responses"
# The small bundled models: all-MiniLM-L6-v2 (all-minilm-l6-v2*, written by the server's build) and the pipelines
# (measured by embeddings.sh and the image tests; an older build would not know their config) are left out.
for model in "$root"/models/*/; do
    case "$model" in */all-minilm-l6-v2*/) continue ;; esac
    if grep -q '"pipeline"' "$model/config.json" 2>/dev/null; then continue; fi
    if [ -f "$model/config.json" ]; then cp -r "$model" "$repo/"; fi
done
for model in image224 deep_mlp conv96; do cp -r "$root/tests/MaaS.Benchmarks/models/$model" "$repo/"; done
for model in mlp transformer deep_mlp conv96; do
    cp -r "$repo/$model" "$repo/$model-batched"
    python3 - "$repo/$model-batched/config.json" "$model-batched" "${BATCHING:-"{}"}" <<'PY'
import json, sys
path, name, batching = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    config = json.load(f)
config["name"] = name
config["dynamic_batching"] = json.loads(batching)
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY
done

real_models=()
if [ -n "${REAL_MODELS:-}" ]; then
    real_bodies="${REAL_BODIES:-$REAL_MODELS/../bodies}"
    for model_dir in "$REAL_MODELS"/*/; do
        model="$(basename "$model_dir")"
        if [ -f "$real_bodies/$model.bin" ]; then
            cp "$real_bodies/$model.bin" "$work/bodies/$model.bin"
            cp "$real_bodies/$model.bin.header-length" "$work/bodies/$model.bin.header-length" \
                || fail "$real_bodies/$model.bin needs $model.bin.header-length beside it"
        elif [ -f "$real_bodies/$model.json" ]; then
            cp "$real_bodies/$model.json" "$work/bodies/$model.json"
        else
            continue
        fi
        ln -s "$(cd "$model_dir" && pwd)" "$repo/$model"
        real_models+=("$model")
    done
    [ ${#real_models[@]} -gt 0 ] || fail "no model of REAL_MODELS=$REAL_MODELS has a body in $real_bodies"
fi

# ---------------------------------------------------------------------------------------------------- bodies
# V2 bodies, batch 1. Binary bodies ask for binary outputs, and their JSON header is padded with spaces to a
# multiple of 8 bytes so the tensors after it are aligned and used in place, as a client that cares would send them.
python3 - "$work/bodies" <<'PY'
import json, struct, sys
out = sys.argv[1]

def fp32(values):
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]

def write_json(name, inputs):
    body = {"inputs": [{"name": n, "shape": s, "datatype": t, "data": d} for n, s, t, d in inputs]}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(body, f, separators=(",", ":"))

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

write_json("mlp", [("input", [1, 4], "FP32", fp32([5.1, 3.5, 1.4, 0.2]))])
write_binary("cnn", [("image", [1, 1, 28, 28], "FP32", fp32([0.01 * (i % 100) for i in range(784)]))], ["logits"])
ids = [(i * 7) % 100 for i in range(32)]
write_binary("transformer", [("input_ids", [1, 32], "INT64", ids), ("attention_mask", [1, 32], "INT64", [1] * 32)],
             ["embedding", "logits"])
# Pixels normalised as a client would send them from numpy (float32 values, written in full by json).
image = fp32([((i * 7919) % 256) / 255.0 - 0.5 for i in range(3 * 224 * 224)])
write_json("image224", [("image", [1, 3, 224, 224], "FP32", image)])
write_binary("deep_mlp", [("features", [1, 16], "FP32", fp32([0.05 * i - 0.4 for i in range(16)]))], ["scores"])
write_binary("image224", [("image", [1, 3, 224, 224], "FP32", image)], ["logits"])
write_binary("conv96", [("image", [1, 3, 96, 96], "FP32", image[:3 * 96 * 96])], ["logits"])
write_binary("conv96-batched", [("image", [1, 3, 96, 96], "FP32", image[:3 * 96 * 96])], ["logits"])
PY

for body in "$work"/bodies/*.json "$work"/bodies/*.bin; do
    [ -f "$body" ] || continue
    {
        echo 'wrk.method = "POST"'
        echo "local f = assert(io.open(\"$body\", \"rb\"))"
        echo 'wrk.body = f:read("*a")'
        echo 'f:close()'
        if [ "${body##*.}" = bin ]; then
            echo 'wrk.headers["Content-Type"] = "application/octet-stream"'
            echo "wrk.headers[\"Inference-Header-Content-Length\"] = \"$(cat "$body.header-length")\""
        else
            echo 'wrk.headers["Content-Type"] = "application/json"'
        fi
    } >"$body.lua"
done

# ---------------------------------------------------------------------------------------------------- processes
wait_for() {  # url, seconds, pid
    for _ in $(seq 1 $(($2 * 5))); do
        curl -sf -o /dev/null "$1" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

log "starting the server on $server_url"
level_args=()
[ -z "${LOG_LEVEL:-}" ] || level_args=("--Serilog:MinimumLevel:Default=$LOG_LEVEL")
dotnet "$server_dir/MaaS.Server.dll" --urls "$server_url" --grpc-port 0 --model-repository "$repo" \
    "${level_args[@]}" --MaaS:Shutdown:DelaySeconds=0 > >(grep -vF ' INF] ' >"$work/server.log") 2>&1 &
server_pid=$!
wait_for "$server_url/v2/health/ready" 180 "$server_pid" || { sleep 1; cat "$work/server.log" >&2; fail "the server did not become ready"; }

# The Kestrel endpoint answers what the server answered: record one response per body.
for body in "$work"/bodies/*.json "$work"/bodies/*.bin; do
    [ -f "$body" ] || continue
    name="$(basename "$body")"
    model="${name%.*}"
    header=()
    [ ! -f "$body.header-length" ] || header=(-H "Inference-Header-Content-Length: $(cat "$body.header-length")")
    status=$(curl -s -o "$work/responses/$name" -D "$work/headers" -w '%{http_code}' -X POST --data-binary "@$body" \
        "${header[@]}" "$server_url/v2/models/$model/infer")
    [ "$status" = 200 ] || fail "the server answered $name with $status: $(head -c 500 "$work/responses/$name")"
    length=$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1) == "inference-header-content-length" { print $2 }')
    [ -z "$length" ] || echo "$length" >"$work/responses/$name.header-length"
done

log "starting the bare Kestrel endpoint on $kestrel_url"
"${bench[@]}" kestrel --port "$kestrel_port" --responses "$work/responses" >"$work/kestrel.log" 2>&1 &
kestrel_pid=$!
wait_for "$kestrel_url/" 60 "$kestrel_pid" || { cat "$work/kestrel.log" >&2; fail "the Kestrel endpoint did not start"; }

start_raw() {  # target (raw|raw-leased), model file, body file
    local header=() sharing=plain fd_in fd_out
    [ ! -f "$3.header-length" ] || header=(--header-length "$(cat "$3.header-length")")
    [ "$1" = raw ] || sharing=leased
    rm -f "$work/$1.in" "$work/$1.out"
    mkfifo "$work/$1.in" "$work/$1.out"
    # The child must not hold the other loop's pipe ends: that loop would never read the end of its input.
    (
        for fd in "${raw_in[@]}" "${raw_out[@]}"; do eval "exec $fd>&-"; done
        exec "${bench[@]}" raw --model "$2" --body "$3" "${header[@]}" --sharing "$sharing" --instances 2
    ) <"$work/$1.in" >"$work/$1.out" 2>>"$work/$1.log" &
    raw_pid[$1]=$!
    exec {fd_in}>"$work/$1.in" {fd_out}<"$work/$1.out"
    raw_in[$1]=$fd_in
    raw_out[$1]=$fd_out
}

stop_raw() {  # target
    local fd_in="${raw_in[$1]}" fd_out="${raw_out[$1]}"
    exec {fd_in}>&- {fd_out}<&-
    wait "${raw_pid[$1]}" 2>/dev/null || true
    unset "raw_pid[$1]" "raw_in[$1]" "raw_out[$1]"
}

# ---------------------------------------------------------------------------------------------------- windows
# Each prints "rps p50_ms p99_ms errors".
wrk_window() {  # url, lua, concurrency, seconds
    local threads=$(($3 < 2 ? 1 : 2))
    wrk -t"$threads" -c"$3" -d"$4s" --latency -s "$2" "$1" | awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { errors += $NF }
        /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
        END { printf "%s %s %s %d\n", rps, p50, p99, errors }'
}

raw_window() {  # target (raw|raw-leased), concurrency, seconds
    local line
    echo "$2 $3" >&"${raw_in[$1]}"
    if ! read -r -t $((${3%.*} * 3 + 120)) line <&"${raw_out[$1]}"; then
        tail -20 "$work/$1.log" >&2
        fail "the $1 loop gave no result"
    fi
    awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%s %s %s 0\n", v["rps"], v["p50_ms"], v["p99_ms"] }' <<<"$line"
}

window() {  # target, model, body, concurrency, seconds
    case "$1" in
        server) wrk_window "$server_url/v2/models/$2/infer" "$3.lua" "$4" "$5" ;;
        kestrel) wrk_window "$kestrel_url/$(basename "$3")" "$3.lua" "$4" "$5" ;;
        raw | raw-leased) raw_window "$1" "$4" "$5" ;;
    esac
}

# Odd rounds take the targets in order, even rounds in reverse, so that no target always runs right after another.
in_round_order() {  # round, targets...
    local round="$1"
    shift
    if [ $((round % 2)) = 1 ]; then echo "$@"; else printf '%s\n' "$@" | tac | tr '\n' ' '; fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Runs one scenario: a warm-up window per target, then `rounds` rounds of one window per target, in this order.
# Leaves each target's medians in $work/result.<target>: "rps p50 p99 errors".
measure() {  # model, body, concurrency, targets...
    local model="$1" body="$2" concurrency="$3" target round
    shift 3
    for target in "$@"; do
        window "$target" "$model" "$body" "$concurrency" "$warmup" >/dev/null
        : >"$work/windows.$target"
    done
    for round in $(seq 1 "$rounds"); do
        for target in $(in_round_order "$round" "$@"); do
            window "$target" "$model" "$body" "$concurrency" "$seconds" >>"$work/windows.$target"
        done
    done
    for target in "$@"; do
        local rps p50 p99 errors
        rps=$(cut -d' ' -f1 "$work/windows.$target" | median)
        p50=$(cut -d' ' -f2 "$work/windows.$target" | median)
        p99=$(cut -d' ' -f3 "$work/windows.$target" | median)
        errors=$(awk '{ s += $4 } END { print s + 0 }' "$work/windows.$target")
        echo "$rps $p50 $p99 $errors" >"$work/result.$target"
        log "$model $(basename "$body") c=$concurrency $target: $(tr '\n' ' ' <"$work/windows.$target")"
    done
}

row() {  # target, model, encoding, concurrency, vs raw, vs raw-leased, vs kestrel, note
    local rps p50 p99 errors note="$8"
    read -r rps p50 p99 errors <"$work/result.$1"
    [ "$errors" = 0 ] || note="$note errors: $errors"
    printf "%-10s %-20s %-6s %4s %10.1f %9.3f %9.3f %8s %8s %8s  %s\n" "$1" "$2" "$3" "$4" "$rps" "$p50" "$p99" "$5" "$6" "$7" "$note" | tee -a "$table" >&2
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf(a / b < 0.095 ? "%.3f" : "%.2f", a / b) }'; }
rps_of() { if [ -f "$work/result.$1" ]; then cut -d' ' -f1 "$work/result.$1"; else echo 0; fi; }

selected() { [ -z "${MODELS:-}" ] || [[ " $MODELS " == *" $1 "* ]]; }

compare() {  # model, model file, encoding (json|bin), targets...
    local model="$1" file="$2" encoding="$3" body="$work/bodies/$1.$3" c target
    shift 3
    selected "$model" || return 0
    rm -f "$work"/result.*
    local loops=()
    for target in "$@"; do [[ "$target" != raw* ]] || loops+=("$target"); done
    for target in "${loops[@]}"; do
        start_raw "$target" "$file" "$body"
        raw_window "$target" 1 3 >/dev/null   # the raw process's own warm-up: JIT, first runs
    done
    for c in $concurrencies; do
        measure "$model" "$body" "$c" "$@"
        for target in "$@"; do
            if [ "$target" = server ]; then
                row server "$model" "$encoding" "$c" "$(ratio "$(rps_of server)" "$(rps_of raw)")" \
                    "$(ratio "$(rps_of server)" "$(rps_of raw-leased)")" "$(ratio "$(rps_of server)" "$(rps_of kestrel)")" ""
            else
                row "$target" "$model" "$encoding" "$c" "" "" "" ""
            fi
        done
    done
    for target in "${loops[@]}"; do stop_raw "$target"; done
}

batching() {  # model, encoding, concurrency: server only, batching off (model) against on (model-batched)
    local model="$1" encoding="$2" c="$3" body="$work/bodies/$1.$2"
    selected "$model" || return 0
    for target in "$model" "$model-batched"; do
        window server "$target" "$body" "$c" "$warmup" >/dev/null
        : >"$work/windows.$target"
    done
    for round in $(seq 1 "$rounds"); do
        for target in $(in_round_order "$round" "$model" "$model-batched"); do
            window server "$target" "$body" "$c" "$seconds" >>"$work/windows.$target"
        done
    done
    for target in "$model" "$model-batched"; do
        echo "$(cut -d' ' -f1 "$work/windows.$target" | median) $(cut -d' ' -f2 "$work/windows.$target" | median)" \
            "$(cut -d' ' -f3 "$work/windows.$target" | median) $(awk '{ s += $4 } END { print s + 0 }' "$work/windows.$target")" \
            >"$work/result.$target"
        log "$target $encoding c=$c server: $(tr '\n' ' ' <"$work/windows.$target")"
    done
    cp "$work/result.$model" "$work/result.server"
    row server "$model" "$encoding" "$c" - - - "batching off"
    cp "$work/result.$model-batched" "$work/result.server"
    local p99_off p99_on
    p99_off=$(cut -d' ' -f3 "$work/result.$model")
    p99_on=$(cut -d' ' -f3 "$work/result.$model-batched")
    local mean_batch
    mean_batch=$(curl -s "$server_url/v2/models/$model-batched/stats" | python3 -c \
        'import json, sys; s = json.load(sys.stdin)["model_stats"][0]; print("%.1f" % (s["inference_count"] / max(1, s["execution_count"])))')
    row server "$model-batched" "$encoding" "$c" - - - \
        "batching on/off: req/s $(ratio "$(rps_of "$model-batched")" "$(rps_of "$model")")x, p99 $(ratio "$p99_on" "$p99_off")x, mean batch $mean_batch"
}

# ---------------------------------------------------------------------------------------------------- run
log "warming up the server (JSON and binary paths) and the Kestrel endpoint"
wrk_window "$server_url/v2/models/mlp/infer" "$work/bodies/mlp.json.lua" 16 5 >/dev/null
wrk_window "$server_url/v2/models/transformer/infer" "$work/bodies/transformer.bin.lua" 16 5 >/dev/null
wrk_window "$kestrel_url/mlp.json" "$work/bodies/mlp.json.lua" 16 5 >/dev/null

printf "%-10s %-20s %-6s %4s %10s %9s %9s %8s %8s %8s  %s\n" target model enc c "req/s" "p50 ms" "p99 ms" \
    "srv/raw" "srv/lsd" "srv/kes" note | tee "$table" >&2
all=(server raw raw-leased kestrel)
compare mlp "$repo/mlp/1/model.onnx" json "${all[@]}"
compare cnn "$repo/cnn/1/model.onnx" bin "${all[@]}"
compare transformer "$repo/transformer/1/model.onnx" bin "${all[@]}"
compare image224 "$repo/image224/1/model.onnx" json "${all[@]}"
compare image224 "$repo/image224/1/model.onnx" bin "${all[@]}"
compare conv96 "$repo/conv96/1/model.onnx" bin "${all[@]}"
# Batching on against the plain session running the same batch-1 requests.
compare conv96-batched "$repo/conv96/1/model.onnx" bin server raw
batching mlp json 64
batching transformer bin 64
batching deep_mlp bin 64
batching conv96 bin 64
for model in "${real_models[@]}"; do
    version=$(find -L "$repo/$model" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' -printf '%f\n' | sort -n | tail -1)
    encoding=bin
    [ -f "$work/bodies/$model.bin" ] || encoding=json
    compare "$model" "$repo/$model/$version/model.onnx" "$encoding" "${all[@]}"
done

kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=""
if grep -E '\[(WRN|ERR|FTL)\]' "$work/server.log" | grep -v 'No API keys configured' >"$work/server.warnings"; then
    log "the server logged warnings or errors:"
    head -20 "$work/server.warnings" >&2
fi

echo "# $(nproc) cores; ${seconds} s windows, ${rounds} rounds, medians; srv/raw, srv/lsd and srv/kes: the server's req/s over"
echo "# the plain session's (raw), the server-like leased sessions' (raw-leased) and the bare Kestrel endpoint's"
cat "$table"
