#!/usr/bin/env python3
"""Export the bundled MaaS demo models to ONNX and write PyTorch reference vectors.

Run from anywhere (paths are resolved relative to this file):

    python3 models/tools/export_models.py

Writes, under models/:
    <name>/<version>/model.onnx, <name>/config.json, <name>/labels.txt (mlp, cnn)
    tools/reference/<name>/<version>.json   (inputs + expected outputs computed by PyTorch)

Everything is deterministic (fixed seeds); models are randomly initialised, tiny and
only meant for exercising the server end to end.
"""
import json
import math
import os

import torch
import torch.nn as nn

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
REFERENCE = os.path.join(HERE, "reference")
PROBE_DIR = None  # set by --probe-dir

TORCH_TO_V2 = {
    torch.float32: "FP32",
    torch.float64: "FP64",
    torch.float16: "FP16",
    torch.int64: "INT64",
    torch.int32: "INT32",
    torch.uint8: "UINT8",
    torch.bool: "BOOL",
}


# --------------------------------------------------------------------------- models

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, input):
        return self.net(input)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 4x14x14
            nn.Conv2d(4, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8x7x7
        )
        self.head = nn.Linear(8 * 7 * 7, 10)

    def forward(self, image):
        x = self.features(image)
        return self.head(torch.flatten(x, 1))


class RNN(nn.Module):
    def __init__(self, cell):
        super().__init__()
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn_cls(input_size=8, hidden_size=16, num_layers=1, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, sequence):
        out, _ = self.rnn(sequence)          # [batch, seq, 16]
        return self.head(out[:, -1, :])     # last time step == last hidden state


class EncoderLayer(nn.Module):
    """Post-LN transformer encoder layer with hand-written attention (plain ONNX ops)."""

    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln1 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)
        self.ln2 = nn.LayerNorm(d_model)

    def forward(self, x, key_bias):
        # x: [b, s, d]; key_bias: [b, 1, 1, s] (0 for real tokens, -1e9 for padding)
        b, s, d = x.shape
        qkv = self.qkv(x).reshape(b, s, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                        # [b, h, s, hd]
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        attn = torch.softmax(scores + key_bias, dim=-1)
        ctx = torch.matmul(attn, v).permute(0, 2, 1, 3).reshape(b, s, d)
        x = self.ln1(x + self.proj(ctx))
        x = self.ln2(x + self.ff2(torch.relu(self.ff1(x))))
        return x


class TinyTransformer(nn.Module):
    def __init__(self, vocab=100, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_pos=64, n_classes=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_pos, d_model)
        self.layers = nn.ModuleList([EncoderLayer(d_model, n_heads, d_ff) for _ in range(n_layers)])
        self.classifier = nn.Linear(d_model, n_classes)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device).unsqueeze(0)   # [1, s]
        x = self.tok(input_ids) + self.pos(positions)
        mask = attention_mask.to(torch.float32)                                # [b, s]
        key_bias = ((1.0 - mask) * -1e9).unsqueeze(1).unsqueeze(2)             # [b, 1, 1, s]
        for layer in self.layers:
            x = layer(x, key_bias)
        m = mask.unsqueeze(-1)                                                 # [b, s, 1]
        summed = (x * m).sum(dim=1)
        count = torch.clamp(m.sum(dim=1), min=1.0)
        embedding = summed / count
        return embedding, self.classifier(embedding)


# --------------------------------------------------------------------------- helpers

def tensor_json(name, t):
    t = t.detach().contiguous()
    if t.dtype.is_floating_point:
        # float32 values widened exactly to Python floats (full float32 precision)
        data = [float(v) for v in t.reshape(-1).tolist()]
    elif t.dtype == torch.bool:
        data = [bool(v) for v in t.reshape(-1).tolist()]
    else:
        data = [int(v) for v in t.reshape(-1).tolist()]
    return {"name": name, "datatype": TORCH_TO_V2[t.dtype], "shape": list(t.shape), "data": data}


