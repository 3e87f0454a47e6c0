#!/usr/bin/env python3
"""Train a small BitNet b1.58 (ternary) model on tinyshakespeare with quantisation-aware training, export it in
the two Hugging Face BitNet layouts (packed "offline" like microsoft/bitnet-b1.58-2B-4T, and bf16 "online"
masters), and verify the export with transformers' own BitNetForCausalLM.

Run from anywhere; see tools/train-demo-model/README.md for the exact command. Everything is written under --out.
Exit status: 0 = trained, exported and verified; 2 = trained and exported but a verification check failed
(everything is still written; see summary.json "verification"); 1 = error before export.
"""

import os
import sys

# transformers' BitNet integration wraps its quantisers in @torch.compile; eager is the reference semantics and
# avoids compile time. Must be set before torch / transformers are imported (see bitnet_common.disable_torch_compile).
if "--hf-compile" not in sys.argv:
    os.environ["TORCH_COMPILE_DISABLE"] = "1"
    os.environ["TORCHDYNAMO_DISABLE"] = "1"

import argparse
import csv
import json
import math
import platform
import random
import shutil
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import bitnet_common as bc
from bitnet_common import log

SPECIAL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
DEFAULT_PROMPTS = ["ROMEO:", "First Citizen:\n", "KING HENRY"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", required=True, help="path to tinyshakespeare.txt")
    p.add_argument("--out", required=True, help="output folder (created; must be empty or absent unless --force)")
    p.add_argument("--force", action="store_true", help="allow a non-empty --out (files are overwritten)")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--data-limit-chars", type=int, default=0, help="use only the first N characters (smoke tests)")
    p.add_argument("--train-frac", type=float, default=0.9)
    # tokenizer
    p.add_argument("--vocab-size", type=int, default=2048)
    p.add_argument("--tokenizer-min-frequency", type=int, default=2)
    # architecture
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--heads", type=int, default=6)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=1024)
    p.add_argument("--max-pos", type=int, default=512)
    p.add_argument("--rope-theta", type=float, default=500000.0)
    p.add_argument("--rms-eps", type=float, default=1e-5)
    # optimisation
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--min-lr-frac", type=float, default=0.02, help="final lr = lr * this")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--dropout", type=float, default=0.25, help="dropout on embeddings and residual branches (training only)")
    p.add_argument("--attn-dropout", type=float, default=0.0)
    p.add_argument("--max-steps", type=int, default=20000, help="hard cap on optimizer steps")
    p.add_argument("--time-budget-s", type=float, default=200.0, help="wall-clock budget for the training loop")
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--plateau-patience", type=int, default=4,
                   help="evals without val improvement that start the lr decay")
    p.add_argument("--plateau-min-step", type=int, default=500,
                   help="no plateau-triggered decay before this step (early training can stall briefly)")
    p.add_argument("--stop-patience", type=int, default=6,
                   help="evals without val improvement during the decay that stop training")
    p.add_argument("--min-delta", type=float, default=1e-3)
    p.add_argument("--decay-frac", type=float, default=0.3, help="decay length as a fraction of the steps done so far")
    p.add_argument("--min-decay-steps", type=int, default=150)
    p.add_argument("--budget-decay-frac", type=float, default=0.2,
                   help="if no plateau, decay over the last fraction of the step budget")
    p.add_argument("--no-autocast", action="store_true", help="train in fp32 instead of bf16 autocast")
    p.add_argument("--device", default="auto")
    # export / verification
    p.add_argument("--max-size-bytes", type=int, default=8_000_000, help="fail if packed/ is larger")
    p.add_argument("--gen-tokens", type=int, default=200)
    p.add_argument("--prompt", action="append", default=None, help="sample prompt (repeatable)")
    p.add_argument("--skip-cpu-check", action="store_true", help="skip the HF fp32 CPU logits check")
    p.add_argument("--hf-compile", action="store_true", help="let transformers' @torch.compile run (default: eager)")
    p.add_argument("--recipe-command", default=None, help="command line to record in the model card")
    p.add_argument("--bundle", default=None,
                   help="also write a .tar.gz of --out (without master/) here, e.g. $OUT/demo.tar.gz")
    p.add_argument("--bundle-master", action="store_true", help="include master/ (~22 MB) in --bundle")
    a = p.parse_args(argv)
    if a.hidden % a.heads or a.heads % a.kv_heads:
        p.error("hidden must be divisible by heads and heads by kv-heads")
    if a.seq_len > a.max_pos:
        p.error("--seq-len must be <= --max-pos")
    for name in ("hidden", "ffn"):
        if getattr(a, name) % 4:
            p.error("--%s must be a multiple of 4 (2-bit packing)" % name)
    return a


# ----------------------------------------------------------------------------------------------------------
# data and tokenizer
# ----------------------------------------------------------------------------------------------------------


def split_text(text, frac):
    cut = int(len(text) * frac)
    nl = text.find("\n", cut)
    if nl != -1 and nl - cut < 200:
        cut = nl + 1  # keep lines whole
    return text[:cut], text[cut:], cut


def train_tokenizer(train_text, vocab_size, min_freq):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_freq,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # paragraphs (newlines kept) so merges may include "\n" sequences
    chunks = [c for c in train_text.split("\n\n")]
    chunks = [c + "\n\n" for c in chunks[:-1]] + [chunks[-1]]
    tok.train_from_iterator(chunks, trainer=trainer)
    return tok


def encode(tok, text):
    return np.asarray(tok.encode(text, add_special_tokens=False).ids, dtype=np.int64)


def token_byte_lengths(tok):
    """Bytes each token stands for. ByteLevel maps every byte to one character, so for normal tokens the byte
    length is the length of the token string; special tokens count 0."""
    V = tok.get_vocab_size()
    lens = np.zeros(V, dtype=np.int64)
    specials = set(tok.token_to_id(s) for s in SPECIAL_TOKENS)
    for i in range(V):
        if i in specials:
            continue
        s = tok.id_to_token(i)
        lens[i] = len(s) if s is not None else 0
    return lens


def write_tokenizer_files(tok, d, max_len):
    tok.save(os.path.join(d, "tokenizer.json"))
    bos, eos, eot = SPECIAL_TOKENS
    added = {}
    for s in SPECIAL_TOKENS:
        added[str(tok.token_to_id(s))] = {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                                           "single_word": False, "special": True}
    bc.write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "pad_token": None,
        "unk_token": None,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_len,
        "added_tokens_decoder": added,
    })
    bc.write_json(os.path.join(d, "special_tokens_map.json"), {"bos_token": bos, "eos_token": eos})


