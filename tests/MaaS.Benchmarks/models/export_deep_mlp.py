#!/usr/bin/env python3
"""Export deep_mlp, the load benchmark's model where batching pays (tests/MaaS.Benchmarks/load/compare.sh).

128 dense layers of 16 units: a call runs 257 small operators whose fixed cost (dispatch, thread hand-offs) dwarfs
the arithmetic of one row, so running 32 rows in one call costs little more than running one. Generated once and
committed; the benchmark itself does not need PyTorch.

    /usr/bin/python3 tests/MaaS.Benchmarks/models/export_deep_mlp.py

Writes deep_mlp/1/model.onnx and deep_mlp/config.json beside this file (fixed seed: the same bytes every run).
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BATCH = 64
WIDTH = 16
DEPTH = 128


class DeepMlp(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for _ in range(DEPTH):
            layers += [nn.Linear(WIDTH, WIDTH), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(WIDTH, 8)

    def forward(self, features):
        return self.head(self.body(features))


def main():
    torch.manual_seed(0)
    model = DeepMlp().eval()
    path = os.path.join(HERE, "deep_mlp", "1", "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, (torch.zeros(1, WIDTH),), path,
            export_params=True, opset_version=17, do_constant_folding=True,
            input_names=["features"], output_names=["scores"],
            dynamic_axes={"features": {0: "batch"}, "scores": {0: "batch"}},
        )
    config = {
        "name": "deep_mlp",
        "platform": "onnxruntime_onnx",
        "max_batch_size": MAX_BATCH,
        "input": [{"name": "features", "data_type": "TYPE_FP32", "dims": [WIDTH]}],
        "output": [{"name": "scores", "data_type": "TYPE_FP32", "dims": [8]}],
    }
    with open(os.path.join(HERE, "deep_mlp", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
