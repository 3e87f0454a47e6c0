"""Shared BitNet b1.58 helpers for tools/train-demo-model and tools/hf-oracle.

Everything above the "transformers" section needs only torch (works with torch 1.13 on CPU) and is
unit-tested by test_local.py. The transformers section imports transformers lazily, inside functions.

Semantics implemented here (see shared/reference/bitnet-checkpoints.md, section 1.4 and 3):
  * WeightQuant (HF AutoBitLinear, per tensor, fp32):  s = 1/clamp(mean|W|, 1e-5);  W_q = clamp(round(W*s), -1, 1) / s
  * ActQuant (per token, fp32):  s = 127/clamp(max|x|, 1e-5);  x_q = clamp(round(x*s), -128, 127) / s
  * Packing (HF pack_weights layout, "block" packing along dim 0, R = out/4):
        packed[r, c] = sum_{i=0..3} (t[i*R + r, c] + 1) << (2*i)       code = t + 1: -1 -> 0, 0 -> 1, +1 -> 2
  * Offline (autobitlinear) weight_scale is MULTIPLICATIVE: W = t * weight_scale, weight_scale = 1/s ~ mean|W|.
"""

import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def log(*args):
    print(*args, flush=True)


def disable_torch_compile():
    """transformers' BitNet integration decorates unpack_weights / ActQuant / WeightQuant with @torch.compile.
    Eager execution is the reference semantics, avoids compile time on a scarce GPU and avoids needing a
    C++ compiler for CPU inductor. Must be called BEFORE torch is imported to take full effect via the env
    vars; it also sets the dynamo config flag after import."""
    os.environ["TORCH_COMPILE_DISABLE"] = "1"
    os.environ["TORCHDYNAMO_DISABLE"] = "1"
    try:
        import torch._dynamo  # noqa: F401

        torch._dynamo.config.disable = True
        return True
    except Exception as e:  # torch without dynamo (1.13 has it, but be defensive)
        log("[compile] could not set torch._dynamo.config.disable:", repr(e))
        return False


class _Tee:
    def __init__(self, stream, fh):
        self.stream, self.fh = stream, fh

    def write(self, s):
        self.stream.write(s)
        try:
            self.fh.write(s)
        except ValueError:  # log file closed at interpreter exit
            pass
        return len(s)

    def flush(self):
        self.stream.flush()
        try:
            self.fh.flush()
        except ValueError:
            pass

    def isatty(self):
        return False

    def __getattr__(self, k):
        return getattr(self.stream, k)


def start_run_log(path):
    """Copy everything written to stdout/stderr (our log, transformers' warnings, tracebacks) into `path`.
    Call before transformers is imported so that its logging handler writes through the copy."""
    fh = open(path, "a", encoding="utf-8", buffering=1)
    sys.stdout = _Tee(sys.stdout, fh)
    sys.stderr = _Tee(sys.stderr, fh)
    return fh


def run_cli(main, parse_args, exclude_top=lambda args: ()):
    """Run main() and exit with its status; whatever happened, then pack --out into --bundle
    (the bundle is how results leave a lent GPU machine, so it is made after failures too)."""
    import traceback

    rc = 1
    try:
        rc = main()
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
        rc = 1
    finally:
        sys.stdout.flush()
        try:
            args = parse_args(sys.argv[1:])
            if args.bundle and os.path.isdir(args.out):
                make_bundle(args.out, args.bundle, exclude_top(args))
        except SystemExit:
            pass
        except Exception:
            traceback.print_exc()
        sys.stdout.flush()
    sys.exit(rc)


