#!/usr/bin/env python3
"""Tests of the Silero VAD converter (scripts/silero_to_ggml.py).

    python3 scripts/test_silero_to_ggml.py [CACHED_MODEL]   # default: the cache's ggml-silero-v6.2.0.bin

The converted file must be whisper.cpp's own v6.2.0 file byte for byte: ../shared/audio holds that file
(models/for-tests-silero-v6.2.0-ggml.bin of whisper.cpp, the one its VAD tests use), and scripts/fetch-model pins
its checksum. Under CI both must be there.
"""
import collections
import hashlib
import io
import os
import pickle
import re
import subprocess
import sys
import tempfile
import types
import unittest
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import numpy as np  # noqa: E402

import silero_to_ggml as s  # noqa: E402

SHARED = Path(os.environ.get("HUASHU_SHARED_AUDIO") or HERE / "../../shared/audio") / "silero-v6.2.0-ggml.bin"
CACHE = Path(os.environ.get("HUASHU_MODEL_DIR") or Path.home() / ".cache/huashu/models")
CACHED = Path(sys.argv[1]) if len(sys.argv) > 1 else CACHE / "ggml-silero-v6.2.0.bin"
PINNED = re.search(r"SILERO_SHA=([0-9a-f]{64})", (HERE / "fetch-model").read_text()).group(1)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def need(path, what):
    if not path.is_file():
        if os.environ.get("CI"):
            raise AssertionError(f"{path} missing under CI ({what})")
        raise unittest.SkipTest(f"{path} missing ({what})")


class Converted(unittest.TestCase):
    def test_the_pin_is_whisper_cpps_own_file(self):
        need(SHARED, "../shared/audio")
        self.assertEqual(sha256(SHARED), PINNED)

    def test_the_cached_conversion_is_whisper_cpps_own_file(self):
        need(CACHED, "scripts/fetch-model silero")
        self.assertEqual(sha256(CACHED), PINNED)

    def test_header_and_tensors(self):
        need(CACHED, "scripts/fetch-model silero")
        data = CACHED.read_bytes()
        self.assertEqual(data[:4], (0x67676D6C).to_bytes(4, "little"))
        self.assertEqual(data[8:18], b"silero-16k")
        for name in (b"_model.encoder.0.reparam_conv.weight", b"_model.decoder.rnn.weight_hh",
                     b"_model.stft.forward_basis_buffer"):
            self.assertIn(name, data)
        self.assertNotIn(b"_model_8k", data)


class BadInput(unittest.TestCase):
    def run_converter(self, source):
        with tempfile.TemporaryDirectory() as d:
            return subprocess.run([sys.executable, str(HERE / "silero_to_ggml.py"), source, f"{d}/out.bin",
                                   "--version", "6.2.0"], capture_output=True, text=True)

    def test_not_an_archive_names_the_file(self):
        with tempfile.NamedTemporaryFile(suffix=".jit") as f:
            f.write(b"not a zip")
            f.flush()
            r = self.run_converter(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"silero_to_ggml: {f.name}: File is not a zip file", r.stderr)

    def test_an_archive_without_the_network_says_what_is_missing(self):
        with tempfile.NamedTemporaryFile(suffix=".jit") as f:
            f.write(archive(Top(Child({"w": Tensor("0", [[0.0, 1.0]])}))))
            f.flush()
            r = self.run_converter(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a Silero VAD v5/v6 archive: missing _model.encoder.0.reparam_conv.weight", r.stderr)

    def test_state_dict_reads_tensors_by_path(self):
        top = Top(Child({"w": Tensor("0", [[0.0, 1.0], [2.0, 3.0]]), "b": Tensor("1", [5.0])}))
        tensors = s.state_dict(archive(top))
        self.assertEqual(sorted(tensors), ["child.b", "child.w"])
        self.assertEqual(tensors["child.w"].tolist(), [[0.0, 1.0], [2.0, 3.0]])
        self.assertEqual(tensors["child.b"].tolist(), [5.0])


# A TorchScript archive in miniature, pickled the way torch.jit.save lays one out: modules as objects of
# `__torch__` classes with their attributes as state, tensors rebuilt by torch._utils._rebuild_tensor_v2 from a
# storage named by a persistent id and kept in data/<key>. Fake modules stand in for torch's so that pickle can
# name them; the converter never imports torch.
def _fake_modules():
    torch, utils, scripted = (types.ModuleType(n) for n in ("torch", "torch._utils", "__torch__"))

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled here, never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("Top", "Child"):
        cls = type(name, (), {"__module__": "__torch__", "__qualname__": name})
        setattr(scripted, name, cls)
    sys.modules.update({"torch": torch, "torch._utils": utils, "__torch__": scripted})
    return utils, scripted


UTILS, SCRIPTED = _fake_modules()


class Storage:
    def __init__(self, key, values):
        self.key, self.values = key, np.asarray(values, dtype=np.float32)


class Tensor:
    def __init__(self, key, values):
        self.storage = Storage(key, np.asarray(values, dtype=np.float32).ravel())
        self.shape = np.asarray(values).shape

    def __reduce__(self):
        strides = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (UTILS._rebuild_tensor_v2, (self.storage, 0, self.shape, strides, False, collections.OrderedDict()))


def Top(child):
    top = SCRIPTED.Top()
    top.child = child
    return top


def Child(attrs):
    child = SCRIPTED.Child()
    child.__dict__.update(attrs)
    return child


def archive(top):
    storages = []

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                storages.append(obj)
                return ("storage", "FloatStorage", obj.key, "cpu", obj.values.size)
            return None

    pkl = io.BytesIO()
    Pickler(pkl, protocol=2).dump(top)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m/data.pkl", pkl.getvalue())
        for st in storages:
            z.writestr(f"m/data/{st.key}", st.values.tobytes())
    return buf.getvalue()


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
