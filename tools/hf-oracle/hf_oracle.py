#!/usr/bin/env python3
"""transformers' own BitNetForCausalLM as an outside oracle for TeLLMe.

1. Builds small random BitNet b1.58 checkpoints, deterministically from --seed, in both Hugging Face layouts:
     packed  "offline": uint8 2-bit weights + multiplicative bf16 weight_scale (like microsoft/bitnet-b1.58-2B-4T)
     master  "online":  bf16 master weights, quantised by transformers at every forward (like the -bf16 release)
   The random weights are structured so that logits are decisive (see make_masters) and so that no master weight
   sits near a ternary rounding threshold.
2. Loads each checkpoint (and any --model DIR) with BitNetForCausalLM.from_pretrained, fp32, eager attention, on
   CPU and, when CUDA works, on the GPU with TF32 disabled, and records for fixed prompts: the last position's
   logits, the argmax at every position with its top-1/top-2 margin, and 16 greedy tokens with margins.
Outputs: OUT/<name>/{config.json, model.safetensors, oracle.json (CPU), oracle.cuda.json (GPU)} and
OUT/oracle_summary.json. Exit status 0 when every load passed its checks, 2 otherwise (files still written).
"""

import os
import sys

if "--hf-compile" not in sys.argv:
    os.environ["TORCH_COMPILE_DISABLE"] = "1"
    os.environ["TORCHDYNAMO_DISABLE"] = "1"

import argparse
import json
import platform
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "train-demo-model"))

import torch

import bitnet_common as bc
from bitnet_common import log

# Random fixtures. Each stays under 300 KB on disk (checked). "tiny-*" share their master weights, so the packed
# and the online checkpoint encode the same ternary matrices (their scales differ only by bf16 rounding).
SPECS = [
    {"name": "tiny-h64-packed", "mode": "offline", "weights": "tiny", "vocab_size": 256, "hidden_size": 64,
     "intermediate_size": 176, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
     "max_position_embeddings": 64, "rope_theta": 500000.0},
    {"name": "tiny-h64-master", "mode": "online", "weights": "tiny", "vocab_size": 256, "hidden_size": 64,
     "intermediate_size": 176, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
     "max_position_embeddings": 64, "rope_theta": 500000.0},
    {"name": "small-h128-packed", "mode": "offline", "weights": "small", "vocab_size": 512, "hidden_size": 128,
     "intermediate_size": 320, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
     "max_position_embeddings": 128, "rope_theta": 10000.0},
]
PROMPT_LENGTHS = [1, 2, 3, 5, 8, 13, 16, 24]
TEXT_PROMPTS = ["ROMEO:", "First Citizen:\n", "KING HENRY"]
MAX_FIXTURE_BYTES = 300_000
THRESH_DELTA = 0.02  # no |W| / mean|W| within this of the 0.5 rounding threshold
EMB_STD = 0.5  # embedding entries N(0, EMB_STD^2)
GAIN = {"q_proj": 2.0, "k_proj": 2.0, "v_proj": 1.0, "o_proj": 2.0, "gate_proj": 1.0, "up_proj": 1.0,
        "down_proj": 2.0}  # master std = GAIN / sqrt(in_features)
MIN_MARGIN = 0.1  # prompts are drawn until every argmax and greedy step has a top-1/top-2 gap of at least this
MAX_TRIES = 64


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=20251130)
    p.add_argument("--model", action="append", default=[], help="also run the oracle on an existing checkpoint dir")
    p.add_argument("--no-random", action="store_true", help="skip building the random checkpoints")
    p.add_argument("--only", action="append", default=None, help="build only these random specs (by name)")
    p.add_argument("--gen", type=int, default=16, help="greedy tokens per prompt")
    p.add_argument("--no-gpu", action="store_true")
    p.add_argument("--attn", default="eager", help="attn_implementation for the oracle runs")
    p.add_argument("--force", action="store_true", help="allow a non-empty --out")
    p.add_argument("--hf-compile", action="store_true", help="let transformers' @torch.compile run (default: eager)")
    p.add_argument("--bundle", default=None, help="also write a .tar.gz of --out here, e.g. $OUT/oracle.tar.gz")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------------------------------------
# random structured checkpoints
# ----------------------------------------------------------------------------------------------------------


