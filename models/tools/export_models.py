#!/usr/bin/env python3
"""Train the bundled MaaS models, export them to ONNX and write PyTorch reference vectors.

Run from anywhere (paths are resolved relative to this file; needs python3-torch, python3-onnx,
python3-sklearn and python3-pil, about two minutes on one core):

    python3 models/tools/export_models.py

Trains (docs/models.md describes the tasks and the accuracies reached):
    mlp          iris species from 4 measurements (sklearn's iris data set)
    cnn          handwritten digits, sklearn's 8x8 digits upsampled to 28x28 in [0, 1], white on black
    rnn          which of channels 0..3 has the largest sum over the sequence (synthetic; v1 LSTM, v2 GRU)
    transformer  token-id sentiment: more ids in 1..33 than in 34..66 is positive (synthetic)
    linear       y = w x + b by gradient descent on y = 3x + 2 + U(0,1) noise
    logistic     sigmoid(w x + b) by gradient descent on the label x > 0.5

Writes, under models/:
    <name>/<version>/model.onnx, <name>/config.json, <name>/labels.txt (mlp, cnn, rnn, transformer)
    samples/digit-<d>.png, samples/seven.png   (held-out digits the cnn classifies correctly)
    tools/reference/<name>/<version>.json   (inputs + expected outputs computed by PyTorch)

Everything is deterministic (fixed seeds, one thread); it stops with an error when a model misses
its target (mlp and cnn >= 95% held-out accuracy, linear and logistic close to the true line).
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


# --------------------------------------------------------------------------- data and training

def fold_standardisation(linear, mean, std):
    """Fold x' = (x - mean) / std into a Linear layer, so the model takes raw inputs."""
    with torch.no_grad():
        w = linear.weight / std                       # [out, in]
        linear.bias.sub_(w @ mean)
        linear.weight.copy_(w)


def train_classifier(model, inputs, labels, epochs, batch, lr, seed):
    """Adam on cross entropy over mini-batches, shuffled by a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = labels.shape[0]
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss_fn(model(*[t[idx] for t in inputs]), labels[idx]).backward()
            opt.step()
    model.eval()


def accuracy(logits, labels):
    return float((logits.argmax(dim=1) == labels).float().mean())


def split(n, test_fraction, seed):
    """A seeded shuffled split of range(n) into (train, test) index tensors."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = int(round(n * test_fraction))
    return order[n_test:], order[:n_test]


def digits_28x28():
    """sklearn's 8x8 digits (0..16) upsampled bilinearly to 1x28x28 in [0, 1], quantised to 8 bits like a PNG."""
    from sklearn.datasets import load_digits
    d = load_digits()
    small = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0          # [n, 1, 8, 8]
    big = torch.nn.functional.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
    pixels = torch.round(big.clamp(0.0, 1.0) * 255.0)                                  # what a PNG stores
    return pixels / 255.0, torch.tensor(d.target, dtype=torch.int64)


def rnn_batch(n, length, g):
    """The rnn task: which of channels 0..3 has the largest sum over the sequence (channels 4..7 are noise)."""
    seq = torch.randn(n, length, 8, generator=g)
    return seq, seq[:, :, :4].sum(dim=1).argmax(dim=1)


POSITIVE = range(1, 34)     # token ids of "positive" words
NEGATIVE = range(34, 67)    # token ids of "negative" words (67..99 are neutral, 0 is padding)


def sentiment_batch(n, max_len, g):
    """The transformer task: positive (1) when a sequence holds more ids in 1..33 than in 34..66, else negative (0).

    Lengths are uniform in 1..max_len, ids uniform in 1..99; sequences with a tie are drawn again.
    Returns right-padded ids (pad id 0), the attention mask and the labels.
    """
    ids = torch.zeros(n, max_len, dtype=torch.int64)
    mask = torch.zeros(n, max_len, dtype=torch.int64)
    labels = torch.zeros(n, dtype=torch.int64)
    row = 0
    while row < n:
        length = int(torch.randint(1, max_len + 1, (1,), generator=g))
        tokens = torch.randint(1, 100, (length,), generator=g)
        pos = int(((tokens >= 1) & (tokens <= 33)).sum())
        neg = int(((tokens >= 34) & (tokens <= 66)).sum())
        if pos == neg:
            continue
        ids[row, :length] = tokens
        mask[row, :length] = 1
        labels[row] = 1 if pos > neg else 0
        row += 1
    return ids, mask, labels


