#!/usr/bin/env python3
"""Tests of the CTranslate2 -> ggml converter on the converted models (scripts/fetch-model all first).

    python3 scripts/test_ct2_to_ggml.py [MODEL_DIR]     # default ${HUASHU_MODEL_DIR:-~/.cache/huashu/models}
"""
import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402

import ct2_to_ggml as c  # noqa: E402

MODEL_DIR = Path(os.environ.get("HUASHU_MODEL_DIR") or Path.home() / ".cache/huashu/models")


def expected_count(enc, dec):
    # conv1/2 weight+bias, positional, ln_post; per encoder block 15; decoder positional+token, per block 24, ln.
    return 4 + 1 + 2 + 15 * enc + 2 + 24 * dec + 2


class Converted(unittest.TestCase):
    def check(self, name, state, layers, vocab, n_tokens):
        path = MODEL_DIR / name
        if not path.exists():
            self.skipTest(f"{path} missing (scripts/fetch-model all)")
        info = c.inspect(path)
        hp = info["hparams"]
        self.assertEqual(hp["n_vocab"], vocab)
        self.assertEqual((hp["n_audio_state"], hp["n_text_state"]), (state, state))
        self.assertEqual((hp["n_audio_layer"], hp["n_text_layer"]), (layers, layers))
        self.assertEqual((hp["n_audio_ctx"], hp["n_text_ctx"], hp["n_mels"], hp["ftype"]), (1500, 448, 80, 1))
        self.assertEqual(info["mel"], [80, 201])
        self.assertEqual(info["vocab"], n_tokens)
        self.assertEqual(info["tensor_count"], expected_count(layers, layers))
        t = info["tensors"]
        self.assertEqual(t["encoder.conv1.weight"], {"shape": [state, 80, 3], "type": "f16"})
        self.assertEqual(t["encoder.conv1.bias"], {"shape": [state, 1], "type": "f32"})
        self.assertEqual(t["encoder.positional_embedding"], {"shape": [1500, state], "type": "f32"})
        self.assertEqual(t["decoder.token_embedding.weight"], {"shape": [vocab, state], "type": "f16"})
        self.assertEqual(t["decoder.positional_embedding"], {"shape": [448, state], "type": "f32"})
        last = layers - 1
        for blk in (f"encoder.blocks.{last}", f"decoder.blocks.{last}"):
            self.assertEqual(t[f"{blk}.attn.query.weight"]["shape"], [state, state])
            self.assertIn(f"{blk}.attn.query.bias", t)
            self.assertNotIn(f"{blk}.attn.key.bias", t)  # zero, and whisper.cpp rejects it
            self.assertEqual(t[f"{blk}.mlp.0.weight"]["shape"], [4 * state, state])
            self.assertEqual(t[f"{blk}.mlp_ln.weight"]["type"], "f32")
        self.assertNotIn(f"decoder.blocks.{last}.cross_attn.key.bias", t)
        self.assertEqual(t[f"decoder.blocks.{last}.cross_attn.value.weight"]["shape"], [state, state])

    def test_base(self):
        self.check("ggml-base.bin", 512, 6, 51865, 50257)

    def test_tiny_en(self):
        self.check("ggml-tiny.en.bin", 384, 4, 51864, 50256)

    def test_base_q8_0(self):
        path = MODEL_DIR / "ggml-base-q8_0.bin"
        if not path.exists():
            self.skipTest(f"{path} missing (scripts/fetch-model base --quantize q8_0)")
        info = c.inspect(path)
        self.assertEqual(info["hparams"]["ftype"], 2007)
        self.assertEqual(info["tensor_count"], expected_count(6, 6))
        t = info["tensors"]
        # Matrix weights (and the token embedding) in Q8_0; convolutions f16; positions, norms, biases f32.
        for name in ("encoder.blocks.0.attn.query.weight", "encoder.blocks.5.mlp.2.weight",
                     "decoder.blocks.5.cross_attn.key.weight", "decoder.token_embedding.weight"):
            self.assertEqual(t[name]["type"], "q8_0", name)
        self.assertEqual(t["encoder.conv2.weight"]["type"], "f16")
        for name in ("encoder.positional_embedding", "decoder.positional_embedding",
                     "encoder.blocks.0.attn.query.bias", "decoder.ln.weight"):
            self.assertEqual(t[name]["type"], "f32", name)
        self.assertEqual(sum(v["type"] == "q8_0" for v in t.values()), 1 + 6 * 6 + 6 * 10)