def _margin_safe(w, delta):
    """w: fp32 tensor holding bf16-exact values. Moves every weight whose |w|/mean|w| lies within delta of 0.5
    to 0.5 -/+ 3*delta (same sign, bf16-rounded), repeating until none is left. Returns (w, min margin)."""
    for _ in range(20):
        gamma = w.abs().double().mean()
        r = w.abs().double() / gamma
        bad = (r - 0.5).abs() < delta
        if not bool(bad.any()):
            break
        target = torch.where(r < 0.5, torch.full_like(r, 0.5 - 3 * delta), torch.full_like(r, 0.5 + 3 * delta))
        neww = (torch.sign(w.double()) * target * gamma).to(torch.bfloat16).float()
        w = torch.where(bad, neww, w)
    gamma = w.abs().double().mean()
    margin = float(((w.abs().double() / gamma) - 0.5).abs().min())
    if margin < delta * 0.5:
        raise RuntimeError("could not move weights away from the ternary threshold (margin %.4f)" % margin)
    return w, margin


def make_masters(spec, seed):
    """Deterministic bf16-exact master weights (returned as fp32), HF names, no lm_head (tied).
    Structure, chosen so that logits are decisive yet depend on the context (not just on the last token):
      embeddings N(0, 0.5^2): the embedding is a minority of the final residual, so the tied head does not
      simply copy the input token (with N(0,1) embeddings the argmax was the input token 83% of the time);
      norm weights uniform in [0.75, 1.25];
      BitLinear masters N(0, GAIN/sqrt(in)): each output has about GAIN times the scale of its (normalised)
      input; GAIN 2 for q/k (sharper attention) and for o/down (the blocks dominate the residual stream);
      no master weight within THRESH_DELTA of the ternary rounding threshold |W|/mean|W| = 0.5, so every
      implementation of WeightQuant (any summation order) gets the same ternary matrix.
    Prompts are then selected for decisiveness (select_prompts)."""
    g = torch.Generator().manual_seed(seed)
    h, F_, L = spec["hidden_size"], spec["intermediate_size"], spec["num_hidden_layers"]
    H, Hkv = spec["num_attention_heads"], spec["num_key_value_heads"]
    d = h // H
    V = spec["vocab_size"]
    sd = {}
    margins = {}

    def bf16(x):
        return x.to(torch.bfloat16).float()

    sd["model.embed_tokens.weight"] = bf16(torch.randn(V, h, generator=g) * EMB_STD)
    shapes = {"self_attn.q_proj": (H * d, h), "self_attn.k_proj": (Hkv * d, h), "self_attn.v_proj": (Hkv * d, h),
              "self_attn.o_proj": (h, H * d), "mlp.gate_proj": (F_, h), "mlp.up_proj": (F_, h),
              "mlp.down_proj": (h, F_)}
    for i in range(L):
        pre = "model.layers.%d." % i
        for nm in ("input_layernorm", "post_attention_layernorm", "self_attn.attn_sub_norm"):
            sd[pre + nm + ".weight"] = bf16(0.75 + 0.5 * torch.rand(h, generator=g))
        sd[pre + "mlp.ffn_sub_norm.weight"] = bf16(0.75 + 0.5 * torch.rand(F_, generator=g))
        for nm, (o, inn) in shapes.items():
            gain = GAIN[nm.split(".")[-1]]
            w = bf16(torch.randn(o, inn, generator=g) * (gain / inn ** 0.5))
            w, m = _margin_safe(w, THRESH_DELTA)
            sd[pre + nm + ".weight"] = w
            margins[pre + nm] = m
    sd["model.norm.weight"] = bf16(0.75 + 0.5 * torch.rand(h, generator=g))
    return sd, margins


def _draw(g, vocab, n, kind):
    if kind == "repeated token":
        return [int(torch.randint(3, vocab, (1,), generator=g))] * n
    return [int(x) for x in torch.randint(3, vocab, (n,), generator=g)]


def prompt_plan(max_len):
    plan = [(n, "random") for n in PROMPT_LENGTHS if n <= max_len]
    if max_len >= 12:
        plan.append((12, "repeated token"))
    return plan


def make_prompts(vocab, seed, max_len):
    """Fixed prompts without selection (used for existing checkpoints)."""
    g = torch.Generator().manual_seed(seed + 7)
    out = []
    for n, kind in prompt_plan(max_len):
        p = {"ids": _draw(g, vocab, n, kind)}
        if kind != "random":
            p["kind"] = kind
        out.append(p)
    return out


