#!/usr/bin/env bash
# Cluster test: two replicas of the published server sharing one repository (polling on), behind Debian's nginx
# running the repository's docker/nginx.conf (upstreams and ports substituted), all on 127.0.0.1. Checks, through the
# load balancer: gRPC health on its gRPC port; (a) every bundled model answers like PyTorch; (b) a model uploaded through the balancer is served
# by both replicas within the poll interval; (c) SIGTERM of a replica under continuous load loses no request;
# (d) kill -9 of a replica under load: the balancer fails over, failures reported (at most the requests in flight);
# (e) the restarted replica rejoins. Every check under load also asserts that the load ran (wrk's request count above a
# floor) and counts socket errors (connect, read, write, timeout) and non-2xx answers as failed requests. The replicas
# have an admin API key, sent with every request through the balancer: without keys, management answers only loopback
# callers, and a request relayed by nginx is not one. Needs nginx, wrk and curl (.ci/run installs them). Prints
# "cluster: N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
lb=18600
lb_grpc=18610
ports=(18601 18602)
grpc_ports=(18611 18612)
key="cluster-admin-key-$RANDOM$RANDOM-0123456789"
auth=(-H "Authorization: Bearer $key")
# Fewest requests an 8 s load must complete to count as load (a 3 s one, half): far below what two replicas serve,
# far above nothing.
floor=200
declare -A pids=()
nginx_pid=""
passed=0
failed=0

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT
check() { if [ "$2" = ok ]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1: $2"; failed=$((failed + 1)); fi; }
finish() { echo "cluster: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

wait_ready() {  # port, seconds
    for _ in $(seq 1 $(( $2 * 5 ))); do curl -sf "http://127.0.0.1:$1/v2/health/ready" >/dev/null && return 0; sleep 0.2; done
    return 1
}

start_replica() {  # index
    local port=${ports[$1]}
    MaaS__RepositoryPollSeconds=1 MaaS__Shutdown__DelaySeconds=2 MaaS__ShutdownTimeoutSeconds=10 \
        MaaS__Auth__ApiKeys__0__Key="$key" MaaS__Auth__ApiKeys__0__Role=admin \
        dotnet "$work/server/MaaS.Server.dll" --urls "http://127.0.0.1:$port" --grpc-port "${grpc_ports[$1]}" --model-repository "$work/repository" \
        --Serilog:MinimumLevel:Default=Warning >>"$work/replica-$1.log" 2>&1 &
    pids[$1]=$!
}

load() {  # seconds, output file: wrk through the balancer on the mlp, JSON
    wrk -t2 -c8 -d"$1"s -s "$work/infer.lua" "http://127.0.0.1:$lb/v2/models/mlp/infer" >"$2" 2>&1
    echo "wrk exit code $?" >>"$2"
}

failures_in() {  # wrk output -> failed request count (non-2xx responses and socket errors)
    awk '/Non-2xx or 3xx responses/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}

requests_in() { awk '/requests in/ { n = $1 } END { print n + 0 }' "$1"; }

load_ran() {  # wrk output, floor -> "ok", or why the load does not count (wrk failed, or sent too few requests)
    if ! grep -q '^wrk exit code 0$' "$1"; then echo "wrk failed: $(tail -3 "$1" | tr '\n' ' ')";
    elif [ "$(requests_in "$1")" -lt "$2" ]; then echo "the load did not run: $(requests_in "$1") requests, fewer than $2";
    else echo ok; fi
}

# Build as docker/Dockerfile does, on a repository of the bundled models.
if ! dotnet publish "$root/src/MaaS.Server/MaaS.Server.csproj" -c Release -r linux-x64 --self-contained false -p:OnnxRuntimeFlavor=cpu -o "$work/server" >"$work/publish.log" 2>&1; then
    tail -20 "$work/publish.log"; check "publish" "dotnet publish failed"; finish
fi
mkdir -p "$work/repository"
# Every bundled model (a folder with a config.json; models/tools and models/samples are not models) but
# all-MiniLM-L6-v2 (all-minilm-l6-v2*: 90 MB per replica, and not what this checks).
for model in "$root"/models/*/; do
    case "$model" in */all-minilm-l6-v2*/) continue ;; esac
    if [ -f "$model/config.json" ]; then cp -r "${model%/}" "$work/repository/"; fi
done
printf 'wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
    "$key" "'{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[5.1,3.5,1.4,0.2]}]}'" >"$work/infer.lua"

start_replica 0
start_replica 1
wait_ready "${ports[0]}" 60 && wait_ready "${ports[1]}" 60 && check "both replicas start" ok || { check "both replicas start" "not ready in 60 s"; finish; }

# nginx with the repository's config: our upstreams, our port, files under the work directory.
mkdir -p "$work/nginx"
awk -v a="${ports[0]}" -v b="${ports[1]}" -v ga="${grpc_ports[0]}" -v gb="${grpc_ports[1]}" '
    /# upstreams-begin/ { print; print "        server 127.0.0.1:" a " max_fails=1 fail_timeout=5s;"; print "        server 127.0.0.1:" b " max_fails=1 fail_timeout=5s;"; skip = 1; next }
    /# grpc-upstreams-begin/ { print; print "        server 127.0.0.1:" ga " max_fails=1 fail_timeout=5s;"; print "        server 127.0.0.1:" gb " max_fails=1 fail_timeout=5s;"; skip = 1; next }
    /# (grpc-)?upstreams-end/ { skip = 0 }
    skip { next }
    /^[[:space:]]*(user|pid|error_log)[[:space:]]/ { next }
    { print }' "${MAAS_NGINX_CONF:-$root/docker/nginx.conf}" | sed -E -e "/# listen-port/s/listen[[:space:]]+[0-9]+/listen 127.0.0.1:$lb/" -e "/# grpc-listen-port/s/listen[[:space:]]+[0-9]+/listen 127.0.0.1:$lb_grpc/" >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g "daemon off; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;" \
    >"$work/nginx/output.log" 2>&1 &
nginx_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$lb/v2/health/ready" >/dev/null && break; sleep 0.2; done

# gRPC through the balancer's own port (nginx grpc_pass): grpc.health.v1.Health/Check, an empty request in gRPC's
# length-prefixed framing; the answer is one frame holding status SERVING (field 1 = 1: bytes 08 01).
health="$(printf '\0\0\0\0\0' | curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary @- "http://127.0.0.1:$lb_grpc/grpc.health.v1.Health/Check" | od -An -tx1 | tr -d ' \n')"
[ "$health" = 00000000020801 ] && check "gRPC health through the balancer answers SERVING" ok \
    || check "gRPC health through the balancer answers SERVING" "answered '$health'; $(tail -3 "$work/nginx/error.log" 2>/dev/null)"

# (a) every bundled model, through the balancer, against PyTorch's outputs.
if python3 "$root/tests/cluster/check_references.py" "http://127.0.0.1:$lb" "$root/models/tools/reference" "$key" >"$work/references.log" 2>&1; then
    check "(a) every bundled model answers like PyTorch through the balancer" ok
else
    check "(a) every bundled model answers like PyTorch through the balancer" "$(tail -3 "$work/references.log")"
fi

# (b) a model registered through the balancer is served by both replicas within the poll interval. Without the key the
# upload is refused (401): the replicas do not take nginx, a loopback peer, for a local caller.
anonymous=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$lb/v2/repository/models/anonymous/versions" --data-binary @"$root/models/mlp/1/model.onnx")
[ "$anonymous" = 401 ] && check "(b) an upload through the balancer without a key is refused" ok \
    || check "(b) an upload through the balancer without a key is refused" "answered $anonymous, not 401"
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "http://127.0.0.1:$lb/v2/repository/models/fresh/versions" --data-binary @"$root/models/mlp/1/model.onnx")
served=0
for _ in $(seq 1 40); do
    served=0
    for port in "${ports[@]}"; do curl -sf "${auth[@]}" "http://127.0.0.1:$port/v2/models/fresh/ready" >/dev/null && served=$((served + 1)); done
    [ "$served" -eq 2 ] && break
    sleep 0.25
done
[ "$code" = 201 ] && [ "$served" -eq 2 ] && check "(b) an upload through the balancer is served by both replicas" ok \
    || check "(b) an upload through the balancer is served by both replicas" "upload $code, served by $served replicas"

# (c) SIGTERM one replica under continuous load: nothing lost.
load 8 "$work/sigterm.txt" &
loader=$!
sleep 2
kill -TERM "${pids[0]}"
wait "$loader"
wait "${pids[0]}"; exit_code=$?
lost=$(failures_in "$work/sigterm.txt")
ran=$(load_ran "$work/sigterm.txt" "$floor")
[ "$ran" = ok ] && [ "$lost" -eq 0 ] && [ "$exit_code" -eq 0 ] && check "(c) SIGTERM under load: $(requests_in "$work/sigterm.txt") requests, none failed, exit 0" ok \
    || check "(c) SIGTERM under load" "$ran; $lost failed requests, exit code $exit_code"

start_replica 0
wait_ready "${ports[0]}" 60 || check "replica 0 restarts" "not ready"
sleep 2   # let nginx's fail_timeout for the stopped replica run out

# (d) kill -9 the other replica under load: the balancer fails over.
load 8 "$work/kill.txt" &
loader=$!
sleep 2
kill -KILL "${pids[1]}"
wait "$loader"
lost=$(failures_in "$work/kill.txt")
echo "kill -9 under load: $(requests_in "$work/kill.txt") requests, $lost failed"
ran=$(load_ran "$work/kill.txt" "$floor")
[ "$ran" = ok ] && [ "$lost" -le 8 ] && check "(d) kill -9 under load: $lost of $(requests_in "$work/kill.txt") requests failed (at most those in flight)" ok \
    || check "(d) kill -9 under load" "$ran; $lost requests failed (at most the 8 in flight may)"

# (e) restart it: it rejoins and takes traffic again.
start_replica 1
wait_ready "${ports[1]}" 60 || check "(e) replica 1 restarts" "not ready"
sleep 6   # nginx's fail_timeout for the killed replica
before=$(curl -s "http://127.0.0.1:${ports[1]}/metrics" | awk '/^nv_inference_request_success\{model="mlp"/ { print $2 }')
load 3 "$work/rejoin.txt"
after=$(curl -s "http://127.0.0.1:${ports[1]}/metrics" | awk '/^nv_inference_request_success\{model="mlp"/ { print $2 }')
lost=$(failures_in "$work/rejoin.txt")
ran=$(load_ran "$work/rejoin.txt" $(( floor / 2 )))
[ "$ran" = ok ] && [ "$lost" -eq 0 ] && [ "${after:-0}" -gt "${before:-0}" ] \
    && check "(e) the restarted replica rejoins ($(( ${after:-0} - ${before:-0} )) of $(requests_in "$work/rejoin.txt") requests, none failed)" ok \
    || check "(e) the restarted replica rejoins" "$ran; $lost failed requests; it served $(( ${after:-0} - ${before:-0} )) through the balancer"

finish
