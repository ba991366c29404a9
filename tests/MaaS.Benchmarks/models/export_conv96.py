#!/usr/bin/env python3
"""Export conv96, the load benchmark's compute-bound CNN (tests/MaaS.Benchmarks/load/compare.sh).

The class of model where convolution dominates: a 1x3x96x96 FP32 image through four 3x3 convolutions of 32, 64, 64
and 64 channels with ReLU, 2x2 max pools after the first, the second and the fourth, then a global average pool and
a linear head of 10 classes. About 185 MFLOPs per image, 2-3 ms on one session of a 2-core machine, so the request's
codec and HTTP are small beside Run and the way sessions and threads are shared is what the benchmark shows.
Generated once and committed; the benchmark itself does not need PyTorch.

    /usr/bin/python3 tests/MaaS.Benchmarks/models/export_conv96.py

Writes conv96/1/model.onnx and conv96/config.json beside this file (fixed seed: the same bytes every run).
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BATCH = 16


class Conv96(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 32x48x48
            nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 64x24x24
            nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.ReLU(),                    # 64x24x24
            nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 64x12x12
        )
        self.pool = nn.AdaptiveAvgPool2d(1)                                              # ONNX GlobalAveragePool
        self.head = nn.Linear(64, 10)

    def forward(self, image):
        x = self.pool(self.features(image))
        return self.head(torch.flatten(x, 1))


def main():
    torch.manual_seed(0)
    model = Conv96().eval()
    path = os.path.join(HERE, "conv96", "1", "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, (torch.zeros(1, 3, 96, 96),), path,
            export_params=True, opset_version=17, do_constant_folding=True,
            input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        )
    config = {
        "name": "conv96",
        "platform": "onnxruntime_onnx",
        "max_batch_size": MAX_BATCH,
        "input": [{"name": "image", "data_type": "TYPE_FP32", "dims": [3, 96, 96]}],
        "output": [{"name": "logits", "data_type": "TYPE_FP32", "dims": [10]}],
    }
    with open(os.path.join(HERE, "conv96", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