# ----------------------------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------------------------


def arch_dict(a, vocab):
    return {
        "vocab_size": vocab,
        "hidden_size": a.hidden,
        "intermediate_size": a.ffn,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "max_position_embeddings": a.max_pos,
        "rope_theta": a.rope_theta,
        "rms_norm_eps": a.rms_eps,
    }


def build_model(arch, ids, attn_dropout):
    from transformers.models.bitnet import BitNetConfig, BitNetForCausalLM

    cfg = BitNetConfig(
        vocab_size=arch["vocab_size"],
        hidden_size=arch["hidden_size"],
        intermediate_size=arch["intermediate_size"],
        num_hidden_layers=arch["num_hidden_layers"],
        num_attention_heads=arch["num_attention_heads"],
        num_key_value_heads=arch["num_key_value_heads"],
        max_position_embeddings=arch["max_position_embeddings"],
        rms_norm_eps=arch["rms_norm_eps"],
        hidden_act="relu2",
        tie_word_embeddings=True,
        attention_dropout=attn_dropout,
        bos_token_id=ids["bos"],
        eos_token_id=ids["eos"],
        pad_token_id=None,
        rope_theta=arch["rope_theta"],
    )
    rp = getattr(cfg, "rope_parameters", None)
    theta = (rp or {}).get("rope_theta", getattr(cfg, "rope_theta", None))
    if theta is None or abs(float(theta) - arch["rope_theta"]) > 1e-6:
        log("[model] rope_theta kwarg not taken (got %r); setting rope_parameters explicitly" % (theta,))
        cfg.rope_parameters = {"rope_theta": float(arch["rope_theta"]), "rope_type": "default"}
    model = BitNetForCausalLM(cfg)
    replaced = bc.swap_linears_for_fakequant(model)
    expected = 7 * arch["num_hidden_layers"]
    if len(replaced) != expected:
        raise RuntimeError("expected %d BitLinear layers, replaced %d: %s" % (expected, len(replaced), replaced))
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        log("[model] lm_head was not tied after construction; tying by hand")
        model.lm_head.weight = model.model.embed_tokens.weight
    if type(model.lm_head) is not nn.Linear:
        raise RuntimeError("lm_head must stay a plain nn.Linear")
    return model


def add_dropout_hooks(model, p):
    """Dropout on the embedding output and on the output of every attention / MLP block (residual branches).
    Active only in training mode; inference is exactly HF's architecture."""
    if p <= 0:
        return 0

    def hook(module, inputs, output):
        if not module.training:
            return output
        if isinstance(output, torch.Tensor):
            return F.dropout(output, p, True)
        if isinstance(output, tuple) and output and isinstance(output[0], torch.Tensor):
            return (F.dropout(output[0], p, True),) + tuple(output[1:])
        return output

    n = 0
    model.model.embed_tokens.register_forward_hook(hook)
    n += 1
    for layer in model.model.layers:
        layer.self_attn.register_forward_hook(hook)
        layer.mlp.register_forward_hook(hook)
        n += 2
    return n


# ----------------------------------------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------------------------------------


def make_windows(ids, T):
    """Non-overlapping windows covering every token after the first: inputs ids[i:i+T], targets ids[i+1:i+T+1]."""
    out = []
    i = 0
    n = len(ids)
    while i + 1 < n:
        j = min(i + T, n - 1)
        out.append((ids[i:j], ids[i + 1:j + 1]))
        i = j
    return out


@torch.no_grad()
def evaluate(model, windows, device, autocast, tok_bytes, batch=32):
    """Returns dict(loss per token, nll_sum, tokens, bytes, loss per byte)."""
    was_training = model.training
    model.eval()
    nll = 0.0
    ntok = 0
    nbytes = 0
    groups = {}
    for x, y in windows:
        groups.setdefault(len(x), []).append((x, y))
    for L, ws in groups.items():
        for b in range(0, len(ws), batch):
            chunk = ws[b:b + batch]
            x = torch.tensor(np.stack([c[0] for c in chunk]), dtype=torch.long, device=device)
            y = torch.tensor(np.stack([c[1] for c in chunk]), dtype=torch.long, device=device)
            with autocast_ctx(device, autocast):
                logits = model(input_ids=x, use_cache=False).logits
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
            nll += float(loss)
            ntok += y.numel()
            nbytes += int(tok_bytes[y.cpu().numpy()].sum())
    if was_training:
        model.train()
    return {"loss": nll / max(ntok, 1), "nll_sum": nll, "tokens": ntok, "bytes": nbytes,
            "loss_per_byte": nll / max(nbytes, 1)}


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def autocast_ctx(device, enabled):
    if not enabled:
        return _Null()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


# ----------------------------------------------------------------------------------------------------------
# lr schedule: warmup -> constant -> linear decay, the decay started by a val plateau or by the step budget
# ----------------------------------------------------------------------------------------------------------


class Schedule:
    def __init__(self, a):
        self.a = a
        self.peak = a.lr
        self.floor = a.lr * a.min_lr_frac
        self.decay_start = None
        self.decay_len = None
        self.trigger = None

    def lr(self, step):
        if step < self.a.warmup:
            return self.peak * (step + 1) / self.a.warmup
        if self.decay_start is None or step < self.decay_start:
            return self.peak
        p = min(1.0, (step - self.decay_start) / max(1, self.decay_len))
        return self.peak + (self.floor - self.peak) * p

    def start_decay(self, step, length, why):
        self.decay_start = step
        self.decay_len = max(1, int(length))
        self.trigger = why
        log("[sched] step %d: lr decay starts (%s), %d steps" % (step, why, self.decay_len))

    def done(self, step):
        return self.decay_start is not None and step >= self.decay_start + self.decay_len