def write_json(path, obj):
    """Write JSON; reference-vector files keep each tensor on a single line."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if "inputs" in obj and "outputs" in obj:
        head = ", ".join(f"{json.dumps(k)}: {json.dumps(obj[k])}" for k in obj if k not in ("inputs", "outputs"))
        parts = ["{" + head + ","]
        for i, key in enumerate(("inputs", "outputs")):
            rows = ",\n".join("    " + json.dumps(t) for t in obj[key])
            parts.append(f'  "{key}": [\n{rows}\n  ]' + ("," if i == 0 else ""))
        text = "\n".join(parts) + "\n}\n"
    else:
        text = json.dumps(obj, indent=2) + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def verify(model, path, input_names, probes):
    """Compare the exported ONNX graph with PyTorch on extra input shapes.

    Uses onnx.reference.ReferenceEvaluator when the installed onnx has it (>= 1.13);
    otherwise only the ONNX checker runs. Raises if outputs differ by more than 1e-4.
    """
    import onnx
    onnx.checker.check_model(onnx.load(path), full_check=True)
    try:
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        print("  (onnx.reference unavailable: skipped numeric check)")
        return
    sess = ReferenceEvaluator(path)
    for probe in probes:
        with torch.no_grad():
            expected = model(*probe)
        if isinstance(expected, torch.Tensor):
            expected = (expected,)
        got = sess.run(None, {n: t.numpy() for n, t in zip(input_names, probe)})
        worst = max(float(abs(g - e.numpy()).max()) for g, e in zip(got, expected))
        shapes = ", ".join("x".join(map(str, t.shape)) for t in probe)
        print(f"  onnx vs torch [{shapes}]: max abs diff {worst:.2e}")
        if not worst <= 1e-4:
            raise SystemExit(f"{path}: ONNX output differs from PyTorch ({worst})")


def export(model, name, version, args, input_names, output_names, dynamic_axes, ref_inputs, probes=()):
    model.eval()
    path = os.path.join(MODELS, name, str(version), "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, args, path,
            export_params=True, opset_version=OPSET, do_constant_folding=True,
            input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
        )
        outs = model(*ref_inputs)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    ref = {
        "model": name,
        "version": version,
        "inputs": [tensor_json(n, t) for n, t in zip(input_names, ref_inputs)],
        "outputs": [tensor_json(n, t) for n, t in zip(output_names, outs)],
    }
    write_json(os.path.join(REFERENCE, name, f"{version}.json"), ref)
    print(f"wrote {os.path.relpath(path, os.path.dirname(MODELS))}")
    verify(model, path, input_names, [tuple(ref_inputs)] + list(probes))
    if PROBE_DIR:
        # Extra PyTorch cases with other batch/sequence sizes, for checking the ONNX file
        # with an external runtime (same JSON layout as the reference vectors).
        for i, probe in enumerate(probes):
            with torch.no_grad():
                p_outs = model(*probe)
            if isinstance(p_outs, torch.Tensor):
                p_outs = (p_outs,)
            write_json(os.path.join(PROBE_DIR, f"{name}_{version}_probe{i}.json"), {
                "model": name, "version": version,
                "inputs": [tensor_json(n, t) for n, t in zip(input_names, probe)],
                "outputs": [tensor_json(n, t) for n, t in zip(output_names, p_outs)],
            })


def write_labels(name, labels):
    with open(os.path.join(MODELS, name, "labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")


def io(name, data_type, dims, **extra):
    d = {"name": name, "data_type": data_type, "dims": dims}
    d.update(extra)
    return d


# --------------------------------------------------------------------------- main

def transformer_probes():
    g = torch.Generator().manual_seed(99)
    probes = []
    for b, s, pad in ((1, 1, 0), (3, 3, 1), (2, 7, 3), (4, 64, 20)):
        ids = torch.randint(1, 100, (b, s), generator=g)
        mask = torch.ones(b, s, dtype=torch.int64)
        if pad:
            mask[-1, s - pad:] = 0
        probes.append((ids, mask))
    return probes


def main():
    # ---- mlp ----
    torch.manual_seed(0)
    mlp = MLP()
    x = torch.randn(3, 4)
    export(mlp, "mlp", 1, (x,), ["input"], ["logits"],
           {"input": {0: "batch"}, "logits": {0: "batch"}}, (x,), probes=[(torch.randn(1, 4),), (torch.randn(7, 4),)])
    write_labels("mlp", ["setosa", "versicolor", "virginica"])
    write_json(os.path.join(MODELS, "mlp", "config.json"), {
        "name": "mlp", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("input", "TYPE_FP32", [4])],
        "output": [io("logits", "TYPE_FP32", [3], label_filename="labels.txt")],
    })

    # ---- cnn ----
    torch.manual_seed(1)
    cnn = CNN()
    img = torch.rand(2, 1, 28, 28)
    export(cnn, "cnn", 1, (img,), ["image"], ["logits"],
           {"image": {0: "batch"}, "logits": {0: "batch"}}, (img,), probes=[(torch.rand(1, 1, 28, 28),)])
    write_labels("cnn", ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    write_json(os.path.join(MODELS, "cnn", "config.json"), {
        "name": "cnn", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("image", "TYPE_FP32", [1, 28, 28])],
        "output": [io("logits", "TYPE_FP32", [10], label_filename="labels.txt")],
    })

    # ---- rnn: version 1 = LSTM, version 2 = GRU ----
    for version, cell, seed in ((1, "lstm", 2), (2, "gru", 3)):
        torch.manual_seed(seed)
        rnn = RNN(cell)
        seq = torch.randn(2, 5, 8)
        dummy = torch.randn(3, 7, 8)   # export with different shapes than the reference
        export(rnn, "rnn", version, (dummy,), ["sequence"], ["output"],
               {"sequence": {0: "batch", 1: "seq"}, "output": {0: "batch"}}, (seq,),
               probes=[(torch.randn(2, 3, 8),), (torch.randn(2, 7, 8),), (torch.randn(1, 1, 8),), (torch.randn(4, 12, 8),)])
    write_json(os.path.join(MODELS, "rnn", "config.json"), {
        "name": "rnn", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "version_policy": {"all": {}},
        "input": [io("sequence", "TYPE_FP32", [-1, 8])],
        "output": [io("output", "TYPE_FP32", [4])],
    })

    # ---- transformer ----
    torch.manual_seed(4)
    tr = TinyTransformer()
    ids = torch.randint(1, 100, (2, 6), dtype=torch.int64)
    mask = torch.ones(2, 6, dtype=torch.int64)
    mask[1, 4:] = 0
    ids[1, 4:] = 0   # pad token id 0
    d_ids = torch.randint(1, 100, (3, 9), dtype=torch.int64)
    d_mask = torch.ones(3, 9, dtype=torch.int64)
    d_mask[2, 5:] = 0
    export(tr, "transformer", 1, (d_ids, d_mask), ["input_ids", "attention_mask"], ["embedding", "logits"],
           {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "embedding": {0: "batch"}, "logits": {0: "batch"}},
           (ids, mask), probes=transformer_probes())
    write_json(os.path.join(MODELS, "transformer", "config.json"), {
        "name": "transformer", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("input_ids", "TYPE_INT64", [-1]), io("attention_mask", "TYPE_INT64", [-1])],
        "output": [io("embedding", "TYPE_FP32", [32]), io("logits", "TYPE_FP32", [2])],
    })


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe-dir", help="also write extra PyTorch test cases (other batch/seq sizes) here")
    PROBE_DIR = parser.parse_args().probe_dir
    main()
