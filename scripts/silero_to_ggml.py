#!/usr/bin/env python3
"""Silero VAD (the `silero-vad` PyPI wheel's TorchScript archive) → whisper.cpp's ggml VAD model file.

Reads silero_vad/data/silero_vad.jit without torch: a TorchScript archive is a zip whose data.pkl pickles the
module tree, with each tensor's storage in data/<key>; the unpickler below rebuilds tensors as numpy arrays and
modules as plain dicts. Writes the 16 kHz network in the layout whisper.cpp's VAD loader reads (its
models/convert-silero-vad-to-ggml.py: magic, "silero-16k", version, architecture sizes, then each tensor with
its dimensions reversed; convolution weights and the STFT basis in f16, the rest f32). For v6.2.0 the output is
byte for byte whisper.cpp's own models/for-tests-silero-v6.2.0-ggml.bin (tests: scripts/test_silero_to_ggml.py).

usage: silero_to_ggml.py WHEEL_OR_JIT OUT.bin --version 6.2.0
"""
import argparse, collections, io, pickle, struct, sys, zipfile

import numpy as np

STORAGE = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
           "LongStorage": np.int64, "IntStorage": np.int32, "BoolStorage": np.bool_}
ENCODER = [(129, 128), (128, 64), (64, 64), (64, 128)]  # (in, out) channels, kernel 3
WINDOW, CONTEXT, KERNEL, HIDDEN = 512, 64, 3, 128


class _Module:
    """A scripted module as pickled: its state (attributes) arrives through __setstate__."""

    def __init__(self, *_):
        self.state = {}

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {}


def _tensor(storage, offset, size, stride, *_):
    if not size:
        return storage[offset:offset + 1].reshape(())
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=[s * storage.itemsize for s in stride])
    return view.copy()


def state_dict(jit_bytes):
    """Every tensor of the archive by its dotted attribute path (`_model.encoder.0.reparam_conv.weight`)."""
    archive = zipfile.ZipFile(io.BytesIO(jit_bytes))
    root = archive.namelist()[0].split("/")[0]

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return _tensor
            if module == "torch" and name.endswith("Storage"):
                return name
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if module == "torch.jit._pickle" and name.startswith("build_"):
                return lambda items: list(items)  # build_intlist, build_tensorlist, …: plain lists
            if module.startswith("__torch__"):
                return type(name, (_Module,), {})
            raise pickle.UnpicklingError(f"unexpected {module}.{name} in a TorchScript archive")

        def persistent_load(self, pid):
            _, kind, key, _location, _numel = pid
            if kind not in STORAGE:
                raise pickle.UnpicklingError(f"storage type {kind} not supported")
            return np.frombuffer(archive.read(f"{root}/data/{key}"), dtype=STORAGE[kind])

    tensors = {}

    def walk(module, prefix):
        for name, value in module.state.items():
            if isinstance(value, np.ndarray):
                tensors[prefix + name] = value
            elif isinstance(value, _Module):
                walk(value, prefix + name + ".")

    top = Unpickler(archive.open(f"{root}/data.pkl")).load()
    if not isinstance(top, _Module):
        raise ValueError("data.pkl does not hold a scripted module")
    walk(top, "")
    return tensors


def jit_from(path):
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            return wheel.read("silero_vad/data/silero_vad.jit")
    with open(path, "rb") as f:
        return f.read()


def write_ggml(tensors, out, version):
    major, minor, patch = (int(x) for x in version.split("."))
    names = []
    for i in range(len(ENCODER)):
        names += [f"_model.encoder.{i}.reparam_conv.weight", f"_model.encoder.{i}.reparam_conv.bias"]
    names += ["_model.decoder.rnn.weight_ih", "_model.decoder.rnn.weight_hh", "_model.decoder.rnn.bias_ih",
              "_model.decoder.rnn.bias_hh", "_model.decoder.decoder.2.weight", "_model.decoder.decoder.2.bias",
              "_model.stft.forward_basis_buffer"]
    missing = [n for n in names if n not in tensors]
    if missing:
        raise ValueError(f"not a Silero VAD v5/v6 archive: missing {', '.join(missing)}")
    i32 = lambda *xs: out.write(struct.pack(f"<{len(xs)}i", *xs))
    kind = b"silero-16k"
    i32(0x67676D6C, len(kind))
    out.write(kind)
    i32(major, minor, patch, WINDOW, CONTEXT, len(ENCODER))
    for cin, cout in ENCODER:
        i32(cin, cout, KERNEL)
    i32(HIDDEN, HIDDEN, HIDDEN, 1)
    for name in names:
        data = tensors[name]
        if name == "_model.stft.forward_basis_buffer":
            shape, half = [data.shape[2], data.shape[1], data.shape[0]], True
        else:
            data = data.squeeze()
            shape = list(reversed(data.shape))[:4]
            half = name.endswith("weight") and ("encoder" in name or "decoder.decoder.2" in name)
        data = np.ascontiguousarray(data, dtype=np.float16 if half else np.float32)
        encoded = name.encode()
        i32(len(shape), len(encoded), 1 if half else 0, *shape)
        out.write(encoded)
        out.write(data.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="the silero-vad wheel, or its silero_vad.jit")
    ap.add_argument("out")
    ap.add_argument("--version", required=True, help="the wheel's version, written into the header (6.2.0)")
    a = ap.parse_args()
    try:
        tensors = state_dict(jit_from(a.source))
        with open(a.out, "wb") as out:
            write_ggml(tensors, out, a.version)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        sys.exit(f"silero_to_ggml: {a.source}: {e}")


if __name__ == "__main__":
    main()