@torch.no_grad()
def prompt_min_margin(model, ids, gen):
    logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float()
    m = min(bc.top2_margin(logits[i]) for i in range(logits.shape[0]))
    _g, gm = bc.greedy_manual_kv(model, ids, gen)
    return min([m] + gm)


def select_prompts(model, vocab, seed, max_len, gen):
    """For each planned (length, kind), draw candidates from a seeded generator and keep the first one whose
    argmax at every position and whose every greedy step have a top-1/top-2 logit gap >= MIN_MARGIN (on this
    CPU fp32 model); after MAX_TRIES keep the most decisive candidate seen. Deterministic for a given seed and
    checkpoint. Returns (prompts, selection info)."""
    g = torch.Generator().manual_seed(seed + 7)
    out, info = [], []
    for n, kind in prompt_plan(max_len):
        best = None
        for tries in range(1, MAX_TRIES + 1):
            ids = _draw(g, vocab, n, kind)
            m = prompt_min_margin(model, ids, gen)
            if best is None or m > best[1]:
                best = (ids, m)
            if m >= MIN_MARGIN:
                break
        p = {"ids": best[0]}
        if kind != "random":
            p["kind"] = kind
        out.append(p)
        info.append({"length": n, "kind": kind, "tries": tries, "min_margin": best[1],
                     "meets_threshold": best[1] >= MIN_MARGIN})
    return out, info