def make_bundle(out_dir, bundle_path, exclude_top=()):
    """tar.gz of out_dir (top-level entries in exclude_top left out), for machines that return few files."""
    import tarfile

    out_dir = os.path.abspath(out_dir)
    bundle_path = os.path.abspath(bundle_path)
    os.makedirs(os.path.dirname(bundle_path) or ".", exist_ok=True)
    root = os.path.basename(out_dir.rstrip("/"))
    n = 0
    with tarfile.open(bundle_path, "w:gz") as tf:
        for entry in sorted(os.listdir(out_dir)):
            if entry in exclude_top:
                continue
            p = os.path.join(out_dir, entry)
            if os.path.abspath(p) == bundle_path:
                continue
            tf.add(p, arcname=root + "/" + entry)
            n += 1
    size = os.path.getsize(bundle_path)
    log("[bundle] %s: %d entries of %s (%s left out), %d bytes" % (bundle_path, n, out_dir,
                                                                    ", ".join(exclude_top) or "nothing", size))
    return size


# --------------------------------------------------------------------------------------------------
# Fake quantisation (HF AutoBitLinear "online" semantics) with a straight-through estimator
# --------------------------------------------------------------------------------------------------


def weight_quant_fp32(w):
    """Returns (W_q in fp32, s) with W_q = clamp(round(W*s), -1, 1) / s, s = 1/clamp(mean|W|, 1e-5)."""
    w = w.float()
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    return (w * s).round().clamp(-1, 1) / s, s


def act_quant_fp32(x):
    x = x.float()
    s = 127 / x.abs().max(dim=-1, keepdim=True).values.clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127) / s