class Pieces(unittest.TestCase):
    def test_mel_filters(self):
        f = c.mel_filters()
        self.assertEqual(f.shape, (80, 201))
        self.assertEqual(f.dtype, np.float32)
        self.assertTrue((f >= 0).all())
        # Slaney normalisation: each triangle has unit area in Hz, so peaks shrink as bands widen.
        hz = np.fft.rfftfreq(400, 1 / 16000)
        areas = (f.astype(np.float64) * (hz[1] - hz[0])).sum(axis=1)
        self.assertTrue(np.allclose(areas[5:75], 1.0, atol=0.15), areas)
        self.assertGreater(f[0].max(), f[79].max())

    def test_byte_decoder(self):
        dec = c._byte_decoder()
        self.assertEqual(len(dec), 256)
        self.assertEqual(bytes(dec[ch] for ch in "Ġhello"), b" hello")

    def test_q8_0_block(self):
        x = np.zeros(32, dtype=np.float16)
        x[:4] = [-1.0, 0.5, 0.25, 0.0]
        raw = c.quantize_q8_0(x.reshape(1, 32))
        self.assertEqual(len(raw), 34)  # fp16 scale + 32 int8
        block = np.frombuffer(raw, dtype=c.Q8_0_BLOCK)[0]
        self.assertEqual(block["d"], np.float16(1.0 / 127.0))
        # 0.5 * 127 = 63.5 and 0.25 * 127 = 31.75: halves round away from zero, as ggml's reference does.
        self.assertEqual(block["qs"][:4].tolist(), [-127, 64, 32, 0])
        self.assertEqual(block["qs"][4:].tolist(), [0] * 28)

    def test_q8_0_zero_block_and_round_trip(self):
        zero = np.frombuffer(c.quantize_q8_0(np.zeros((1, 32))), dtype=c.Q8_0_BLOCK)[0]
        self.assertEqual((float(zero["d"]), zero["qs"].tolist()), (0.0, [0] * 32))
        rng = np.random.default_rng(7)
        a = rng.normal(0, 0.05, size=(8, 64)).astype(np.float16)
        back = c.dequantize_q8_0(c.quantize_q8_0(a), a.shape)
        step = np.abs(a.astype(np.float32)).reshape(-1, 32).max(axis=1) / 127.0
        err = np.abs(back - a.astype(np.float32)).reshape(-1, 32).max(axis=1)
        # Half a quantisation step, plus the fp16 rounding of the scale (relative 2^-11, times 127 steps).
        self.assertTrue((err <= step * (0.5 + 127 * 2.0 ** -11) + 1e-7).all(), (err / step).max())

    def test_q8_0_refuses_partial_blocks(self):
        with self.assertRaises(c.ConvertError):
            c.quantize_q8_0(np.ones((2, 40)))

    def test_unknown_quantisation_and_missing_model(self):
        with self.assertRaisesRegex(c.ConvertError, "q4_0"):
            c.convert(Path("/nonexistent"), Path("/nonexistent/out.bin"), "q4_0")
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(c.ConvertError, "no model.bin"):
                c.convert(Path(d), Path(d) / "out.bin")

    def test_malformed_model(self):
        with self.assertRaises(c.ConvertError):
            c.read_ct2(b"\x06\x00\x00\x00\x0c\x00WhisperSpec")
        with self.assertRaises(c.ConvertError):
            c.read_ct2(b"\x01\x00\x00\x00")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        MODEL_DIR = Path(sys.argv.pop(1))
    unittest.main(verbosity=1)
