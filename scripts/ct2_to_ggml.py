#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper model (model.bin + vocabulary.txt) to whisper.cpp's ggml format.

The fp16 weights are copied unchanged, or written as ggml's Q8_0 blocks with `--quantize q8_0` (the matrix
weights only, as whisper.cpp's own quantize tool does); the mapping of tensor names is `map_tensors` below
(the model route: ARCHITECTURE.md, "Speech"; background in ../shared/design/AUDIO.md). Needs only numpy.

    ct2_to_ggml.py convert MODEL_DIR OUT.bin [--quantize q8_0]   # MODEL_DIR: model.bin (or model.bin.part*), vocabulary.txt
    ct2_to_ggml.py inspect OUT.bin                               # hparams, tensor count, names, shapes, types (JSON)
"""
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np

GGML_MAGIC = 0x67676D6C
# ggml tensor types and the file's ftype (whisper.cpp reads ftype % 1000; the thousands carry ggml's
# quantisation format version, 2, which whisper.cpp's quantize tool writes too).
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
FTYPE_F16, FTYPE_Q8_0 = 1, 2 * 1000 + 7
QK8_0 = 32  # values per Q8_0 block: an fp16 scale, then 32 int8
Q8_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "i1", (QK8_0,))])
# 2-D tensors whisper.cpp keeps in f32 whatever the model's type.
NOT_QUANTISED = {"encoder.positional_embedding", "decoder.positional_embedding"}
CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class ConvertError(Exception):
    pass


# ---------------------------------------------------------------- CTranslate2 reader

def read_ct2(data: bytes):
    """Returns (spec_name, {name: ndarray}); raises ConvertError on a malformed file."""
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise ConvertError(f"model.bin truncated at byte {pos} (wanted {n} more)")
        out = data[pos:pos + n]
        pos += n
        return out

    def u32():
        return struct.unpack("<I", take(4))[0]

    def string():
        (n,) = struct.unpack("<H", take(2))
        return take(n).rstrip(b"\0").decode("utf-8")

    version = u32()
    if version < 5 or version > 6:
        raise ConvertError(f"unsupported CTranslate2 model version {version} (expected 5 or 6)")
    spec = string()
    _revision = u32()
    count = u32()
    tensors = {}
    for _ in range(count):
        name = string()
        (rank,) = struct.unpack("<B", take(1))
        dims = [u32() for _ in range(rank)]
        (dtype,) = struct.unpack("<B", take(1))
        nbytes = u32()
        raw = take(nbytes)
        if dtype not in CT2_DTYPES:
            raise ConvertError(f"{name}: unsupported dtype {dtype}")
        arr = np.frombuffer(raw, dtype=CT2_DTYPES[dtype])
        if arr.size != (int(np.prod(dims)) if dims else 1):
            raise ConvertError(f"{name}: {arr.size} values for dims {dims}")
        tensors[name] = arr.reshape(dims) if dims else arr.reshape(())
    # aliases (decoder/projection/weight -> embeddings: tied, dropped)
    return spec, tensors


# ---------------------------------------------------------------- mel filters (librosa, slaney)

def _hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(sr=16000, n_fft=400, n_mels=80):
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)), dtype=np.float64)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights.astype(np.float32)


# ---------------------------------------------------------------- vocabulary

def _byte_decoder():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def read_vocab(path: Path):
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    dec = _byte_decoder()
    tokens = []
    for i, tok in enumerate(lines):
        try:
            tokens.append(bytes(dec[c] for c in tok))
        except KeyError:
            tokens.append(tok.encode("utf-8"))  # special tokens
    return lines, tokens


# ---------------------------------------------------------------- mapping

def map_tensors(t):
    """CTranslate2 names -> [(ggml name, array)] in a stable order."""
    out = []

    def f16(a):
        return np.ascontiguousarray(a, dtype=np.float16)

    def f32(a):
        return np.ascontiguousarray(a, dtype=np.float32)

    def add(name, a, two_d_f16=True):
        if a.ndim >= 2 and two_d_f16:
            out.append((name, f16(a)))
        else:
            out.append((name, f32(a)))

    def get(name):
        if name not in t:
            raise ConvertError(f"missing tensor {name}")
        return t[name]

    # encoder
    for k in (1, 2):
        add(f"encoder.conv{k}.weight", get(f"encoder/conv{k}/weight"))
        b = get(f"encoder/conv{k}/bias")
        out.append((f"encoder.conv{k}.bias", f32(b.reshape(b.shape[0], 1))))
    add("encoder.positional_embedding", get("encoder/position_encodings/encodings"), two_d_f16=False)

    def ln(prefix_ct2, prefix_ggml):
        add(f"{prefix_ggml}.weight", get(f"{prefix_ct2}/gamma"))
        add(f"{prefix_ggml}.bias", get(f"{prefix_ct2}/beta"))

    def lin(prefix_ct2, prefix_ggml, bias=True):
        add(f"{prefix_ggml}.weight", get(f"{prefix_ct2}/weight"))
        if bias:
            add(f"{prefix_ggml}.bias", get(f"{prefix_ct2}/bias"))

    def fused(prefix_ct2, names):
        """Split a fused projection by rows; names: [(ggml prefix, with_bias)]."""
        w = get(f"{prefix_ct2}/weight")
        b = get(f"{prefix_ct2}/bias")
        d = w.shape[0] // len(names)
        for j, (gname, with_bias) in enumerate(names):
            add(f"{gname}.weight", w[j * d:(j + 1) * d])
            if with_bias:
                add(f"{gname}.bias", b[j * d:(j + 1) * d])

    n_enc = count_layers(t, "encoder")
    n_dec = count_layers(t, "decoder")
    for i in range(n_enc):
        c, g = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        ln(f"{c}/self_attention/layer_norm", f"{g}.attn_ln")
        fused(f"{c}/self_attention/linear_0", [(f"{g}.attn.query", True), (f"{g}.attn.key", False), (f"{g}.attn.value", True)])
        lin(f"{c}/self_attention/linear_1", f"{g}.attn.out")
        ln(f"{c}/ffn/layer_norm", f"{g}.mlp_ln")
        lin(f"{c}/ffn/linear_0", f"{g}.mlp.0")
        lin(f"{c}/ffn/linear_1", f"{g}.mlp.2")
    ln("encoder/layer_norm", "encoder.ln_post")

    add("decoder.positional_embedding", get("decoder/position_encodings/encodings"), two_d_f16=False)
    add("decoder.token_embedding.weight", get("decoder/embeddings/weight"))
    for i in range(n_dec):
        c, g = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        ln(f"{c}/self_attention/layer_norm", f"{g}.attn_ln")
        fused(f"{c}/self_attention/linear_0", [(f"{g}.attn.query", True), (f"{g}.attn.key", False), (f"{g}.attn.value", True)])
        lin(f"{c}/self_attention/linear_1", f"{g}.attn.out")
        ln(f"{c}/attention/layer_norm", f"{g}.cross_attn_ln")
        lin(f"{c}/attention/linear_0", f"{g}.cross_attn.query")
        fused(f"{c}/attention/linear_1", [(f"{g}.cross_attn.key", False), (f"{g}.cross_attn.value", True)])
        lin(f"{c}/attention/linear_2", f"{g}.cross_attn.out")
        ln(f"{c}/ffn/layer_norm", f"{g}.mlp_ln")
        lin(f"{c}/ffn/linear_0", f"{g}.mlp.0")
        lin(f"{c}/ffn/linear_1", f"{g}.mlp.2")
    ln("decoder/layer_norm", "decoder.ln")
    return out, n_enc, n_dec


def count_layers(t, side):
    pat = re.compile(rf"^{side}/layer_(\d+)/")
    ids = {int(m.group(1)) for name in t for m in [pat.match(name)] if m}
    return max(ids) + 1 if ids else 0


def scalar(t, name):
    if name not in t:
        raise ConvertError(f"missing tensor {name}")
    return int(np.asarray(t[name]).reshape(-1)[0])


QUANTISATIONS = {None: FTYPE_F16, "q8_0": FTYPE_Q8_0}


def convert(model_dir: Path, out_path: Path, quantize=None):
    if quantize not in QUANTISATIONS:
        raise ConvertError(f"unknown quantisation {quantize!r} (known: q8_0)")
    parts = sorted(model_dir.glob("model.bin.part*"))
    if (model_dir / "model.bin").exists():
        data = (model_dir / "model.bin").read_bytes()
    elif parts:
        data = b"".join(p.read_bytes() for p in parts)
    else:
        raise ConvertError(f"no model.bin (or model.bin.part*) in {model_dir}")
    spec, t = read_ct2(data)
    if "Whisper" not in spec:
        raise ConvertError(f"not a Whisper model (spec {spec!r})")
    tensors, n_enc, n_dec = map_tensors(t)

    emb = t["decoder/embeddings/weight"]
    n_vocab, n_text_state = emb.shape
    enc_pos = t["encoder/position_encodings/encodings"]
    n_audio_ctx, n_audio_state = enc_pos.shape
    n_text_ctx = t["decoder/position_encodings/encodings"].shape[0]
    n_mels = t["encoder/conv1/weight"].shape[1]
    hparams = [n_vocab, n_audio_ctx, n_audio_state, scalar(t, "encoder/num_heads"), n_enc,
               n_text_ctx, n_text_state, scalar(t, "decoder/num_heads"), n_dec, n_mels, QUANTISATIONS[quantize]]

    vocab_path = model_dir / "vocabulary.txt"
    if not vocab_path.exists():
        raise ConvertError(f"no vocabulary.txt in {model_dir}")
    lines, tokens = read_vocab(vocab_path)
    if "<|endoftext|>" not in lines:
        raise ConvertError("vocabulary.txt has no <|endoftext|>")
    eot = lines.index("<|endoftext|>")
    multilingual = n_vocab >= 51865
    if eot != (50257 if multilingual else 50256):
        raise ConvertError(f"unexpected id of <|endoftext|>: {eot} (n_vocab {n_vocab})")
    tokens = tokens[:eot]

    filters = mel_filters(n_mels=n_mels)
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<i", GGML_MAGIC))
        f.write(struct.pack("<11i", *hparams))
        f.write(struct.pack("<ii", *filters.shape))
        f.write(filters.astype("<f4").tobytes())
        f.write(struct.pack("<i", len(tokens)))
        for tok in tokens:
            f.write(struct.pack("<i", len(tok)))
            f.write(tok)
        for name, a in tensors:
            bname = name.encode()
            # whisper.cpp gives every 2-D weight the model's type: f16 ones become Q8_0 when quantising.
            q8 = quantize == "q8_0" and a.dtype == np.float16 and a.ndim == 2 and name not in NOT_QUANTISED
            ttype = GGML_Q8_0 if q8 else (GGML_F16 if a.dtype == np.float16 else GGML_F32)
            f.write(struct.pack("<iii", a.ndim, len(bname), ttype))
            for d in reversed(a.shape):
                f.write(struct.pack("<i", d))
            f.write(bname)
            f.write(quantize_q8_0(a) if q8 else a.astype(a.dtype.newbyteorder("<")).tobytes())
    tmp.replace(out_path)
    return {"hparams": hparams, "tensors": len(tensors), "vocab": len(tokens)}


# ---------------------------------------------------------------- Q8_0

def quantize_q8_0(a):
    """ggml's Q8_0 blocks of `a` (rows a multiple of 32 long) as bytes: per 32 values the scale
    d = max|x| / 127 as fp16, then round(x / d) as int8, rounded half away from zero like ggml's reference
    quantize_row_q8_0_ref (d is used in f32 before it is stored in fp16, as there)."""
    x = np.ascontiguousarray(a, dtype=np.float32)
    if x.shape[-1] % QK8_0:
        raise ConvertError(f"a row of {x.shape[-1]} values is not a whole number of Q8_0 blocks")
    x = x.reshape(-1, QK8_0)
    d = np.abs(x).max(axis=1) / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    scaled = x * inv[:, None]
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    blocks = np.empty(x.shape[0], dtype=Q8_0_BLOCK)
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q.astype(np.int8)
    return blocks.tobytes()


def dequantize_q8_0(raw, shape):
    blocks = np.frombuffer(raw, dtype=Q8_0_BLOCK)
    x = blocks["qs"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return x.reshape(shape)


def tensor_bytes(ttype, n):
    if ttype == GGML_Q8_0:
        return n // QK8_0 * Q8_0_BLOCK.itemsize
    return n * (2 if ttype == GGML_F16 else 4)


# ---------------------------------------------------------------- reader (for tests)

HPARAM_NAMES = ["n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_text_ctx",
                "n_text_state", "n_text_head", "n_text_layer", "n_mels", "ftype"]


TYPE_NAMES = {GGML_F32: "f32", GGML_F16: "f16", GGML_Q8_0: "q8_0"}


def inspect(path: Path):
    data = path.read_bytes()
    pos = 0

    def i32(n=1):
        nonlocal pos
        v = struct.unpack_from(f"<{n}i", data, pos)
        pos += 4 * n
        return v

    (magic,) = i32()
    if magic != GGML_MAGIC:
        raise ConvertError("not a ggml file")
    hp = dict(zip(HPARAM_NAMES, i32(11)))
    rows, cols = i32(2)
    pos += 4 * rows * cols
    (nv,) = i32()
    for _ in range(nv):
        (n,) = i32()
        pos += n
    tensors = {}
    while pos < len(data):
        nd, nl, ft = i32(3)
        dims = list(reversed(i32(nd)))
        name = data[pos:pos + nl].decode()
        pos += nl
        if ft not in TYPE_NAMES:
            raise ConvertError(f"{name}: unknown tensor type {ft}")
        pos += tensor_bytes(ft, int(np.prod(dims)))
        tensors[name] = {"shape": dims, "type": TYPE_NAMES[ft]}
    if pos != len(data):
        raise ConvertError("trailing bytes")
    return {"hparams": hp, "mel": [rows, cols], "vocab": nv, "tensor_count": len(tensors), "tensors": tensors}


def main(argv):
    try:
        if len(argv) in (4, 6) and argv[1] == "convert":
            quantize = None
            if len(argv) == 6:
                if argv[4] != "--quantize":
                    print(__doc__, file=sys.stderr)
                    return 2
                quantize = argv[5]
            info = convert(Path(argv[2]), Path(argv[3]), quantize)
            print(json.dumps(info))
        elif len(argv) == 3 and argv[1] == "inspect":
            print(json.dumps(inspect(Path(argv[2]))))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (ConvertError, OSError) as e:
        print(f"ct2_to_ggml: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
