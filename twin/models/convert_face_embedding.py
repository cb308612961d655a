#!/usr/bin/env python3
"""Convert face-api's dlib face embedding (tfjs weights) to ONNX with numpy + onnx only.

    python twin/models/convert_face_embedding.py MODELS_DIR

Reads MODELS_DIR/faces/face_recognition_model-weights_manifest.json and
MODELS_DIR/faces/face_recognition_model.bin (npm `@vladmandic/face-api` 1.7.15, MIT; the weights
of dlib's `dlib_face_recognition_resnet_model_v1`, a ResNet with 29 convolutions trained by Davis
King for face verification, stored by tfjs: one binary of the tensors in manifest order, most
uint8-quantised as value = q * scale + min, the others float32 little-endian) and writes
MODELS_DIR/faces/face-embedding.onnx:

- input `chip` float32 [batch, 3, 150, 150]: an aligned face chip, RGB, values 0..255;
- output `embedding` float32 [batch, 128]: the face descriptor. Two chips of the same person are
  at a Euclidean distance under about 0.6 (dlib's threshold), different people above it.

The network (read from the package's `src/faceRecognitionNet/`): subtract the RGB mean
(122.782, 117.001, 104.298) and divide by 255; a 7x7 stride-2 "valid" convolution to 32
channels, a 3x3 stride-2 max pool; residual blocks (two 3x3 "same" convolutions, the second
without ReLU, plus the input, then ReLU) at 32 (x3), 64 (down + x3), 128 (down + x2) and 256
(down + x2 + down) channels. A "down" block uses stride-2 "valid" convolutions and adds the
input average-pooled 2x2 (zero channels appended when the width doubles; when the pooled map is
one pixel larger, the convolution output gets a zero row and column at the bottom and right).
Every convolution has a bias and a per-channel scale (y = (conv + bias) * w + b), folded here
into the convolution. The end: mean over the spatial positions, then a 256x128 matrix.

The ONNX graph is checked against a numpy forward pass written from the same description in
the tfjs layout (NHWC): the maximum absolute difference on a random chip is printed and must be
below 1e-4. Deterministic: the same weights and onnx version give the same bytes (pinned in
twin/models/manifest.sha256).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

MANIFEST = "faces/face_recognition_model-weights_manifest.json"
WEIGHTS = "faces/face_recognition_model.bin"
TARGET = "faces/face-embedding.onnx"
SIZE = 150
MEAN_RGB = np.array([122.782, 117.001, 104.298], np.float32)
# (block name, kind) in order; "down" blocks halve the size and (except the last) double the width.
BLOCKS = [
    ("conv32_1", "same"), ("conv32_2", "same"), ("conv32_3", "same"),
    ("conv64_down", "down"), ("conv64_1", "same"), ("conv64_2", "same"), ("conv64_3", "same"),
    ("conv128_down", "down"), ("conv128_1", "same"), ("conv128_2", "same"),
    ("conv256_down", "down"), ("conv256_1", "same"), ("conv256_2", "same"),
    ("conv256_down_out", "down"),
]
TOLERANCE = 1e-4


def load_weights(folder: Path) -> dict[str, np.ndarray]:
    """Tensor name -> float32 array in the tfjs layout (filters HWIO)."""
    groups = json.loads((folder / MANIFEST).read_text())
    data = (folder / WEIGHTS).read_bytes()
    out: dict[str, np.ndarray] = {}
    offset = 0
    for group in groups:
        for spec in group["weights"]:
            shape = tuple(spec["shape"])
            count = int(np.prod(shape)) if shape else 1
            q = spec.get("quantization")
            if q is None:
                if spec["dtype"] != "float32":
                    raise SystemExit(f"{MANIFEST}: {spec['name']} has dtype {spec['dtype']}, expected float32")
                array = np.frombuffer(data, "<f4", count, offset)
                offset += 4 * count
            elif q["dtype"] == "uint8":
                raw = np.frombuffer(data, np.uint8, count, offset)
                array = raw.astype(np.float64) * q["scale"] + q["min"]
                offset += count
            else:
                raise SystemExit(f"{MANIFEST}: {spec['name']} uses {q['dtype']} quantisation, expected uint8")
            out[spec["name"]] = np.asarray(array, np.float32).reshape(shape)
    if offset != len(data):
        raise SystemExit(f"{WEIGHTS}: {len(data)} bytes but the manifest describes {offset}")
    return out


def folded(w: dict[str, np.ndarray], layer: str) -> tuple[np.ndarray, np.ndarray]:
    """Filters (HWIO) and bias of `layer` with its scale folded in."""
    s, b = w[f"{layer}/scale/weights"], w[f"{layer}/scale/biases"]
    return w[f"{layer}/conv/filters"] * s, w[f"{layer}/conv/bias"] * s + b


# ---- numpy reference, NHWC as tfjs runs it -------------------------------------------------

def np_conv(x: np.ndarray, filters: np.ndarray, bias: np.ndarray, stride: int, same: bool) -> np.ndarray:
    k = filters.shape[0]
    if same:  # stride 1, odd kernel: pad (k - 1) / 2 on every side
        p = (k - 1) // 2
        x = np.pad(x, ((p, p), (p, p), (0, 0)))
    h = (x.shape[0] - k) // stride + 1
    wd = (x.shape[1] - k) // stride + 1
    out = np.zeros((h, wd, filters.shape[3]), np.float64)
    for dy in range(k):
        for dx in range(k):
            patch = x[dy:dy + stride * (h - 1) + 1:stride, dx:dx + stride * (wd - 1) + 1:stride, :]
            out += patch @ filters[dy, dx].astype(np.float64)
    return out + bias


def np_pool(x: np.ndarray, k: int, stride: int, reduce) -> np.ndarray:
    h = (x.shape[0] - k) // stride + 1
    wd = (x.shape[1] - k) // stride + 1
    windows = [x[dy:dy + stride * (h - 1) + 1:stride, dx:dx + stride * (wd - 1) + 1:stride, :]
               for dy in range(k) for dx in range(k)]
    return reduce(np.stack(windows), axis=0)


def reference(w: dict[str, np.ndarray], chip_rgb: np.ndarray) -> np.ndarray:
    """The embedding of one chip [150, 150, 3] (RGB 0..255), float64."""
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    x = (chip_rgb.astype(np.float64) - MEAN_RGB) / 255.0
    x = relu(np_conv(x, *folded(w, "conv32_down"), stride=2, same=False))
    x = np_pool(x, 3, 2, np.max)
    for name, kind in BLOCKS:
        if kind == "same":
            y = relu(np_conv(x, *folded(w, f"{name}/conv1"), stride=1, same=True))
            y = np_conv(y, *folded(w, f"{name}/conv2"), stride=1, same=True)
            x = relu(y + x)
        else:
            y = relu(np_conv(x, *folded(w, f"{name}/conv1"), stride=2, same=False))
            y = np_conv(y, *folded(w, f"{name}/conv2"), stride=1, same=True)
            pooled = np_pool(x, 2, 2, np.mean)
            if pooled.shape[0] != y.shape[0]:
                y = np.pad(y, ((0, 1), (0, 1), (0, 0)))
            if pooled.shape[2] != y.shape[2]:
                pooled = np.concatenate([pooled, np.zeros_like(pooled)], axis=2)
            x = relu(pooled + y)
    return x.mean(axis=(0, 1)) @ w["fc"].astype(np.float64)


# ---- ONNX graph, NCHW ----------------------------------------------------------------------

class Graph:
    def __init__(self, w: dict[str, np.ndarray]) -> None:
        self.w, self.nodes, self.inits, self.n = w, [], [], 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, prefix: str, array: np.ndarray, dtype=np.float32) -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype), name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs) -> str:
        out = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x: str, layer: str, stride: int, same: bool, relu: bool) -> str:
        filters, bias = folded(self.w, layer)
        k = filters.shape[0]
        p = (k - 1) // 2 if same else 0
        y = self.node("Conv", [x, self.const("w", filters.transpose(3, 2, 0, 1)), self.const("b", bias)], "conv",
                      kernel_shape=[k, k], strides=[stride, stride], pads=[p, p, p, p])
        return self.node("Relu", [y], "relu") if relu else y

    def pad(self, x: str, pads: list[int]) -> str:
        return self.node("Pad", [x, self.const("pads", pads, np.int64)], "pad", mode="constant")


def build(w: dict[str, np.ndarray]) -> onnx.ModelProto:
    g = Graph(w)
    # Sizes through the network (tfjs "valid" arithmetic) to know where padding is needed.
    size = (SIZE - 7) // 2 + 1
    size = (size - 3) // 2 + 1
    mean = g.const("mean", MEAN_RGB.reshape(1, 3, 1, 1))
    x = g.node("Sub", ["chip", mean], "centred")
    x = g.node("Div", [x, g.const("range", np.array(255.0))], "scaled")
    x = g.conv(x, "conv32_down", 2, same=False, relu=True)
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])
    for name, kind in BLOCKS:
        if kind == "same":
            y = g.conv(x, f"{name}/conv1", 1, same=True, relu=True)
            y = g.conv(y, f"{name}/conv2", 1, same=True, relu=False)
        else:
            y = g.conv(x, f"{name}/conv1", 2, same=False, relu=True)
            y = g.conv(y, f"{name}/conv2", 1, same=True, relu=False)
            conv_size, pooled_size = (size - 3) // 2 + 1, size // 2
            x = g.node("AveragePool", [x], "avgpool", kernel_shape=[2, 2], strides=[2, 2])
            if pooled_size != conv_size:  # one zero row (bottom) and column (right)
                y = g.pad(y, [0, 0, 0, 0, 0, 0, pooled_size - conv_size, pooled_size - conv_size])
            in_ch = w[f"{name}/conv1/conv/filters"].shape[2]
            out_ch = w[f"{name}/conv2/conv/filters"].shape[3]
            if in_ch != out_ch:  # zero channels appended
                x = g.pad(x, [0, 0, 0, 0, 0, out_ch - in_ch, 0, 0])
            size = pooled_size
        x = g.node("Relu", [g.node("Add", [y, x], "add")], "relu")
    pooled = g.node("GlobalAveragePool", [x], "gap")
    flat = g.node("Flatten", [pooled], "flat", axis=1)
    g.nodes.append(helper.make_node("MatMul", [flat, g.const("fc", w["fc"])], ["embedding"]))
    graph = helper.make_graph(
        g.nodes, "dlib_face_embedding",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 128])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="argus convert_face_embedding.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> int:
    folder = Path(sys.argv[1])
    weights = load_weights(folder)
    model = build(weights)
    chip = np.random.default_rng(11).uniform(0, 255, (SIZE, SIZE, 3)).astype(np.float32)
    want = reference(weights, chip)
    (got,) = ReferenceEvaluator(model).run(None, {"chip": chip.transpose(2, 0, 1)[None]})
    diff = float(np.abs(got[0] - want).max())
    print(f"face embedding: ONNX vs numpy reference, max abs diff {diff:.2e} "
          f"(embedding norm {np.linalg.norm(want):.3f})")
    if not diff < TOLERANCE:
        raise SystemExit(f"face embedding: ONNX graph differs from the numpy reference by {diff} (> {TOLERANCE})")
    (folder / TARGET).write_bytes(model.SerializeToString())
    print(f"wrote {folder / TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