class _WeightQuantSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w):
        dtype = w.dtype
        return weight_quant_fp32(w)[0].to(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


class _ActQuantSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        dtype = x.dtype
        return act_quant_fp32(x).to(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


class FakeQuantLinear(nn.Linear):
    """nn.Linear whose forward is HF AutoBitLinear(online_quant=True):
    F.linear(ActQuant(x), WeightQuant(W)), both quantisers in fp32, straight-through gradients.
    Subclasses nn.Linear so parameter names (".weight") and state-dict keys stay HF's."""

    def forward(self, x):
        w = _WeightQuantSTE.apply(self.weight)
        xq = _ActQuantSTE.apply(x)
        return F.linear(xq, w, self.bias)


def swap_linears_for_fakequant(model, skip=("lm_head",)):
    """Replace every nn.Linear (except names whose last component is in `skip`) by FakeQuantLinear sharing the
    same Parameter objects. Returns the list of replaced module names."""
    replaced = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = (name + "." if name else "") + child_name
            if type(child) is nn.Linear and child_name not in skip:
                new = FakeQuantLinear.__new__(FakeQuantLinear)
                nn.Module.__init__(new)
                new.in_features = child.in_features
                new.out_features = child.out_features
                new.weight = child.weight
                new.bias = child.bias
                setattr(module, child_name, new)
                replaced.append(full)
    return replaced


# --------------------------------------------------------------------------------------------------
# Ternarisation and HF 2-bit packing
# --------------------------------------------------------------------------------------------------


def ternarize(w):
    """Per-tensor absmean ternarisation exactly as WeightQuant computes it (fp32).
    Returns (t int8 [out,in], mult fp32 scalar tensor = 1/s, s fp32 scalar tensor)."""
    w = w.detach().float()
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    t = (w * s).round().clamp(-1, 1).to(torch.int8)
    return t, (1.0 / s), s


def pack_ternary(t):
    """HF block packing along dim 0. t: int tensor [out, in] with values in {-1,0,1}; out % 4 == 0."""
    if t.dim() != 2:
        raise ValueError("pack_ternary expects a 2-D tensor, got shape %s" % (tuple(t.shape),))
    out_f, in_f = t.shape
    if out_f % 4 != 0:
        raise ValueError("out_features=%d is not a multiple of 4; HF packing needs that" % out_f)
    tmin, tmax = int(t.min()), int(t.max())
    if tmin < -1 or tmax > 1:
        raise ValueError("pack_ternary: values outside {-1,0,1}: min %d max %d" % (tmin, tmax))
    R = out_f // 4
    codes = (t.to(torch.int16) + 1).to(torch.uint8)
    packed = torch.zeros((R, in_f), dtype=torch.uint8)
    for i in range(4):
        packed |= codes[i * R:(i + 1) * R] << (2 * i)
    return packed


def unpack_ternary(packed):
    """Inverse of pack_ternary, written element-wise from the spec (independent of the packer's loop)."""
    R, in_f = packed.shape
    p = packed.to(torch.int16)
    parts = [((p >> (2 * i)) & 3) - 1 for i in range(4)]
    t = torch.cat(parts, dim=0).to(torch.int8)
    if (t > 1).any():
        raise ValueError("unpack_ternary: code 3 found (would decode to +2); not a valid BitNet pack")
    return t


# --------------------------------------------------------------------------------------------------
# safetensors: the real library when present, otherwise a small writer/reader of our own (local tests)
# --------------------------------------------------------------------------------------------------

_ST_DTYPES = {
    torch.float32: ("F32", 4),
    torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2),
    torch.uint8: ("U8", 1),
    torch.int8: ("I8", 1),
    torch.int16: ("I16", 2),
    torch.int32: ("I32", 4),
    torch.int64: ("I64", 8),
}
_ST_NAMES = {v[0]: k for k, v in _ST_DTYPES.items()}


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors_fallback(tensors, path, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _ST_DTYPES:
            raise TypeError("unsupported dtype %s for %s" % (t.dtype, name))
        b = _tensor_bytes(t)
        header[name] = {"dtype": _ST_DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_safetensors_fallback(path):
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _ST_NAMES[info["dtype"]]
        b0, b1 = info["data_offsets"]
        raw = data[base + b0:base + b1]
        shape = info["shape"]
        if dt in (torch.bfloat16, torch.float16):
            arr = np.frombuffer(raw, dtype=np.int16).copy()
            t = torch.from_numpy(arr).view(dt)
        else:
            np_dt = {torch.float32: np.float32, torch.uint8: np.uint8, torch.int8: np.int8, torch.int16: np.int16,
                     torch.int32: np.int32, torch.int64: np.int64}[dt]
            t = torch.from_numpy(np.frombuffer(raw, dtype=np_dt).copy())
        out[name] = t.reshape(shape)
    return out


def save_safetensors(tensors, path, metadata=None):
    """Returns the name of the writer used ("safetensors" or "fallback")."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_safetensors_fallback(tensors, path, metadata)
        return "fallback"
    save_file(tensors, path, metadata=metadata)
    return "safetensors"


def load_safetensors(path):
    try:
        from safetensors.torch import load_file
    except ImportError:
        return load_safetensors_fallback(path)
    return load_file(path)


def safetensors_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n).decode("utf-8"))


# --------------------------------------------------------------------------------------------------
# Checkpoint export (HF layout) from fp32 master weights
# --------------------------------------------------------------------------------------------------

BITLINEAR_SUFFIXES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def is_bitlinear_weight(name):
    parts = name.split(".")
    return len(parts) >= 2 and parts[-1] == "weight" and parts[-2] in BITLINEAR_SUFFIXES


def export_tensors(master_sd, mode):
    """master_sd: HF-named fp32 (or any float) state dict WITHOUT lm_head.weight (tied head).
    mode "offline": BitLinear weights -> uint8 packed + `.weight_scale` bf16 [1] (multiplicative);
                    everything else bf16.
    mode "online":  everything bf16 (master weights).
    Returns (tensors, info) where info maps each BitLinear name to its ternary statistics."""
    if mode not in ("offline", "online"):
        raise ValueError(mode)
    out = {}
    info = {}
    for name, w in master_sd.items():
        if name == "lm_head.weight":
            raise ValueError("export_tensors: lm_head.weight must be dropped for a tied head")
        if not torch.is_floating_point(w):
            raise TypeError("%s: expected a float tensor, got %s" % (name, w.dtype))
        if is_bitlinear_weight(name) and mode == "offline":
            t, mult, s = ternarize(w)
            out[name] = pack_ternary(t)
            out[name[:-len("weight")] + "weight_scale"] = mult.reshape(1).to(torch.bfloat16)
            n = t.numel()
            info[name] = {
                "shape": list(t.shape),
                "scale_fp32": float(mult),
                "scale_bf16": float(mult.to(torch.bfloat16)),
                "frac_neg": float((t == -1).sum()) / n,
                "frac_zero": float((t == 0).sum()) / n,
                "frac_pos": float((t == 1).sum()) / n,
            }
        else:
            out[name] = w.detach().to(torch.bfloat16)
    return out, info


def quant_config(mode):
    return {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": mode}


def make_config_json(arch, mode, bos_id, eos_id, pad_id=None, transformers_version=None, extra=None):
    """A BitNet config.json with both the transformers-5 keys (dtype, rope_parameters) and the keys the
    published 2B-4T config uses (torch_dtype, rope_theta), so older and newer readers both find them."""
    cfg = {
        "architectures": ["BitNetForCausalLM"],
        "model_type": "bitnet",
        "vocab_size": arch["vocab_size"],
        "hidden_size": arch["hidden_size"],
        "intermediate_size": arch["intermediate_size"],
        "num_hidden_layers": arch["num_hidden_layers"],
        "num_attention_heads": arch["num_attention_heads"],
        "num_key_value_heads": arch["num_key_value_heads"],
        "head_dim": arch["hidden_size"] // arch["num_attention_heads"],
        "hidden_act": "relu2",
        "max_position_embeddings": arch["max_position_embeddings"],
        "initializer_range": 0.02,
        "rms_norm_eps": arch.get("rms_norm_eps", 1e-5),
        "rope_theta": float(arch["rope_theta"]),
        "rope_parameters": {"rope_theta": float(arch["rope_theta"]), "rope_type": "default"},
        "attention_bias": False,
        "attention_dropout": 0.0,
        "tie_word_embeddings": True,
        "use_cache": True,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "pad_token_id": pad_id,
        "torch_dtype": "bfloat16",
        "dtype": "bfloat16",
        "quantization_config": quant_config(mode),
    }
    if transformers_version:
        cfg["transformers_version"] = transformers_version
    if extra:
        cfg.update(extra)
    return cfg


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def dir_size(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    return total


class DequantLinear(nn.Module):
    """A fixed ternary matrix and multiplicative scale (what a packed checkpoint stores), computed in the
    operation order of HF AutoBitLinear offline: F.linear(ActQuant(x), t) * scale. Used to build the
    export-exact reference model. (F.linear(xq, t * scale) differs by float rounding only, but in a deep
    BitNet that ulp-level difference flips a few int8 activation roundings and the flips cascade, so the
    reference follows HF's order to make the comparison sharp.)"""

    def __init__(self, t, scale):
        super().__init__()
        self.in_features = t.shape[1]
        self.out_features = t.shape[0]
        self.register_buffer("weight", t.float())
        self.register_buffer("weight_scale", scale.float().reshape(1))

    def forward(self, x):
        xq = act_quant_fp32(x).to(x.dtype)
        return F.linear(xq, self.weight.to(x.dtype)) * self.weight_scale.to(x.dtype)


def build_export_reference(model, packed_tensors):
    """A copy of the training model that computes with exactly the numbers of the packed export: bf16-rounded
    embedding / norms, unpacked ternary weights times the bf16 weight_scale. Differences between this and
    transformers loading the packed checkpoint are then only float operation order (no rounding of inputs)."""
    import copy

    ref = copy.deepcopy(model).float().cpu()
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if name in packed_tensors and packed_tensors[name].dtype == torch.bfloat16:
                p.copy_(packed_tensors[name].float())
        for name, module in list(ref.named_modules()):
            for child_name, child in list(module.named_children()):
                full = (name + "." if name else "") + child_name
                if isinstance(child, FakeQuantLinear):
                    t = unpack_ternary(packed_tensors[full + ".weight"])
                    sc = packed_tensors[full + ".weight_scale"]
                    setattr(module, child_name, DequantLinear(t, sc))
    if ref.lm_head.weight.data_ptr() != ref.model.embed_tokens.weight.data_ptr():
        raise RuntimeError("export reference lost the tied head")
    return ref.eval()


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------


def compare_logits(a, b):
    a = a.detach().float().cpu().reshape(-1, a.shape[-1])
    b = b.detach().float().cpu().reshape(-1, b.shape[-1])
    if a.shape != b.shape:
        return {"error": "shape mismatch %s vs %s" % (tuple(a.shape), tuple(b.shape))}
    diff = (a - b).abs()
    cos = F.cosine_similarity(a.double(), b.double(), dim=-1)
    return {
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "ref_max_abs": float(a.abs().max()),
        "cosine_min": float(cos.min()),
        "cosine_mean": float(cos.mean()),
        "argmax_agree": float((a.argmax(-1) == b.argmax(-1)).float().mean()),
        "positions": int(a.shape[0]),
    }


def top2_margin(logits_row):
    v = torch.topk(logits_row.float(), 2).values
    return float(v[0] - v[1])


# --------------------------------------------------------------------------------------------------
# transformers section (lazy imports)
# --------------------------------------------------------------------------------------------------


def hf_versions():
    try:
        import transformers

        tv = transformers.__version__
    except Exception as e:  # pragma: no cover
        tv = "unavailable (%r)" % (e,)
    return {"torch": torch.__version__, "transformers": tv, "python": sys.version.split()[0]}


def _from_pretrained(cls, path, dtype, **kw):
    """from_pretrained with dtype= (transformers 5); falls back to torch_dtype= on TypeError."""
    try:
        return cls.from_pretrained(path, dtype=dtype, **kw), "dtype="
    except TypeError as e:
        if "dtype" not in str(e):
            raise
        log("[hf] from_pretrained(dtype=) raised TypeError (%s); retrying with torch_dtype=" % e)
        return cls.from_pretrained(path, torch_dtype=dtype, **kw), "torch_dtype="


def _bitlinear_modules(model):
    out = []
    for name, m in model.named_modules():
        if type(m).__name__ in ("AutoBitLinear", "BitLinear"):
            out.append((name, m))
    return out


def _manual_build(path, dtype, attn_impl):
    """Fallback: HF's own BitNetForCausalLM and HF's own AutoBitLinear class, but assembled by hand (no HF
    quantizer / weight loader involved). Offline: unpack uint8 ourselves and set the ternary weight and
    multiplicative weight_scale; online: load the master weight as-is."""
    from transformers.models.bitnet import BitNetConfig, BitNetForCausalLM
    from transformers.integrations.bitnet import AutoBitLinear

    with open(os.path.join(path, "config.json")) as f:
        cfgd = json.load(f)
    qc = cfgd.pop("quantization_config", None) or {}
    mode = qc.get("quantization_mode", "offline")
    if qc.get("linear_class", "bitlinear") != "autobitlinear":
        raise ValueError("manual path supports linear_class autobitlinear only")
    for k in ("torch_dtype", "dtype", "transformers_version", "architectures", "model_type"):
        cfgd.pop(k, None)
    cfg = BitNetConfig(**cfgd)
    try:
        cfg._attn_implementation = attn_impl
    except Exception:
        pass
    model = BitNetForCausalLM(cfg).to(dtype)
    sd = load_safetensors(os.path.join(path, "model.safetensors"))
    replaced = set()
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child_name != "lm_head":
                full = (name + "." if name else "") + child_name
                new = AutoBitLinear(child.in_features, child.out_features, bias=False, dtype=dtype,
                                    online_quant=(mode == "online"))
                w = sd.pop(full + ".weight")
                with torch.no_grad():
                    if mode == "offline":
                        new.weight.data = unpack_ternary(w).to(dtype)
                        new.weight_scale.data = sd.pop(full + ".weight_scale").to(dtype).reshape(1)
                        new.requires_grad_(False)
                    else:
                        new.weight.data = w.to(dtype)
                setattr(module, child_name, new)
                replaced.add(full)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if m != "lm_head.weight" and m.rsplit(".", 1)[0] not in replaced]
    if missing or unexpected:
        raise RuntimeError("manual load: missing %s unexpected %s" % (missing, unexpected))
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        model.lm_head.weight = model.model.embed_tokens.weight
    return model


_ACCEL_PATCHED = False  # set once transformers' "requires accelerate" check has been patched out


def hf_load(path, dtype, device="cpu", attn_impl=None, allow_manual=True):
    """Load a BitNet checkpoint with transformers. Returns (model, info).
    Path order: 1) BitNetForCausalLM.from_pretrained as is;
                2) if it fails only because `accelerate` is missing: the same call with the quantizer's
                   accelerate check patched out (the rest of HF's loader runs unchanged);
                3) if allowed: manual assembly from HF's own classes (see _manual_build).
    Every path is followed by checks of what was loaded (check_loaded)."""
    global _ACCEL_PATCHED
    from transformers.models.bitnet import BitNetForCausalLM

    info = {"path_attempts": []}
    kw = {}
    if attn_impl:
        kw["attn_implementation"] = attn_impl
    model = None
    t0 = time.time()
    try:
        if os.environ.get("TELLME_HF_FORCE_MANUAL") == "1":  # test hook for the fallback path
            raise RuntimeError("from_pretrained skipped: TELLME_HF_FORCE_MANUAL=1")
        model, how = _from_pretrained(BitNetForCausalLM, path, dtype, **kw)
        info["load_path"] = "from_pretrained(%s)%s" % (how, "+accelerate-check-patched" if _ACCEL_PATCHED else "")
    except Exception as e:
        import traceback

        tb = traceback.format_exc()
        info["path_attempts"].append({"path": "from_pretrained", "error": repr(e), "traceback": tb})
        log("[hf] from_pretrained(%s) FAILED:\n%s" % (path, tb))
        if "accelerate" in str(e):
            try:
                import transformers.quantizers.quantizer_bitnet as qb

                qb.is_accelerate_available = lambda: True
                _ACCEL_PATCHED = True
                model, how = _from_pretrained(BitNetForCausalLM, path, dtype, **kw)
                info["load_path"] = "from_pretrained(%s)+accelerate-check-patched" % how
                log("[hf] loaded with the quantizer's accelerate check patched out (accelerate is not installed)")
            except Exception as e2:
                tb2 = traceback.format_exc()
                info["path_attempts"].append({"path": "from_pretrained+accelerate-check-patched",
                                              "error": repr(e2), "traceback": tb2})
                log("[hf] patched from_pretrained FAILED too:\n%s" % tb2)
        if model is None:
            if not allow_manual:
                raise
            log("[hf] falling back to manual assembly from HF classes (BitNetForCausalLM + AutoBitLinear)")
            model = _manual_build(path, dtype, attn_impl or "sdpa")
            info["load_path"] = "manual(BitNetForCausalLM+AutoBitLinear)"
    info["load_seconds"] = round(time.time() - t0, 3)
    model.eval()
    model.to(device)
    info["attn_implementation"] = getattr(model.config, "_attn_implementation", None)
    info["model_dtype"] = str(getattr(model, "dtype", None))
    info["uint8_weights_patched"] = _patch_uint8_weights(model, dtype)
    log("[hf] %s: load path = %s, attn = %s, dtype = %s" % (path, info["load_path"], info["attn_implementation"], dtype))
    return model, info


def _patch_uint8_weights(model, dtype):
    """transformers 5.9-5.13 unpacked packed weights into uint8 (wrap-encoded -1 -> 255). 5.17 should not.
    If it happens, reinterpret as int8 and cast; report how many were patched."""
    n = 0
    for _name, m in _bitlinear_modules(model):
        w = getattr(m, "weight", None)
        if isinstance(w, torch.Tensor) and w.dtype == torch.uint8 and w.shape[0] == m.out_features:
            m.weight.data = w.data.view(torch.int8).to(dtype)
            n += 1
    if n:
        log("[hf] WARNING: %d AutoBitLinear weights were uint8 after loading (known transformers bug); patched" % n)
    return n


def check_loaded(model, tensors, mode):
    """Compare what HF loaded with what we wrote. tensors: the dict written to model.safetensors.
    Returns a dict with counts; 'ok' is True when every BitLinear matches and the head is tied."""
    res = {"bitlinear_modules": 0, "weight_mismatch": [], "scale_mismatch": [], "class_names": set()}
    mods = dict(_bitlinear_modules(model))
    res["bitlinear_modules"] = len(mods)
    for name, t in tensors.items():
        if not is_bitlinear_weight(name):
            continue
        mname = name[:-len(".weight")]
        m = mods.get(mname)
        if m is None:
            res["weight_mismatch"].append(mname + " (module is not a BitLinear)")
            continue
        res["class_names"].add(type(m).__name__)
        w = m.weight.detach().float().cpu()
        if mode == "offline":
            expect = unpack_ternary(t).float()
            if w.shape != expect.shape or not torch.equal(w, expect):
                res["weight_mismatch"].append(mname)
            sc = getattr(m, "weight_scale", None)
            exp_sc = tensors[mname + ".weight_scale"].float().reshape(-1)
            if sc is None or not torch.equal(sc.detach().float().cpu().reshape(-1), exp_sc):
                res["scale_mismatch"].append(mname)
            if getattr(m, "online_quant", False):
                res["weight_mismatch"].append(mname + " (online_quant=True for an offline checkpoint)")
        else:
            expect = t.float()
            if w.shape != expect.shape or not torch.equal(w, expect):
                res["weight_mismatch"].append(mname)
            if not getattr(m, "online_quant", False):
                res["weight_mismatch"].append(mname + " (online_quant=False for an online checkpoint)")
    emb = model.model.embed_tokens.weight.detach().float().cpu()
    res["embed_matches"] = bool(torch.equal(emb, tensors["model.embed_tokens.weight"].float()))
    res["head_tied"] = bool(model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr())
    res["lm_head_class"] = type(model.lm_head).__name__
    expected_bitlinears = sum(1 for k in tensors if is_bitlinear_weight(k))
    res["ok"] = (not res["weight_mismatch"] and not res["scale_mismatch"] and res["embed_matches"]
                 and res["head_tied"] and res["bitlinear_modules"] == expected_bitlinears
                 and res["lm_head_class"] == "Linear")
    res["class_names"] = sorted(res["class_names"])
    return res


@torch.no_grad()
def greedy_manual_kv(model, ids, n_new):
    """Greedy decoding with an explicit argmax loop over HF's KV cache. Returns (new_ids, margins)."""
    dev = next(model.parameters()).device
    x = torch.tensor([ids], dtype=torch.long, device=dev)
    out = model(input_ids=x, use_cache=True)
    past = out.past_key_values
    logits = out.logits[0, -1].float()
    new, margins = [], []
    for step in range(n_new):
        nxt = int(torch.argmax(logits))
        new.append(nxt)
        margins.append(top2_margin(logits))
        if step == n_new - 1:
            break
        out = model(input_ids=torch.tensor([[nxt]], dtype=torch.long, device=dev), past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[0, -1].float()
    return new, margins


@torch.no_grad()
def greedy_generate(model, ids, n_new):
    """model.generate(do_sample=False) forced to produce exactly n_new tokens (no eos stop)."""
    dev = next(model.parameters()).device
    x = torch.tensor([ids], dtype=torch.long, device=dev)
    kw = dict(max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False, num_beams=1,
              attention_mask=torch.ones_like(x))
    try:
        y = model.generate(x, eos_token_id=None, pad_token_id=0, **kw)
    except Exception as e:
        log("[hf] generate(eos_token_id=None) failed (%r); retrying without eos override" % (e,))
        y = model.generate(x, **kw)
    return [int(v) for v in y[0, len(ids):].tolist()]
