"""Sends every bundled reference input through a server (V2 JSON) and compares with PyTorch's outputs (1e-4).

Usage: check_references.py BASE_URL REFERENCE_DIR [API_KEY]; the key, when given, is sent as a Bearer token."""
import json
import os
import sys
import urllib.request

base, references = sys.argv[1], sys.argv[2]
headers = {"Content-Type": "application/json"}
if len(sys.argv) > 3:
    headers["Authorization"] = f"Bearer {sys.argv[3]}"
failures = 0
for model in sorted(os.listdir(references)):
    for name in sorted(os.listdir(os.path.join(references, model))):
        version = name.split(".")[0]
        with open(os.path.join(references, model, name)) as handle:
            reference = json.load(handle)
        body = json.dumps({"inputs": reference["inputs"]}).encode()
        request = urllib.request.Request(f"{base}/v2/models/{model}/versions/{version}/infer", data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request) as response:
            outputs = {output["name"]: output for output in json.load(response)["outputs"]}
        for expected in reference["outputs"]:
            actual = outputs[expected["name"]]["data"]
            worst = max(abs(a - b) for a, b in zip(actual, expected["data"]))
            ok = len(actual) == len(expected["data"]) and worst <= 1e-4
            print(f"{'ok ' if ok else 'BAD'} {model} v{version} {expected['name']} max diff {worst:.2e}")
            failures += 0 if ok else 1
sys.exit(1 if failures else 0)