def fit_linear_by_gradient_descent(x, y, steps, lr):
    """Full-batch gradient descent on mean squared error for y = w x + b."""
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    return model


class Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def fit_logistic_by_gradient_descent(x, y, steps, lr):
    """Full-batch gradient descent on binary cross entropy."""
    model = Logistic()
    with torch.no_grad():
        model.linear.weight.zero_()
        model.linear.bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model.linear(x), y).backward()
        opt.step()
    return model


def save_samples(images, labels, model):
    """models/samples/digit-<d>.png (one held-out image per digit) and seven.png; each must be classified right."""
    from PIL import Image
    import numpy as np
    out = os.path.join(MODELS, "samples")
    os.makedirs(out, exist_ok=True)
    chosen = {}
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    for i in range(labels.shape[0]):
        d = int(labels[i])
        if d not in chosen and int(predicted[i]) == d:
            chosen[d] = i
    for d in range(10):
        pixels = (images[chosen[d], 0] * 255.0).round().to(torch.uint8).numpy()
        for name in [f"digit-{d}.png"] + (["seven.png"] if d == 7 else []):
            path = os.path.join(out, name)
            Image.fromarray(pixels, mode="L").save(path, optimize=True)
            # Read the file back the way a client would: 8-bit grayscale / 255 -> [0, 1].
            back = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
            with torch.no_grad():
                got = int(model(torch.from_numpy(back).reshape(1, 1, 28, 28)).argmax(dim=1))
            if got != d:
                raise SystemExit(f"{name}: the cnn answers {got}")
    print(f"wrote models/samples/digit-0..9.png, seven.png (held-out images, each classified right)")


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
    torch.set_num_threads(1)          # same arithmetic order on every machine
    torch.use_deterministic_algorithms(True)
    from sklearn.datasets import load_iris
    results = {}

    # ---- mlp: iris (sepal length, sepal width, petal length, petal width in cm) -> species ----
    iris = load_iris()
    x_all = torch.tensor(iris.data, dtype=torch.float32)
    y_all = torch.tensor(iris.target, dtype=torch.int64)
    train, test = split(150, 0.3, seed=10)
    mean, std = x_all[train].mean(dim=0), x_all[train].std(dim=0)
    torch.manual_seed(0)
    mlp = MLP()
    train_classifier(mlp, [(x_all[train] - mean) / std], y_all[train], epochs=200, batch=16, lr=0.01, seed=11)
    fold_standardisation(mlp.net[0], mean, std)
    with torch.no_grad():
        results["mlp"] = accuracy(mlp(x_all[test]), y_all[test])
    print(f"mlp: iris held-out accuracy {results['mlp']:.4f} ({len(test)} flowers)")
    assert results["mlp"] >= 0.95
    # One flower of each species from the held-out set.
    x = torch.stack([x_all[test][y_all[test] == c][0] for c in range(3)])
    export(mlp, "mlp", 1, (x,), ["input"], ["logits"],
           {"input": {0: "batch"}, "logits": {0: "batch"}}, (x,), probes=[(torch.randn(1, 4),), (torch.randn(7, 4),)])
    write_labels("mlp", ["setosa", "versicolor", "virginica"])
    write_json(os.path.join(MODELS, "mlp", "config.json"), {
        "name": "mlp", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("input", "TYPE_FP32", [4])],
        "output": [io("logits", "TYPE_FP32", [3], label_filename="labels.txt")],
    })

    # ---- cnn: handwritten digits, 1x28x28 in [0, 1], white strokes on black ----
    images, digits = digits_28x28()
    train, test = split(images.shape[0], 0.2, seed=20)
    torch.manual_seed(1)
    cnn = CNN()
    train_classifier(cnn, [images[train]], digits[train], epochs=12, batch=32, lr=0.005, seed=21)
    with torch.no_grad():
        results["cnn"] = accuracy(cnn(images[test]), digits[test])
    print(f"cnn: digits held-out accuracy {results['cnn']:.4f} ({len(test)} images)")
    assert results["cnn"] >= 0.95
    img = images[test][:2]
    export(cnn, "cnn", 1, (img,), ["image"], ["logits"],
           {"image": {0: "batch"}, "logits": {0: "batch"}}, (img,), probes=[(torch.rand(1, 1, 28, 28),)])
    write_labels("cnn", ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    write_json(os.path.join(MODELS, "cnn", "config.json"), {
        "name": "cnn", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("image", "TYPE_FP32", [1, 28, 28])],
        "output": [io("logits", "TYPE_FP32", [10], label_filename="labels.txt")],
    })
    save_samples(images[test], digits[test], cnn)

    # ---- rnn: version 1 = LSTM, version 2 = GRU, both on the channel-sum task ----
    for version, cell, seed in ((1, "lstm", 2), (2, "gru", 3)):
        torch.manual_seed(seed)
        rnn = RNN(cell)
        g = torch.Generator().manual_seed(30 + version)
        opt = torch.optim.Adam(rnn.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        rnn.train()
        for step in range(1500):
            seq, target = rnn_batch(64, int(torch.randint(1, 17, (1,), generator=g)), g)
            opt.zero_grad()
            loss_fn(rnn(seq), target).backward()
            opt.step()
        rnn.eval()
        g_test = torch.Generator().manual_seed(40 + version)
        correct = total = 0
        with torch.no_grad():
            for length in range(1, 17):
                seq, target = rnn_batch(250, length, g_test)
                correct += int((rnn(seq).argmax(dim=1) == target).sum())
                total += 250
        results[f"rnn/{version}"] = correct / total
        print(f"rnn/{version} ({cell}): held-out accuracy {correct / total:.4f} ({total} sequences, lengths 1..16)")
        seq, _ = rnn_batch(2, 5, torch.Generator().manual_seed(50 + version))
        dummy = torch.randn(3, 7, 8)   # export with different shapes than the reference
        export(rnn, "rnn", version, (dummy,), ["sequence"], ["output"],
               {"sequence": {0: "batch", 1: "seq"}, "output": {0: "batch"}}, (seq,),
               probes=[(torch.randn(2, 3, 8),), (torch.randn(2, 7, 8),), (torch.randn(1, 1, 8),), (torch.randn(4, 12, 8),)])
    write_labels("rnn", ["channel-0", "channel-1", "channel-2", "channel-3"])
    write_json(os.path.join(MODELS, "rnn", "config.json"), {
        "name": "rnn", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "version_policy": {"all": {}},
        "input": [io("sequence", "TYPE_FP32", [-1, 8])],
        "output": [io("output", "TYPE_FP32", [4], label_filename="labels.txt")],
    })

    # ---- transformer: token-id sentiment (more positive than negative word ids) ----
    torch.manual_seed(4)
    tr = TinyTransformer()
    g = torch.Generator().manual_seed(60)
    opt = torch.optim.Adam(tr.parameters(), lr=0.002)
    loss_fn = nn.CrossEntropyLoss()
    tr.train()
    for step in range(1200):
        ids, mask, target = sentiment_batch(64, 24, g)
        opt.zero_grad()
        loss_fn(tr(ids, mask)[1], target).backward()
        opt.step()
    tr.eval()
    ids, mask, target = sentiment_batch(2000, 24, torch.Generator().manual_seed(61))
    with torch.no_grad():
        results["transformer"] = accuracy(tr(ids, mask)[1], target)
    print(f"transformer: held-out accuracy {results['transformer']:.4f} (2000 sequences, lengths 1..24)")
    # Row 0: three positive ids (5, 12, 3), one negative (40) -> positive; row 1 (4 real tokens): 40, 50 vs 10 -> negative.
    ids = torch.tensor([[5, 70, 12, 80, 40, 3], [40, 50, 71, 10, 0, 0]], dtype=torch.int64)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], dtype=torch.int64)
    d_ids = torch.randint(1, 100, (3, 9), dtype=torch.int64)
    d_mask = torch.ones(3, 9, dtype=torch.int64)
    d_mask[2, 5:] = 0
    export(tr, "transformer", 1, (d_ids, d_mask), ["input_ids", "attention_mask"], ["embedding", "logits"],
           {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "embedding": {0: "batch"}, "logits": {0: "batch"}},
           (ids, mask), probes=transformer_probes())
    write_labels("transformer", ["negative", "positive"])
    write_json(os.path.join(MODELS, "transformer", "config.json"), {
        "name": "transformer", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("input_ids", "TYPE_INT64", [-1]), io("attention_mask", "TYPE_INT64", [-1])],
        "output": [io("embedding", "TYPE_FP32", [32]), io("logits", "TYPE_FP32", [2], label_filename="labels.txt")],
    })

    # ---- linear: y = 3x + 2 + U(0,1) noise, 100 points, gradient descent with a bias term ----
    g = torch.Generator().manual_seed(70)
    x = torch.rand(100, 1, generator=g)
    y = 3.0 * x + 2.0 + torch.rand(100, 1, generator=g)
    linear = fit_linear_by_gradient_descent(x, y, steps=5000, lr=0.1)
    results["linear"] = (float(linear.weight), float(linear.bias))
    print(f"linear: slope {results['linear'][0]:.4f}, intercept {results['linear'][1]:.4f}")
    assert abs(results["linear"][0] - 3.0) < 0.3 and abs(results["linear"][1] - 2.5) < 0.2
    x_ref = torch.tensor([[0.0], [0.5], [1.0]])
    export(linear, "linear", 1, (x_ref,), ["x"], ["y"], {"x": {0: "batch"}, "y": {0: "batch"}}, (x_ref,),
           probes=[(torch.tensor([[2.0]]),), (torch.rand(7, 1),)])
    write_json(os.path.join(MODELS, "linear", "config.json"), {
        "name": "linear", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("x", "TYPE_FP32", [1])],
        "output": [io("y", "TYPE_FP32", [1])],
    })

    # ---- logistic: P(x > 0.5) for x ~ U(0,1), gradient descent on cross entropy ----
    g = torch.Generator().manual_seed(80)
    x = torch.rand(100, 1, generator=g)
    y = (x > 0.5).to(torch.float32)
    logistic = fit_logistic_by_gradient_descent(x, y, steps=5000, lr=5.0)
    w, b = float(logistic.linear.weight), float(logistic.linear.bias)
    results["logistic"] = (w, b, -b / w)
    print(f"logistic: weight {w:.4f}, bias {b:.4f}, boundary {-b / w:.4f}")
    assert abs(-b / w - 0.5) <= 0.05
    x_ref = torch.tensor([[0.1], [0.5], [0.9]])
    export(logistic, "logistic", 1, (x_ref,), ["x"], ["probability"],
           {"x": {0: "batch"}, "probability": {0: "batch"}}, (x_ref,), probes=[(torch.tensor([[0.45]]),), (torch.rand(7, 1),)])
    write_json(os.path.join(MODELS, "logistic", "config.json"), {
        "name": "logistic", "platform": "onnxruntime_onnx", "max_batch_size": 64,
        "input": [io("x", "TYPE_FP32", [1])],
        "output": [io("probability", "TYPE_FP32", [1])],
    })
    return results


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe-dir", help="also write extra PyTorch test cases (other batch/seq sizes) here")
    PROBE_DIR = parser.parse_args().probe_dir
    main()