# ----------------------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------------------


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def train(a, model, train_ids, val_windows, train_eval_windows, tok_bytes, device, outdir):
    autocast = (not a.no_autocast) and device.type == "cuda"
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=1e-8, fused=(device.type == "cuda"))
        fused = device.type == "cuda"
    except (TypeError, RuntimeError) as e:
        log("[train] fused AdamW unavailable (%r); using the default implementation" % (e,))
        opt = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=1e-8)
        fused = False
    sched = Schedule(a)
    rng = np.random.default_rng(a.seed)  # deterministic data order
    T, B = a.seq_len, a.batch_size
    n_train = len(train_ids)
    if n_train < T + 2:
        raise RuntimeError("training set has %d tokens, fewer than seq_len+2" % n_train)
    train_t = torch.from_numpy(train_ids.astype(np.int64))
    offsets_idx = torch.arange(T + 1)

    def get_batch():
        starts = torch.from_numpy(rng.integers(0, n_train - T - 1, size=B))
        idx = starts[:, None] + offsets_idx[None, :]
        chunk = train_t[idx]
        x = chunk[:, :-1].to(device, non_blocking=True)
        y = chunk[:, 1:].to(device, non_blocking=True)
        return x, y

    history = []
    best = {"val_loss": float("inf"), "step": 0, "state": None}
    evals_since_best = 0
    step = 0
    cap = a.max_steps
    run_loss, run_n = 0.0, 0
    t_start = time.time()
    step_time = None
    eval_time = None
    stopped_by = "max_steps"
    probe_from, probe_to = 10, 40

    def do_eval(step):
        nonlocal eval_time, evals_since_best
        te = time.time()
        v = evaluate(model, val_windows, device, autocast, tok_bytes)
        tr = evaluate(model, train_eval_windows, device, autocast, tok_bytes)
        eval_time = time.time() - te
        row = {
            "step": step,
            "elapsed_s": round(time.time() - t_start, 2),
            "lr": sched.lr(max(step - 1, 0)),
            "train_loss_running": (run_loss / run_n) if run_n else float("nan"),
            "train_eval_loss": tr["loss"],
            "val_loss": v["loss"],
            "val_loss_per_byte": v["loss_per_byte"],
        }
        history.append(row)
        improved = v["loss"] < best["val_loss"] - a.min_delta
        if v["loss"] < best["val_loss"]:
            best["val_loss"] = v["loss"]
            best["step"] = step
            best["state"] = {k: t.detach().clone() for k, t in model.state_dict().items()}
        evals_since_best = 0 if improved else evals_since_best + 1
        log("[eval] step %5d  t=%6.1fs  lr=%.2e  train(run)=%.4f  train(eval)=%.4f  val=%.4f  val/byte=%.4f%s" % (
            step, row["elapsed_s"], row["lr"], row["train_loss_running"], tr["loss"], v["loss"],
            v["loss_per_byte"], "  *best*" if best["step"] == step else ""))
        return row

    model.train()
    do_eval(0)
    first_eval_s = time.time() - t_start
    log("[train] start: batch %d x %d tokens, %d train tokens, cap %d steps, budget %.0fs, autocast=%s, fused=%s"
        % (B, T, n_train, cap, a.time_budget_s, autocast, fused))
    t_probe = None
    while True:
        if step >= cap:
            stopped_by = "max_steps" if cap == a.max_steps else "time_budget_steps"
            break
        if sched.done(step):
            stopped_by = "schedule_complete"
            break
        if time.time() - t_start > a.time_budget_s:
            stopped_by = "wall_clock"
            log("[train] wall-clock budget reached at step %d" % step)
            break
        lr = sched.lr(step)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch()
        with autocast_ctx(device, autocast):
            logits = model(input_ids=x, use_cache=False).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        if not torch.isfinite(loss):
            raise RuntimeError("non-finite loss %r at step %d" % (float(loss), step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        opt.step()
        step += 1
        if step % 10 == 0 or step < 20:  # avoid a host sync every step
            run_loss += loss.item()
            run_n += 1

        if step == probe_from:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t_probe = time.time()
        if step == probe_to and t_probe is not None:
            if device.type == "cuda":
                torch.cuda.synchronize()
            step_time = (time.time() - t_probe) / (probe_to - probe_from)
            remaining = a.time_budget_s - (time.time() - t_start)
            per_step = step_time + (eval_time or 0.0) / a.eval_every
            budget_steps = step + int(max(0.0, remaining) * 0.97 / per_step)
            cap = min(a.max_steps, budget_steps)
            log("[train] measured %.1f ms/step (%.2f steps/s), eval %.2fs; step cap = %d (max_steps %d)" % (
                step_time * 1e3, 1.0 / step_time, eval_time or 0.0, cap, a.max_steps))

        if step % a.eval_every == 0 or step == cap:
            do_eval(step)
            run_loss, run_n = 0.0, 0
            if step_time is not None and sched.decay_start is None:
                # re-estimate the step cap from the average cost so far (steps + evals), so a slower or faster
                # phase than the early probe still lands the lr decay inside the budget
                elapsed = time.time() - t_start
                avg = (elapsed - first_eval_s) / max(1, step)
                new_cap = min(a.max_steps, step + int(max(0.0, a.time_budget_s - elapsed) * 0.97 / max(avg, 1e-6)))
                if abs(new_cap - cap) > max(5, 0.02 * cap):
                    log("[train] step cap re-estimated: %d -> %d (%.1f ms/step incl. evals)" % (cap, new_cap, avg * 1e3))
                cap = new_cap
            if sched.decay_start is None and step >= a.warmup:
                if evals_since_best >= a.plateau_patience and step >= a.plateau_min_step:
                    length = max(a.min_decay_steps, a.decay_frac * step)
                    length = min(length, max(1, cap - step))
                    sched.start_decay(step, length, "val plateau (%d evals without improvement)" % evals_since_best)
                    evals_since_best = 0
                elif step >= cap * (1 - a.budget_decay_frac):
                    sched.start_decay(step, max(1, cap - step), "step budget")
            elif sched.decay_start is not None and evals_since_best >= a.stop_patience:
                stopped_by = "no_improvement_during_decay"
                log("[train] no val improvement for %d evals during the decay; stopping" % evals_since_best)
                break
    if not history or history[-1]["step"] != step:
        do_eval(step)
    wall = time.time() - t_start
    log("[train] done: %d steps in %.1fs (stopped by %s); best val %.4f at step %d" % (
        step, wall, stopped_by, best["val_loss"], best["step"]))
    return {
        "history": history,
        "best": best,
        "steps": step,
        "train_wall_s": wall,
        "stopped_by": stopped_by,
        "step_time_s": step_time,
        "eval_time_s": eval_time,
        "step_cap": cap,
        "schedule": {"decay_start": sched.decay_start, "decay_len": sched.decay_len, "trigger": sched.trigger},
        "autocast_bf16": autocast,
        "fused_adamw": fused,
    }


# ----------------------------------------------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------------------------------------------


def write_history(history, outdir):
    path = os.path.join(outdir, "loss_curve.csv")
    keys = ["step", "elapsed_s", "lr", "train_loss_running", "train_eval_loss", "val_loss", "val_loss_per_byte"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in history:
            w.writerow({k: r[k] for k in keys})
    return path


def plot_history(history, res, outdir):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:
        log("[plot] matplotlib unavailable (%r); no PNG" % (e,))
        return None
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(8, 5))
    tr = [(r["step"], r["train_loss_running"]) for r in history if r["train_loss_running"] == r["train_loss_running"]]
    if tr:
        ax.plot([s for s, _ in tr], [v for _, v in tr], label="train (running, with dropout)", alpha=0.6)
    ax.plot(steps, [r["train_eval_loss"] for r in history], label="train (eval subset)")
    ax.plot(steps, [r["val_loss"] for r in history], label="validation", linewidth=2)
    b = res["best"]["step"]
    ax.axvline(b, color="k", linestyle=":", label="best val (step %d)" % b)
    if res["schedule"]["decay_start"] is not None:
        ax.axvline(res["schedule"]["decay_start"], color="gray", linestyle="--", label="lr decay start")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title("TeLLMe demo BitNet b1.58 on tinyshakespeare (QAT)")
    lo = min(r["val_loss"] for r in history)
    ax.set_ylim(max(0.0, lo - 1.0), min(max(r["val_loss"] for r in history), lo + 4.0))
    ax.grid(alpha=0.3)
    ax.legend()
    path = os.path.join(outdir, "loss_curve.png")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def export_checkpoint(d, tensors, config, gen_config, tok, max_len, metadata):
    os.makedirs(d, exist_ok=True)
    writer = bc.save_safetensors(tensors, os.path.join(d, "model.safetensors"), metadata=metadata)
    os.chmod(os.path.join(d, "model.safetensors"), 0o644)
    bc.write_json(os.path.join(d, "config.json"), config)
    bc.write_json(os.path.join(d, "generation_config.json"), gen_config)
    write_tokenizer_files(tok, d, max_len)
    return writer


# ----------------------------------------------------------------------------------------------------------
# verification with transformers' own BitNetForCausalLM
# ----------------------------------------------------------------------------------------------------------


@torch.no_grad()
def ref_greedy(model, ids, n, device):
    """Greedy decoding with the training model (fake-quant fp32), full recompute each step (no cache)."""
    seq = list(ids)
    out = []
    for _ in range(n):
        x = torch.tensor([seq[-model.config.max_position_embeddings:]], dtype=torch.long, device=device)
        nxt = int(model(input_ids=x, use_cache=False).logits[0, -1].float().argmax())
        out.append(nxt)
        seq.append(nxt)
    return out


def common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def verify(a, ref_model, dirs, tensors_by_kind, tok, prompts, val_windows, tok_bytes, device, outdir, train_val_loss):
    """Returns a dict; never raises (errors are recorded).
    Hard checks (V["ok"]): transformers loads the packed checkpoint (fp32, on `device`) with exactly the weights
    we wrote, and its logits match the export-exact reference (same numbers, different float operation order).
    Comparisons with the training model itself (fp32 masters, fp32 embeddings) are reported, not judged."""
    V = {"checks": {}, "errors": [], "warnings": [], "samples": []}
    ok = True
    ref_model.eval()
    ref_model.to(device)
    prompt_ids = [bc_encode_list(tok, p) for p in prompts]
    long_ids = [int(t) for t in val_windows[0][0][: min(128, len(val_windows[0][0]))]]
    test_seqs = prompt_ids + [long_ids]
    xref = bc.build_export_reference(ref_model, tensors_by_kind["packed"]).to(device)

    def logits_of(m, dev):
        with torch.no_grad():
            return torch.cat([m(input_ids=torch.tensor([q], device=dev), use_cache=False).logits[0].float().cpu()
                              for q in test_seqs], 0)

    ref_logits = logits_of(ref_model, device)
    xref_logits = logits_of(xref, device)
    V["test_sequence_lengths"] = [len(q) for q in test_seqs]
    V["export_reference_vs_training_model"] = bc.compare_logits(ref_logits, xref_logits)
    log("[verify] export-exact reference vs training model (bf16 rounding of scales/embeddings only): %s"
        % json.dumps(V["export_reference_vs_training_model"]))

    hf_packed_fp32 = None
    for kind in ("packed", "master"):
        for dt_name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            key = "%s_%s_%s" % (kind, dt_name, device.type)
            try:
                m, info = bc.hf_load(dirs[kind], dt, device=str(device))
                chk = bc.check_loaded(m, tensors_by_kind[kind], "offline" if kind == "packed" else "online")
                hl = logits_of(m, device)
                entry = {"load": {k: v for k, v in info.items() if k != "path_attempts"},
                         "load_failures": [x["error"] for x in info["path_attempts"]],
                         "loaded_weights_check": chk,
                         "vs_training_model": bc.compare_logits(ref_logits, hl)}
                if kind == "packed":
                    entry["vs_export_reference"] = bc.compare_logits(xref_logits, hl)
                main_cmp = entry.get("vs_export_reference", entry["vs_training_model"])
                log("[verify] %-16s load=%s weights_ok=%s | vs %s: max|dlogit|=%.3e cos_min=%.7f argmax=%.4f" % (
                    key, info["load_path"], chk["ok"], "export-ref" if kind == "packed" else "training",
                    main_cmp["max_abs_diff"], main_cmp["cosine_min"], main_cmp["argmax_agree"]))
                if not chk["ok"]:
                    V["errors"].append("%s: loaded weights differ from the export: %s" % (key, json.dumps(chk)))
                    if kind == "packed" and dt_name == "fp32":
                        ok = False
                if kind == "packed" and dt_name == "fp32":
                    c = entry["vs_export_reference"]
                    # Same numbers and the same operation order: expected (near) bit-exact. A wrong scale
                    # convention or packing gives cosines far below these bounds; float noise in a deep ternary
                    # net can flip int8 roundings and cascade (see DequantLinear), hence the loose hard bound
                    # and a warning for anything short of exact.
                    if c["cosine_min"] < 0.999 or c["argmax_agree"] < 0.95:
                        ok = False
                        V["errors"].append("%s: logits disagree with the export-exact reference (cos_min %.6f, "
                                           "argmax %.4f)" % (key, c["cosine_min"], c["argmax_agree"]))
                    elif c["max_abs_diff"] > 1e-4 * max(1.0, c["ref_max_abs"]):
                        V["warnings"].append("%s: logits not exact vs the export-exact reference (max diff %.3e, "
                                             "cos_min %.7f)" % (key, c["max_abs_diff"], c["cosine_min"]))
                    hf_packed_fp32 = m
                else:
                    del m
                V["checks"][key] = entry
            except Exception as e:
                tb = traceback.format_exc()
                log("[verify] %s FAILED:\n%s" % (key, tb))
                V["checks"][key] = {"error": repr(e), "traceback": tb}
                V["errors"].append("%s: %r" % (key, e))
                if kind == "packed" and dt_name == "fp32":
                    ok = False

    # deterministic CPU fp32 check of the deliverable
    if not a.skip_cpu_check and (device.type != "cpu" or os.environ.get("TDM_TEST_CPU_CHECK") == "1"):
        key = "packed_fp32_cpu"
        try:
            m, info = bc.hf_load(dirs["packed"], torch.float32, device="cpu")
            chk = bc.check_loaded(m, tensors_by_kind["packed"], "offline")
            hl = logits_of(m, torch.device("cpu"))
            xref_cpu = logits_of(xref.cpu(), torch.device("cpu"))
            xref.to(device)
            cmp = bc.compare_logits(xref_cpu, hl)
            V["checks"][key] = {"load": {k: v for k, v in info.items() if k != "path_attempts"},
                                "loaded_weights_check": chk, "vs_export_reference_cpu": cmp,
                                "vs_export_reference_on_%s" % device.type: bc.compare_logits(xref_logits, hl)}
            log("[verify] %-16s weights_ok=%s | vs export-ref (cpu): max|dlogit|=%.3e cos_min=%.7f argmax=%.4f" % (
                key, chk["ok"], cmp["max_abs_diff"], cmp["cosine_min"], cmp["argmax_agree"]))
            if not chk["ok"] or cmp["cosine_min"] < 0.9999:
                V["warnings"].append("%s: CPU check not clean: weights_ok=%s cos_min=%.6f" % (
                    key, chk["ok"], cmp["cosine_min"]))
            del m
        except Exception as e:
            tb = traceback.format_exc()
            log("[verify] %s FAILED:\n%s" % (key, tb))
            V["checks"][key] = {"error": repr(e), "traceback": tb}
            V["errors"].append("%s: %r" % (key, e))

    # full validation loss through HF's model loaded from the packed checkpoint
    if hf_packed_fp32 is not None:
        try:
            ev = evaluate(hf_packed_fp32, val_windows, device, False, tok_bytes)
            V["hf_packed_fp32_val"] = ev
            d = ev["loss"] - train_val_loss
            log("[verify] HF packed fp32 val loss %.4f /token, %.4f /byte (training model %.4f, diff %+.4f)" % (
                ev["loss"], ev["loss_per_byte"], train_val_loss, d))
            if abs(d) > 0.05:
                ok = False
                V["errors"].append("HF packed val loss differs from the training model by %+.4f nats" % d)
            elif abs(d) > 0.01:
                V["warnings"].append("HF packed val loss differs from the training model by %+.4f nats" % d)
        except Exception as e:
            V["errors"].append("hf val loss: %r" % (e,))
            log("[verify] HF val loss FAILED: %s" % traceback.format_exc())

    # greedy samples
    for p, ids in zip(prompts, prompt_ids):
        s = {"prompt": p, "prompt_ids": ids}
        try:
            s["training_model_greedy"] = ref_greedy(ref_model, ids, a.gen_tokens, device)
        except Exception as e:
            s["training_model_error"] = repr(e)
            V["errors"].append("ref greedy: %r" % (e,))
        if hf_packed_fp32 is not None:
            try:
                s["hf_generate"] = bc.greedy_generate(hf_packed_fp32, ids, a.gen_tokens)
                s["hf_generate_method"] = "model.generate(do_sample=False)"
            except Exception as e:
                s["hf_generate_error"] = repr(e)
                log("[verify] generate FAILED: %s" % traceback.format_exc())
            try:
                s["hf_manual_kv"], margins = bc.greedy_manual_kv(hf_packed_fp32, ids, a.gen_tokens)
                s["hf_manual_kv_min_margin"] = min(margins) if margins else None
            except Exception as e:
                s["hf_manual_kv_error"] = repr(e)
                log("[verify] manual KV greedy FAILED: %s" % traceback.format_exc())
        main = s.get("hf_generate") or s.get("hf_manual_kv") or s.get("training_model_greedy") or []
        s["text_source"] = ("hf_generate" if s.get("hf_generate") else "hf_manual_kv" if s.get("hf_manual_kv")
                            else "training_model_greedy")
        s["text"] = tok.decode(ids + main, skip_special_tokens=False)
        if "training_model_greedy" in s and s.get("hf_generate"):
            s["agree_prefix_hf_vs_training"] = common_prefix(s["hf_generate"], s["training_model_greedy"])
        if s.get("hf_generate") and s.get("hf_manual_kv"):
            s["agree_prefix_generate_vs_manual_kv"] = common_prefix(s["hf_generate"], s["hf_manual_kv"])
        log("[sample] %r -> (%s) agree(hf,train)=%s/%d\n%s\n" % (
            p, s["text_source"], s.get("agree_prefix_hf_vs_training"), a.gen_tokens, s["text"]))
        V["samples"].append(s)

    # the tokenizer as transformers sees it
    try:
        from transformers import AutoTokenizer

        at = AutoTokenizer.from_pretrained(dirs["packed"])
        enc = [list(at(p, add_special_tokens=True)["input_ids"]) for p in prompts]
        same = enc == prompt_ids
        V["checks"]["autotokenizer"] = {"class": type(at).__name__, "same_ids_as_tokenizers_lib": same,
                                        "bos": at.bos_token, "eos": at.eos_token,
                                        "bos_id": at.bos_token_id, "eos_id": at.eos_token_id}
        log("[verify] AutoTokenizer: %s, ids identical to tokenizers lib: %s" % (type(at).__name__, same))
        if not same:
            V["errors"].append("AutoTokenizer encodes prompts differently: %s vs %s" % (enc, prompt_ids))
    except Exception as e:
        V["checks"]["autotokenizer"] = {"error": repr(e), "traceback": traceback.format_exc()}
        V["errors"].append("AutoTokenizer: %r" % (e,))
        log("[verify] AutoTokenizer FAILED: %s" % traceback.format_exc())

    V["ok"] = ok and hf_packed_fp32 is not None
    return V


def recipe_command(argv):
    """The command line with machine-specific paths replaced by placeholders (for the model card)."""
    ph = {"--data": "tinyshakespeare.txt", "--out": "OUTDIR", "--bundle": "OUT.tar.gz"}
    out, skip = [], False
    for i, x in enumerate(argv):
        if skip:
            skip = False
            continue
        key = x.split("=", 1)[0]
        if key in ph:
            out += [key, ph[key]]
            skip = "=" not in x
        else:
            out.append(x)
    return "python3 tools/train-demo-model/train.py " + " ".join(out)


def bc_encode_list(tok, text):
    return [int(i) for i in tok.encode(text, add_special_tokens=False).ids]


# ----------------------------------------------------------------------------------------------------------
# model card
# ----------------------------------------------------------------------------------------------------------


def model_card(S):
    A = S["architecture"]
    H = S["hyperparameters"]
    F_ = S["final"]
    samples = S.get("verification", {}).get("samples", [])
    sample_txt = samples[0]["text"] if samples else "(no sample)"
    packed_mb = S["export"]["packed_dir_bytes"] / 1e6
    lines = []
    lines.append("---\nlicense: mit\nlanguage: en\ntags: [bitnet, ternary, b1.58, tellme, tinyshakespeare]\n---\n")
    lines.append("# TeLLMe demo model: BitNet b1.58, %d layers x %d, trained on tinyshakespeare\n" % (
        A["num_hidden_layers"], A["hidden_size"]))
    lines.append("A small ternary (W1.58 A8) language model in the Hugging Face `bitnet` format, packed exactly like "
                 "`microsoft/bitnet-b1.58-2B-4T` (uint8 2-bit weights + multiplicative bf16 `weight_scale`, "
                 "`quantization_config` autobitlinear/offline). It is the bundled demo model of TeLLMe; it writes "
                 "Shakespeare-flavoured text and is not useful for anything else.\n")
    lines.append("## Architecture\n")
    lines.append("| | |\n|---|---|")
    rows = [
        ("class", "`BitNetForCausalLM` (model_type `bitnet`), transformers %s" % S["versions"]["transformers"]),
        ("layers", A["num_hidden_layers"]),
        ("hidden size", A["hidden_size"]),
        ("attention heads / KV heads / head dim", "%d / %d / %d (GQA)" % (
            A["num_attention_heads"], A["num_key_value_heads"], A["hidden_size"] // A["num_attention_heads"])),
        ("FFN", "%d, ReLU² gated (gate_proj, up_proj, down_proj), ffn_sub_norm" % A["intermediate_size"]),
        ("norms", "RMSNorm eps %g; attn_sub_norm and ffn_sub_norm as in 2B-4T" % A["rms_norm_eps"]),
        ("position", "RoPE theta %g (rotate-half pairing), max_position_embeddings %d" % (
            A["rope_theta"], A["max_position_embeddings"])),
        ("vocabulary", "%d (byte-level BPE)" % A["vocab_size"]),
        ("head", "tied to the embedding (no `lm_head.weight` in the file)"),
        ("ternary weights", "%d (%.2f M)" % (S["export"]["ternary_params"], S["export"]["ternary_params"] / 1e6)),
        ("bf16 weights", "%d (embedding + norms)" % S["export"]["bf16_params"]),
        ("files", "model.safetensors %d bytes; whole folder %.2f MB" % (S["export"]["packed_safetensors_bytes"], packed_mb)),
    ]
    for k, v in rows:
        lines.append("| %s | %s |" % (k, v))
    lines.append("")
    lines.append("Linear layers (q, k, v, o, gate, up, down) are stored as uint8 `[out/4, in]` with HF block packing "
                 "(`packed[r,c] = Σ_i (t[i·R+r, c]+1) << 2i`, R = out/4) and `<name>.weight_scale` (bf16, shape [1]) "
                 "holding the multiplicative factor: W = t · weight_scale. Activations are quantised per token to "
                 "int8 (absmax) at run time. Embedding and norms are bf16.\n")
    lines.append("## Data\n")
    lines.append("tinyshakespeare (%d characters; `data/tinyshakespeare/input.txt` of karpathy/char-rnn). The first "
                 "%.0f%% of the text (up to character %d, cut at a line end) is the training set, the rest the "
                 "validation set. Train tokens: %d, validation tokens: %d.\n" % (
                     S["data"]["chars"], 100 * H["train_frac"], S["data"]["split_char"], S["data"]["train_tokens"],
                     S["data"]["val_tokens"]))
    lines.append("## Tokenizer\n")
    lines.append("Byte-level BPE (HF `tokenizers`, GPT-2 style pre-tokenisation regex, no normaliser), trained on the "
                 "training split only, vocabulary %d including the special tokens `<|begin_of_text|>` (id %d, bos), "
                 "`<|end_of_text|>` (id %d, eos) and `<|eot_id|>` (id %d). Training used plain text windows without "
                 "special tokens, so prompts are raw text (no BOS is added).\n" % (
                     A["vocab_size"], S["special_ids"]["bos"], S["special_ids"]["eos"], S["special_ids"]["eot"]))
    lines.append("## Training recipe\n")
    lines.append("Quantisation-aware training from scratch: every linear layer except the head runs HF AutoBitLinear "
                 "*online* semantics (per-tensor absmean ternary weights, per-token int8 absmax activations, both "
                 "in fp32, straight-through gradients) on fp32 master weights; bf16 autocast elsewhere. AdamW, "
                 "linear warmup, constant lr, then a linear decay started by a validation plateau (or by the step "
                 "budget); the checkpoint with the best validation loss is exported.\n")
    lines.append("```\n%s\n```\n" % S["recipe_command"])
    lines.append("| hyper-parameter | value |\n|---|---|")
    for k in sorted(H):
        lines.append("| %s | %s |" % (k, H[k]))
    lines.append("")
    sch = S["training"]["schedule"]
    decay = ("lr decay from step %d over %d steps, started by %s" % (sch["decay_start"], sch["decay_len"], sch["trigger"])
             if sch["decay_start"] is not None else "no lr decay was reached")
    lines.append("Seed %d; %d optimizer steps in %.0f s on %s (stopped by: %s; %s); best validation loss at step "
                 "%d.\n" % (S["seed"], S["training"]["steps"], S["training"]["train_wall_s"],
                            S["hardware"]["device_name"], S["training"]["stopped_by"], decay, S["training"]["best_step"]))
    lines.append("## Results (validation split)\n")
    lines.append("| | value |\n|---|---|")
    lines.append("| loss per token (nats) | %.4f |" % F_["val_loss_per_token"])
    lines.append("| perplexity per token | %.2f |" % F_["val_ppl_per_token"])
    lines.append("| loss per byte = per character (nats) | %.4f |" % F_["val_loss_per_byte"])
    lines.append("| perplexity per byte / character | %.3f |" % F_["val_ppl_per_byte"])
    lines.append("| bits per character | %.4f |" % (F_["val_loss_per_byte"] / math.log(2)))
    hv = S.get("verification", {}).get("hf_packed_fp32_val")
    if hv:
        lines.append("| same, this packed checkpoint through transformers (fp32) | %.4f nats/token, %.4f nats/byte |"
                     % (hv["loss"], hv["loss_per_byte"]))
    lines.append("")
    lines.append("Measured with the training model's fake-quant forward in fp32 on the best checkpoint.\n")
    lines.append("## Sample (greedy, %d new tokens, transformers `BitNetForCausalLM` on this checkpoint)\n" % S["gen_tokens"])
    lines.append("```\n%s\n```\n" % sample_txt)
    lines.append("## Usage\n")
    lines.append("```python\nfrom transformers import AutoTokenizer, BitNetForCausalLM\n"
                 "tok = AutoTokenizer.from_pretrained(path)\nmodel = BitNetForCausalLM.from_pretrained(path)\n"
                 "ids = tok(\"ROMEO:\", return_tensors=\"pt\").input_ids\n"
                 "print(tok.decode(model.generate(ids, max_new_tokens=100, do_sample=False)[0]))\n```\n")
    lines.append("transformers' BitNet quantizer asks for the `accelerate` package when loading.\n")
    lines.append("## Licence\n")
    lines.append("The Shakespeare text is in the public domain; the tinyshakespeare file comes from karpathy/char-rnn "
                 "(MIT licence). These weights and this card are released under the MIT licence as part of TeLLMe.\n")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------------------


def main(argv=None):
    a = parse_args(argv)
    t0 = time.time()
    compile_disabled = not a.hf_compile
    if compile_disabled:
        bc.disable_torch_compile()
    if os.path.isdir(a.out) and os.listdir(a.out) and not a.force:
        log("ERROR: --out %s exists and is not empty (use --force to overwrite)" % a.out)
        return 1
    os.makedirs(a.out, exist_ok=True)
    bc.start_run_log(os.path.join(a.out, "train.log"))
    log("[cmd] %s" % " ".join([sys.executable] + sys.argv))
    seed_all(a.seed)
    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(a.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    versions = bc.hf_versions()
    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    log("[env] python %s, torch %s, transformers %s, device %s (%s), torch.compile %s" % (
        versions["python"], versions["torch"], versions["transformers"], device, dev_name,
        "disabled (eager)" if compile_disabled else "allowed"))

    # ---- data
    if not os.path.isfile(a.data):
        log("ERROR: --data %s not found" % a.data)
        return 1
    with open(a.data, "r", encoding="utf-8") as f:
        text = f.read()
    full_chars = len(text)
    if a.data_limit_chars:
        text = text[: a.data_limit_chars]
    train_text, val_text, cut = split_text(text, a.train_frac)
    is_ascii = all(ord(c) < 128 for c in text)
    log("[data] %d chars used (file %d), ascii=%s, split at %d: train %d chars, val %d chars" % (
        len(text), full_chars, is_ascii, cut, len(train_text), len(val_text)))

    # ---- tokenizer
    tt = time.time()
    tok = train_tokenizer(train_text, a.vocab_size, a.tokenizer_min_frequency)
    V = tok.get_vocab_size()
    ids = {"bos": tok.token_to_id(SPECIAL_TOKENS[0]), "eos": tok.token_to_id(SPECIAL_TOKENS[1]),
           "eot": tok.token_to_id(SPECIAL_TOKENS[2])}
    if None in ids.values():
        raise RuntimeError("special tokens missing from the trained tokenizer: %s" % ids)
    train_ids = encode(tok, train_text)
    val_ids = encode(tok, val_text)
    tok_bytes = token_byte_lengths(tok)
    vb = int(tok_bytes[val_ids].sum())
    if vb != len(val_text.encode("utf-8")):
        raise RuntimeError("byte accounting mismatch: %d token bytes vs %d text bytes" % (vb, len(val_text.encode())))
    log("[tok] vocab %d (asked %d) in %.1fs; train %d tokens (%.2f chars/token), val %d tokens; specials %s" % (
        V, a.vocab_size, time.time() - tt, len(train_ids), len(train_text) / len(train_ids), len(val_ids), ids))
    if V != a.vocab_size:
        log("[tok] NOTE: the trained vocabulary has %d entries, not %d (too little text for more merges)" % (V, a.vocab_size))

    # ---- model
    arch = arch_dict(a, V)
    model = build_model(arch, ids, a.attn_dropout)
    n_drop = add_dropout_hooks(model, a.dropout)
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    n_tern = sum(m.weight.numel() for m in model.modules() if isinstance(m, bc.FakeQuantLinear))
    log("[model] BitNetForCausalLM, %d params (%d ternary), attn=%s, dropout hooks=%d" % (
        n_params, n_tern, getattr(model.config, "_attn_implementation", "?"), n_drop))

    val_windows = make_windows(val_ids, a.seq_len)
    erng = np.random.default_rng(a.seed + 1)
    n_tr_eval = max(1, min(64, len(val_windows)))
    st = erng.integers(0, len(train_ids) - a.seq_len - 1, size=n_tr_eval)
    train_eval_windows = [(train_ids[s:s + a.seq_len], train_ids[s + 1:s + a.seq_len + 1]) for s in st]

    # ---- train
    res = train(a, model, train_ids, val_windows, train_eval_windows, tok_bytes, device, a.out)
    write_history(res["history"], a.out)
    plot_path = plot_history(res["history"], res, a.out)

    # ---- best checkpoint, final numbers (true fp32 from here on: no autocast, no TF32)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model.load_state_dict(res["best"]["state"])
    model.eval()
    fin = evaluate(model, val_windows, device, False, tok_bytes)
    fin_ac = evaluate(model, val_windows, device, (not a.no_autocast) and device.type == "cuda", tok_bytes)
    final = {
        "val_loss_per_token": fin["loss"],
        "val_ppl_per_token": math.exp(fin["loss"]),
        "val_loss_per_byte": fin["loss_per_byte"],
        "val_ppl_per_byte": math.exp(fin["loss_per_byte"]),
        "val_bits_per_byte": fin["loss_per_byte"] / math.log(2),
        "val_tokens_scored": fin["tokens"],
        "val_bytes_scored": fin["bytes"],
        "val_loss_per_token_bf16_autocast": fin_ac["loss"],
        "best_step": res["best"]["step"],
        "note": "fp32 fake-quant forward of the best checkpoint; per byte = per character when the text is ASCII",
    }
    log("[final] val loss %.4f/token (ppl %.2f), %.4f/byte (ppl %.3f, %.3f bits/char)" % (
        final["val_loss_per_token"], final["val_ppl_per_token"], final["val_loss_per_byte"],
        final["val_ppl_per_byte"], final["val_bits_per_byte"]))

    # ---- export
    master_sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    packed_t, tern_info = bc.export_tensors(master_sd, "offline")
    master_t, _ = bc.export_tensors(master_sd, "online")
    tv = versions["transformers"]
    gen_cfg = {"_from_model_config": False, "bos_token_id": ids["bos"], "eos_token_id": [ids["eos"], ids["eot"]],
               "pad_token_id": ids["eos"], "do_sample": False, "transformers_version": tv}
    meta = {"format": "pt", "producer": "TeLLMe tools/train-demo-model/train.py", "seed": str(a.seed)}
    dirs = {"packed": os.path.join(a.out, "packed"), "master": os.path.join(a.out, "master")}
    for kind, tens, mode in (("packed", packed_t, "offline"), ("master", master_t, "online")):
        if os.path.isdir(dirs[kind]):
            shutil.rmtree(dirs[kind])
        cfg = bc.make_config_json(arch, mode, ids["bos"], ids["eos"], None, tv)
        w = export_checkpoint(dirs[kind], tens, cfg, gen_cfg, tok, a.max_pos, meta)
        log("[export] %s/ (%s) written with the %s writer: %d bytes" % (
            kind, mode, w, bc.dir_size(dirs[kind])))
    packed_bytes = bc.dir_size(dirs["packed"])
    st_bytes = os.path.getsize(os.path.join(dirs["packed"], "model.safetensors"))
    n_bf16 = sum(v.numel() for k, v in packed_t.items() if v.dtype == torch.bfloat16 and not k.endswith("weight_scale"))
    export = {"packed_dir_bytes": packed_bytes, "packed_safetensors_bytes": st_bytes,
              "master_dir_bytes": bc.dir_size(dirs["master"]), "ternary_params": n_tern, "bf16_params": n_bf16,
              "max_size_bytes": a.max_size_bytes, "ternary_stats": tern_info}
    log("[export] packed checkpoint: %d bytes (model.safetensors %d); limit %d" % (packed_bytes, st_bytes, a.max_size_bytes))
    # bf16 masters re-ternarised (what an "online" loader sees) vs the fp32 masters used in training
    flips = 0
    for k, v in master_sd.items():
        if bc.is_bitlinear_weight(k):
            t32 = bc.ternarize(v)[0]
            t16 = bc.ternarize(v.to(torch.bfloat16).float())[0]
            flips += int((t32 != t16).sum())
    export["ternary_flips_bf16_master_vs_fp32_master"] = flips
    log("[export] ternary values that differ when the bf16 master is re-quantised: %d of %d" % (flips, n_tern))

    prompts = a.prompt or DEFAULT_PROMPTS
    S = {
        "recipe_command": a.recipe_command or recipe_command(sys.argv[1:]),
        "seed": a.seed,
        "hyperparameters": {k: v for k, v in vars(a).items() if k not in ("data", "out", "force", "prompt", "recipe_command")},
        "architecture": arch,
        "special_ids": ids,
        "data": {"path": a.data, "chars": len(text), "file_chars": full_chars, "ascii": is_ascii, "split_char": cut,
                 "train_chars": len(train_text), "val_chars": len(val_text), "train_tokens": int(len(train_ids)),
                 "val_tokens": int(len(val_ids)), "vocab_size": V},
        "training": {k: v for k, v in res.items() if k not in ("history", "best")},
        "final": final,
        "export": export,
        "versions": versions,
        "hardware": {"device": str(device), "device_name": dev_name, "platform": platform.platform()},
        "torch_compile": "disabled (eager)" if compile_disabled else "allowed",
        "gen_tokens": a.gen_tokens,
        "plot": plot_path,
    }
    S["training"]["best_step"] = res["best"]["step"]
    S["training"]["best_val_loss_during_training"] = res["best"]["val_loss"]
    S["training"]["n_params"] = n_params

    size_ok = packed_bytes <= a.max_size_bytes
    if not size_ok:
        log("ERROR: packed checkpoint is %d bytes, over the %d limit" % (packed_bytes, a.max_size_bytes))

    # ---- verify
    tv0 = time.time()
    try:
        Vres = verify(a, model, dirs, {"packed": packed_t, "master": master_t}, tok, prompts, val_windows,
                      tok_bytes, device, a.out, final["val_loss_per_token"])
    except Exception as e:
        tb = traceback.format_exc()
        log("[verify] CRASHED:\n%s" % tb)
        Vres = {"ok": False, "errors": ["verify crashed: %r" % (e,)], "traceback": tb, "samples": []}
    Vres["seconds"] = round(time.time() - tv0, 1)
    S["verification"] = Vres

    with open(os.path.join(a.out, "samples.txt"), "w", encoding="utf-8") as f:
        for s in Vres.get("samples", []):
            f.write("=== prompt %r — %s, greedy, %d new tokens\n" % (s["prompt"], s.get("text_source"), a.gen_tokens))
            f.write(s["text"] + "\n")
            if "agree_prefix_hf_vs_training" in s:
                f.write("[identical leading tokens, HF packed fp32 vs training model: %d of %d]\n" % (
                    s["agree_prefix_hf_vs_training"], a.gen_tokens))
            f.write("\n")
    S["total_wall_s"] = round(time.time() - t0, 1)
    bc.write_json(os.path.join(a.out, "summary.json"), S)
    with open(os.path.join(dirs["packed"], "README.md"), "w", encoding="utf-8") as f:
        f.write(model_card(S))
    log("[done] total %.1fs; outputs in %s" % (S["total_wall_s"], a.out))
    if not size_ok:
        return 1
    if not Vres.get("ok"):
        log("VERIFICATION FAILED: %s" % "; ".join(Vres.get("errors", [])[:10]))
        return 2
    if Vres.get("errors") or Vres.get("warnings"):
        log("verification passed; notes: %s" % "; ".join((Vres.get("errors", []) + Vres.get("warnings", []))[:10]))
    log("ALL OK")
    return 0


if __name__ == "__main__":
    bc.run_cli(main, parse_args, lambda a: () if a.bundle_master else ("master",))
