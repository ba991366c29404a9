#!/usr/bin/env python3
"""Export image224, the load benchmark's model for a 1x3x224x224 FP32 image (tests/MaaS.Benchmarks/load/compare.sh).

None of the bundled models takes an ImageNet-sized input, and the benchmark needs one to weigh JSON against binary
tensors of 600 KB: the model is a single strided convolution and a global average pool, so its compute is small and
the request's codec dominates. Generated once and committed; the benchmark itself does not need PyTorch.

    /usr/bin/python3 tests/MaaS.Benchmarks/models/export_image224.py

Writes image224/1/model.onnx and image224/config.json beside this file (fixed seed: the same bytes every run).
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BATCH = 8


class Image224(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=4, stride=4)   # 8x56x56
        self.pool = nn.AdaptiveAvgPool2d(1)                    # ONNX GlobalAveragePool
        self.head = nn.Linear(8, 10)

    def forward(self, image):
        x = self.pool(torch.relu(self.conv(image)))
        return self.head(torch.flatten(x, 1))


def main():
    torch.manual_seed(0)
    model = Image224().eval()
    path = os.path.join(HERE, "image224", "1", "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, (torch.zeros(1, 3, 224, 224),), path,
            export_params=True, opset_version=17, do_constant_folding=True,
            input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        )
    config = {
        "name": "image224",
        "platform": "onnxruntime_onnx",
        "max_batch_size": MAX_BATCH,
        "input": [{"name": "image", "data_type": "TYPE_FP32", "dims": [3, 224, 224]}],
        "output": [{"name": "logits", "data_type": "TYPE_FP32", "dims": [10]}],
    }
    with open(os.path.join(HERE, "image224", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