def build_random(spec, seed, outdir, tv):
    wseed = seed + {"tiny": 0, "small": 1}[spec["weights"]]
    masters, margins = make_masters(spec, wseed)
    tensors, tinfo = bc.export_tensors(masters, spec["mode"])
    arch = {k: spec[k] for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                 "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                                 "rope_theta")}
    arch["rms_norm_eps"] = 1e-5
    cfg = bc.make_config_json(arch, spec["mode"], 0, 1, None, tv)
    d = os.path.join(outdir, spec["name"])
    os.makedirs(d, exist_ok=True)
    writer = bc.save_safetensors(tensors, os.path.join(d, "model.safetensors"),
                                 metadata={"format": "pt", "producer": "TeLLMe tools/hf-oracle", "seed": str(wseed)})
    os.chmod(os.path.join(d, "model.safetensors"), 0o644)
    bc.write_json(os.path.join(d, "config.json"), cfg)
    size = os.path.getsize(os.path.join(d, "model.safetensors")) + os.path.getsize(os.path.join(d, "config.json"))
    info = {"weights_seed": wseed, "writer": writer, "checkpoint_bytes": size,
            "min_threshold_margin": min(margins.values()), "threshold_delta": THRESH_DELTA}
    if spec["mode"] == "offline":
        info["scales_bf16"] = {k: v["scale_bf16"] for k, v in tinfo.items()}
    log("[build] %s (%s): %d bytes, min |W|/mean|W| distance to 0.5 = %.4f" % (
        spec["name"], spec["mode"], size, info["min_threshold_margin"]))
    if size > MAX_FIXTURE_BYTES:
        raise RuntimeError("%s is %d bytes, over the %d fixture limit" % (spec["name"], size, MAX_FIXTURE_BYTES))
    return d, tensors, info


# ----------------------------------------------------------------------------------------------------------
# oracle runs
# ----------------------------------------------------------------------------------------------------------


def set_strict_fp32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        torch.set_float32_matmul_precision("highest")
    except Exception:
        pass
    try:
        torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
        torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
    except Exception:
        pass


def load_for_oracle(model_dir, tensors, mode, device, attn):
    set_strict_fp32()
    model, info = bc.hf_load(model_dir, torch.float32, device=device, attn_impl=attn)
    chk = bc.check_loaded(model, tensors, mode)
    return model, info, chk


class AltOrderLinear(torch.nn.Module):
    """The same BitLinear numbers as transformers' AutoBitLinear, in the other float operation order:
    offline  HF: linear(xq, t) * scale   ->  here: linear(xq, t * scale)
    online   HF: linear(xq, t / s)       ->  here: linear(xq, t) / s
    Running the model with these shows how far ulp-level differences (int8 rounding flips that cascade through
    the layers) move the oracle's outputs: a cheap estimate of the tolerance an independent implementation
    needs."""

    def __init__(self, t, mult, mode):
        super().__init__()
        self.mode = mode
        self.register_buffer("t", t.float())
        self.register_buffer("mult", mult.float().reshape(1))

    def forward(self, x):
        xq = bc.act_quant_fp32(x).to(x.dtype)
        if self.mode == "offline":
            return torch.nn.functional.linear(xq, self.t * self.mult)
        return torch.nn.functional.linear(xq, self.t) * self.mult


def alt_order_copy(model, mode):
    import copy

    alt = copy.deepcopy(model)
    for name, module in list(alt.named_modules()):
        for cn, ch in list(module.named_children()):
            if type(ch).__name__ != "AutoBitLinear":
                continue
            w = ch.weight.detach().float()
            if mode == "offline":
                t, mult = w, ch.weight_scale.detach().float()
            else:
                t8, _m, s = bc.ternarize(w)
                t, mult = t8.float(), (1.0 / s)
            setattr(module, cn, AltOrderLinear(t, mult, mode))
    return alt.eval()


@torch.no_grad()
def record(model, info, chk, prompts, device, gen, extra_notes, alt=None):
    notes = list(extra_notes)
    if not chk["ok"]:
        notes.append("LOAD CHECK FAILED: the loaded weights differ from the checkpoint file; do not trust this oracle")
    res = {
        "transformers_version": bc.hf_versions()["transformers"],
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": device if device == "cpu" else "%s (%s)" % (device, torch.cuda.get_device_name(0)),
        "dtype": "float32",
        "attn_implementation": info.get("attn_implementation"),
        "load_path": info["load_path"],
        "load_failures": [x["error"] for x in info["path_attempts"]],
        "load_check": chk,
        "tf32": False if device != "cpu" else None,
        "torch_compile": "disabled (eager)" if os.environ.get("TORCHDYNAMO_DISABLE") == "1" else "allowed",
        "greedy_method": "manual argmax loop over transformers' KV cache: model(input_ids=[[next]], "
                         "past_key_values=..., use_cache=True); cross-checked with model.generate(do_sample=False)",
        "margin_definition": "top-1 minus top-2 logit (fp32) of the distribution the argmax was taken from",
        "prompts": [],
        "notes": notes,
    }
    dev = torch.device(device)
    all_margins, greedy_margins = [], []
    gen_agree = True
    for pr in prompts:
        ids = pr["ids"]
        x = torch.tensor([ids], dtype=torch.long, device=dev)
        logits = model(input_ids=x, use_cache=False).logits[0].float().cpu()
        am = [int(v) for v in logits.argmax(-1).tolist()]
        margins = [bc.top2_margin(logits[i]) for i in range(logits.shape[0])]
        greedy, gm = bc.greedy_manual_kv(model, ids, gen)
        try:
            via_gen = bc.greedy_generate(model, ids, gen)
        except Exception as e:
            via_gen = None
            res["notes"].append("model.generate failed: %r" % (e,))
        if via_gen is not None and via_gen != greedy:
            gen_agree = False
        entry = {"ids": ids}
        for k in ("text", "kind"):
            if k in pr:
                entry[k] = pr[k]
        entry.update({
            "last_logits": [float(v) for v in logits[-1].tolist()],
            "argmax": am,
            "argmax_margin": margins,
            "greedy": greedy,
            "greedy_margin": gm,
            "greedy_via_generate": via_gen,
        })
        if alt is not None:
            la = alt(input_ids=x, use_cache=False).logits[0].float().cpu()
            ga, _ = bc.greedy_manual_kv(alt, ids, gen)
            entry["alt_order"] = {"max_abs_diff_all_logits": float((la - logits).abs().max()),
                                  "argmax_equal": [int(v) for v in la.argmax(-1).tolist()] == am,
                                  "greedy_equal": ga == greedy,
                                  "greedy_common_prefix": next((i for i, (p, q) in enumerate(zip(ga, greedy))
                                                                if p != q), len(greedy))}
        if greedy and greedy[0] != am[-1]:
            res["notes"].append("first greedy token differs from the full-forward argmax for prompt %s" % ids)
        res["prompts"].append(entry)
        all_margins += margins
        greedy_margins += gm
    res["min_argmax_margin"] = min(all_margins) if all_margins else None
    res["min_greedy_margin"] = min(greedy_margins) if greedy_margins else None
    res["generate_agrees_with_manual_loop"] = gen_agree
    if alt is not None:
        ao = [p["alt_order"] for p in res["prompts"]]
        res["alt_order_summary"] = {
            "what": "the same model with the other float operation order in every BitLinear (see AltOrderLinear); "
                    "differences show how sensitive these outputs are to ulp-level implementation differences",
            "max_abs_diff_all_logits": max(x["max_abs_diff_all_logits"] for x in ao),
            "prompts_with_equal_argmax": sum(x["argmax_equal"] for x in ao),
            "prompts_with_equal_greedy": sum(x["greedy_equal"] for x in ao),
            "prompts": len(ao),
        }
    return res


def compare_runs(a, b):
    out = {"max_abs_diff_last_logits": 0.0, "argmax_equal": True, "greedy_equal": True}
    for pa, pb in zip(a["prompts"], b["prompts"]):
        la, lb = torch.tensor(pa["last_logits"]), torch.tensor(pb["last_logits"])
        out["max_abs_diff_last_logits"] = max(out["max_abs_diff_last_logits"], float((la - lb).abs().max()))
        out["argmax_equal"] &= pa["argmax"] == pb["argmax"]
        out["greedy_equal"] &= pa["greedy"] == pb["greedy"]
    return out


def cuda_usable():
    try:
        if not torch.cuda.is_available():
            return False, "torch.cuda.is_available() is False"
        torch.zeros(1, device="cuda").sum().item()
        return True, torch.cuda.get_device_name(0)
    except Exception as e:
        return False, repr(e)


def main(argv=None):
    a = parse_args(argv)
    t0 = time.time()
    if not a.hf_compile:
        bc.disable_torch_compile()
    if os.path.isdir(a.out) and os.listdir(a.out) and not a.force:
        log("ERROR: --out %s exists and is not empty (use --force)" % a.out)
        return 1
    os.makedirs(a.out, exist_ok=True)
    bc.start_run_log(os.path.join(a.out, "oracle.log"))
    log("[cmd] %s" % " ".join([sys.executable] + sys.argv))
    torch.manual_seed(a.seed)
    v = bc.hf_versions()
    gpu_ok, gpu_msg = (False, "disabled by --no-gpu") if a.no_gpu else cuda_usable()
    log("[env] python %s, torch %s, transformers %s; GPU: %s (%s)" % (v["python"], v["torch"], v["transformers"],
                                                                      gpu_ok, gpu_msg))
    jobs = []  # (name, dir, tensors, mode, prompts, notes, build_info)
    if not a.no_random:
        for spec in SPECS:
            if a.only and spec["name"] not in a.only:
                continue
            d, tensors, binfo = build_random(spec, a.seed, a.out, v["transformers"])
            binfo["vocab_size"] = spec["vocab_size"]
            binfo["max_position_embeddings"] = spec["max_position_embeddings"]
            prompts = None  # selected for decisiveness once the CPU model is loaded
            notes = ["random structured weights from seed %d (see tools/hf-oracle/hf_oracle.py make_masters)"
                     % binfo["weights_seed"],
                     "no bos is prepended; ids are fed exactly as listed",
                     "prompts were drawn from a seeded generator and kept when every argmax/greedy margin was "
                     ">= %g on the CPU fp32 run (build.prompt_selection)" % MIN_MARGIN,
                     "%s checkpoint: %s" % (spec["mode"], "uint8 packed + multiplicative bf16 weight_scale"
                                            if spec["mode"] == "offline" else "bf16 masters, quantised by "
                                            "transformers' WeightQuant at every forward")]
            jobs.append((spec["name"], d, tensors, spec["mode"], prompts, notes, binfo))
    for md in a.model:
        md = os.path.abspath(md.rstrip("/"))
        name = os.path.basename(md)
        if name in ("packed", "master"):  # e.g. OUT/demo/packed -> demo-packed
            name = os.path.basename(os.path.dirname(md)) + "-" + name
        base, k = name, 2
        while any(j[0] == name for j in jobs):
            name, k = "%s-%d" % (base, k), k + 1
        with open(os.path.join(md, "config.json")) as f:
            cfg = json.load(f)
        mode = (cfg.get("quantization_config") or {}).get("quantization_mode", "offline")
        tensors = bc.load_safetensors(os.path.join(md, "model.safetensors"))
        V = cfg["vocab_size"]
        prompts = make_prompts(V, a.seed, cfg.get("max_position_embeddings", 64) - a.gen)
        tj = os.path.join(md, "tokenizer.json")
        if os.path.isfile(tj):
            try:
                from tokenizers import Tokenizer

                tk = Tokenizer.from_file(tj)
                for t in TEXT_PROMPTS:
                    prompts.append({"ids": tk.encode(t, add_special_tokens=False).ids, "text": t})
            except Exception as e:
                log("[oracle] could not tokenize text prompts with %s: %r" % (tj, e))
        notes = ["existing checkpoint %s" % md, "no bos is prepended; ids are fed exactly as listed"]
        od = os.path.join(a.out, name)
        os.makedirs(od, exist_ok=True)
        jobs.append((name, md, tensors, mode, prompts, notes, {"source": md, "out": od}))

    summary = {"seed": a.seed, "versions": v, "gpu": gpu_msg if gpu_ok else None, "models": {},
               "min_margin_target": MIN_MARGIN}
    all_ok = True
    for name, d, tensors, mode, prompts, notes, binfo in jobs:
        od = binfo.get("out", d)
        entry = {"dir": d, "mode": mode, "build": binfo, "runs": {}}
        runs = {}
        for dev in (["cpu"] + (["cuda"] if gpu_ok else [])):
            fn = "oracle.json" if dev == "cpu" else "oracle.cuda.json"
            try:
                model, info, chk = load_for_oracle(d, tensors, mode, dev, a.attn)
                if prompts is None:  # random fixture: choose decisive prompts on the CPU model
                    if dev != "cpu":
                        raise RuntimeError("prompt selection needs the CPU run, which failed")
                    prompts, sel = select_prompts(model, binfo["vocab_size"], a.seed,
                                                  binfo["max_position_embeddings"] - a.gen, a.gen)
                    binfo["prompt_selection"] = sel
                    log("[oracle] %s: prompts selected (tries per prompt %s, min margins %s)" % (
                        name, [x["tries"] for x in sel], ["%.3f" % x["min_margin"] for x in sel]))
                alt = alt_order_copy(model, mode) if dev == "cpu" else None
                r = record(model, info, chk, prompts, dev, a.gen, notes, alt)
                if alt is not None:
                    log("[oracle] %-18s alt float order: %s" % (name, json.dumps(
                        {k: v2 for k, v2 in r["alt_order_summary"].items() if k != "what"})))
                    del alt
                r["build"] = {k: v2 for k, v2 in binfo.items() if k not in ("scales_bf16",)}
                bc.write_json(os.path.join(od, fn), r)
                runs[dev] = r
                ok = chk["ok"]
                entry["runs"][dev] = {"file": fn, "load_path": r["load_path"], "load_ok": ok,
                                      "min_argmax_margin": r["min_argmax_margin"],
                                      "min_greedy_margin": r["min_greedy_margin"],
                                      "generate_agrees_with_manual_loop": r["generate_agrees_with_manual_loop"]}
                log("[oracle] %-18s %-4s load=%s ok=%s  min margins: argmax %.4f, greedy %.4f; generate==manual: %s"
                    % (name, dev, r["load_path"], ok, r["min_argmax_margin"], r["min_greedy_margin"],
                       r["generate_agrees_with_manual_loop"]))
                all_ok &= ok
                del model
            except Exception as e:
                tb = traceback.format_exc()
                log("[oracle] %s on %s FAILED:\n%s" % (name, dev, tb))
                entry["runs"][dev] = {"error": repr(e), "traceback": tb}
                all_ok = False
        if "cpu" in runs and "cuda" in runs:
            entry["cpu_vs_cuda"] = compare_runs(runs["cpu"], runs["cuda"])
            log("[oracle] %-18s cpu vs cuda: %s" % (name, json.dumps(entry["cpu_vs_cuda"])))
        summary["models"][name] = entry
    summary["ok"] = all_ok
    summary["wall_s"] = round(time.time() - t0, 1)
    bc.write_json(os.path.join(a.out, "oracle_summary.json"), summary)
    log("[done] %.1fs, %s" % (summary["wall_s"], "ALL OK" if all_ok else "SOME CHECKS FAILED (see oracle_summary.json)"))
    return 0 if all_ok else 2


if __name__ == "__main__":
    bc.run_cli(main, parse_args)
