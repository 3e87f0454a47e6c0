#!/usr/bin/env python3
"""CPU unit tests for bitnet_common (and the transformers-free parts of train.py).

    python3 tools/train-demo-model/test_local.py            # any torch >= 1.13; no transformers needed
Tests that need transformers / tokenizers / safetensors are skipped when those are missing; with them installed
they cross-check our packing and fake-quant against transformers' own integration code.
"""

import importlib.util
import os
import sys
import tempfile
import unittest

os.environ.setdefault("TORCH_COMPILE_DISABLE", "1")
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch
import torch.nn as nn
import torch.nn.functional as F

import bitnet_common as bc

HAVE_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
HAVE_SAFETENSORS = importlib.util.find_spec("safetensors") is not None


def rand_ternary(o, i, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-1, 2, (o, i), generator=g).to(torch.int8)


class Packing(unittest.TestCase):
    def test_hf_docstring_example(self):
        # transformers' unpack_weights docstring: 2 packed rows -> 8 rows, block layout along dim 0
        packed = torch.tensor([[0b10100001, 0b00011000], [0b10010000, 0b00001010]], dtype=torch.uint8)
        expect = torch.tensor([[0, -1], [-1, 1], [-1, 1], [-1, 1], [1, 0], [0, -1], [1, -1], [1, -1]], dtype=torch.int8)
        self.assertTrue(torch.equal(bc.unpack_ternary(packed), expect))
        self.assertTrue(torch.equal(bc.pack_ternary(expect), packed))

    def test_elementwise_spec(self):
        t = rand_ternary(12, 5, 1)
        p = bc.pack_ternary(t)
        R = 3
        self.assertEqual(tuple(p.shape), (R, 5))
        for r in range(R):
            for c in range(5):
                v = sum((int(t[i * R + r, c]) + 1) << (2 * i) for i in range(4))
                self.assertEqual(int(p[r, c]), v)

    def test_roundtrip_shapes(self):
        for k, (o, i) in enumerate([(4, 1), (8, 3), (64, 64), (176, 64), (64, 176), (1024, 384)]):
            t = rand_ternary(o, i, 10 + k)
            self.assertTrue(torch.equal(bc.unpack_ternary(bc.pack_ternary(t)), t))

    def test_rejects_bad_input(self):
        with self.assertRaises(ValueError):
            bc.pack_ternary(torch.zeros(6, 2, dtype=torch.int8))
        with self.assertRaises(ValueError):
            bc.pack_ternary(torch.full((4, 2), 2, dtype=torch.int8))
        with self.assertRaises(ValueError):
            bc.unpack_ternary(torch.full((1, 1), 0xFF, dtype=torch.uint8))

    @unittest.skipUnless(HAVE_TRANSFORMERS, "transformers not installed")
    def test_matches_transformers(self):
        from transformers.integrations.bitnet import pack_weights, unpack_weights

        for k, (o, i) in enumerate([(8, 3), (64, 64), (176, 64)]):
            t = rand_ternary(o, i, 20 + k)
            self.assertTrue(torch.equal(pack_weights(t.clone().to(torch.int64)), bc.pack_ternary(t)))
            self.assertTrue(torch.equal(unpack_weights(bc.pack_ternary(t), dtype=torch.float32), t.float()))


class FakeQuant(unittest.TestCase):
    def test_weight_quant_formula(self):
        g = torch.Generator().manual_seed(3)
        w = torch.randn(16, 8, generator=g) * 0.02
        wq, s = bc.weight_quant_fp32(w)
        gamma = w.abs().mean()
        self.assertAlmostEqual(float(s), float(1 / gamma), places=2)
        t = (w * s).round().clamp(-1, 1)
        self.assertTrue(torch.equal(wq, t / s))
        self.assertTrue(set(t.unique().tolist()) <= {-1.0, 0.0, 1.0})
        tt, mult, s2 = bc.ternarize(w)
        self.assertTrue(torch.equal(tt.float() / s2, wq))
        self.assertTrue(torch.allclose(tt.float() * mult, wq, rtol=1e-6, atol=0))

    def test_act_quant(self):
        x = torch.tensor([[0.5, -1.0, 0.25, 0.0], [0.0, 0.0, 0.0, 0.0]])
        q = bc.act_quant_fp32(x)
        s = 127.0
        self.assertTrue(torch.equal(q[0], (x[0] * s).round().clamp(-128, 127) / s))
        self.assertTrue(torch.equal(q[1], torch.zeros(4)))  # clamp(min=1e-5) keeps the zero row finite

    def test_ste_gradients(self):
        lin = bc.FakeQuantLinear(8, 4, bias=False)
        x = torch.randn(3, 8, requires_grad=True)
        y = lin(x)
        y.sum().backward()
        # straight-through: d/dW sum(F.linear(xq, Wq)) = sum over batch of xq ; d/dx = sum over out of Wq
        wq = bc.weight_quant_fp32(lin.weight)[0]
        xq = bc.act_quant_fp32(x.detach())
        self.assertTrue(torch.allclose(lin.weight.grad, xq.sum(0, keepdim=True).expand(4, 8)))
        self.assertTrue(torch.allclose(x.grad, wq.sum(0, keepdim=True).expand(3, 8)))
        self.assertTrue(torch.equal(y.detach(), F.linear(xq, wq)))

    @unittest.skipUnless(HAVE_TRANSFORMERS, "transformers not installed")
    def test_matches_hf_autobitlinear_online(self):
        from transformers.integrations.bitnet import AutoBitLinear

        torch.manual_seed(0)
        hf = AutoBitLinear(32, 16, bias=False, online_quant=True)
        ours = bc.FakeQuantLinear(32, 16, bias=False)
        with torch.no_grad():
            ours.weight.copy_(hf.weight)
        x = torch.randn(5, 7, 32)
        x1 = x.clone().requires_grad_(True)
        x2 = x.clone().requires_grad_(True)
        y1, y2 = hf(x1), ours(x2)
        self.assertTrue(torch.equal(y1, y2))
        y1.square().sum().backward()
        y2.square().sum().backward()
        self.assertTrue(torch.equal(x1.grad, x2.grad))
        self.assertTrue(torch.equal(hf.weight.grad, ours.weight.grad))

    @unittest.skipUnless(HAVE_TRANSFORMERS, "transformers not installed")
    def test_offline_equals_dequant(self):
        from transformers.integrations.bitnet import AutoBitLinear

        torch.manual_seed(1)
        w = torch.randn(16, 32) * 0.05
        t, mult, _ = bc.ternarize(w)
        packed = bc.pack_ternary(t)
        sc = mult.reshape(1).to(torch.bfloat16)
        hf = AutoBitLinear(32, 16, bias=False, online_quant=False, dtype=torch.float32)
        hf.load_state_dict({"weight": packed, "weight_scale": sc})  # HF's load hook unpacks uint8
        self.assertTrue(torch.equal(hf.weight.detach(), t.float()))
        ref = bc.DequantLinear(t, sc)
        x = torch.randn(4, 32)
        self.assertTrue(torch.equal(hf(x), ref(x)))  # same operation order: bit-exact


class SwapAndExport(unittest.TestCase):
    def _toy(self):
        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.q_proj = nn.Linear(8, 8, bias=False)
                self.o_proj = nn.Linear(8, 8, bias=False)

        class Toy(nn.Module):
            def __init__(self):
                super().__init__()
                self.model = nn.Module()
                self.model.embed_tokens = nn.Embedding(12, 8)
                self.model.layers = nn.ModuleList([nn.Module()])
                self.model.layers[0].self_attn = Attn()
                self.model.norm = nn.LayerNorm(8)
                self.lm_head = nn.Linear(8, 12, bias=False)
                self.lm_head.weight = self.model.embed_tokens.weight

        return Toy()

    def test_swap_keeps_names_and_params(self):
        m = self._toy()
        keys = list(m.state_dict().keys())
        w = m.model.layers[0].self_attn.q_proj.weight
        names = bc.swap_linears_for_fakequant(m)
        self.assertEqual(sorted(names), ["model.layers.0.self_attn.o_proj", "model.layers.0.self_attn.q_proj"])
        self.assertIs(m.model.layers[0].self_attn.q_proj.weight, w)
        self.assertIsInstance(m.model.layers[0].self_attn.q_proj, bc.FakeQuantLinear)
        self.assertIs(type(m.lm_head), nn.Linear)
        self.assertEqual(list(m.state_dict().keys()), keys)

    def test_export_offline_online(self):
        g = torch.Generator().manual_seed(5)
        sd = {"model.embed_tokens.weight": torch.randn(12, 8, generator=g),
              "model.layers.0.self_attn.q_proj.weight": torch.randn(8, 8, generator=g) * 0.1,
              "model.layers.0.input_layernorm.weight": torch.ones(8)}
        off, info = bc.export_tensors(sd, "offline")
        self.assertEqual(off["model.layers.0.self_attn.q_proj.weight"].dtype, torch.uint8)
        self.assertEqual(tuple(off["model.layers.0.self_attn.q_proj.weight"].shape), (2, 8))
        sc = off["model.layers.0.self_attn.q_proj.weight_scale"]
        self.assertEqual((sc.dtype, tuple(sc.shape)), (torch.bfloat16, (1,)))
        gamma = sd["model.layers.0.self_attn.q_proj.weight"].abs().mean()
        self.assertAlmostEqual(float(sc), float(gamma), delta=float(gamma) * 2 ** -8)  # multiplicative ~ mean|W|
        self.assertEqual(off["model.embed_tokens.weight"].dtype, torch.bfloat16)
        on, _ = bc.export_tensors(sd, "online")
        self.assertTrue(all(v.dtype == torch.bfloat16 for v in on.values()))
        with self.assertRaises(ValueError):
            bc.export_tensors(dict(sd, **{"lm_head.weight": sd["model.embed_tokens.weight"]}), "offline")
        cfg = bc.make_config_json({"vocab_size": 12, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                                   "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 32,
                                   "rope_theta": 500000.0}, "offline", 0, 1)
        self.assertEqual(cfg["quantization_config"], {"quant_method": "bitnet", "linear_class": "autobitlinear",
                                                      "quantization_mode": "offline"})
        self.assertEqual((cfg["torch_dtype"], cfg["dtype"]), ("bfloat16", "bfloat16"))
        self.assertEqual(cfg["rope_parameters"]["rope_theta"], cfg["rope_theta"])


class SafeTensors(unittest.TestCase):
    def _tensors(self):
        g = torch.Generator().manual_seed(9)
        return {"a.bf16": torch.randn(3, 5, generator=g).to(torch.bfloat16),
                "b.u8": torch.randint(0, 256, (4, 7), generator=g).to(torch.uint8),
                "c.f32": torch.randn(6, generator=g),
                "d.scale": torch.tensor([0.123], dtype=torch.bfloat16)}

    def _check(self, a, b):
        self.assertEqual(sorted(a), sorted(b))
        for k in a:
            self.assertEqual(a[k].dtype, b[k].dtype, k)
            self.assertTrue(torch.equal(a[k], b[k]), k)

    def test_fallback_roundtrip(self):
        t = self._tensors()
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            bc.save_safetensors_fallback(t, p, {"format": "pt"})
            self._check(t, bc.load_safetensors_fallback(p))
            hdr = bc.safetensors_header(p)
            self.assertEqual(hdr["__metadata__"], {"format": "pt"})
            self.assertEqual(hdr["b.u8"]["dtype"], "U8")
            with open(p, "rb") as f:
                n = int.from_bytes(f.read(8), "little")
            self.assertEqual(n % 8, 0)

    @unittest.skipUnless(HAVE_SAFETENSORS, "safetensors not installed")
    def test_fallback_matches_library(self):
        from safetensors.torch import load_file, save_file

        t = self._tensors()
        with tempfile.TemporaryDirectory() as d:
            p1, p2 = os.path.join(d, "ours.safetensors"), os.path.join(d, "lib.safetensors")
            bc.save_safetensors_fallback(t, p1, {"format": "pt"})
            save_file(t, p2, metadata={"format": "pt"})
            self._check(t, load_file(p1))
            self._check(t, bc.load_safetensors_fallback(p2))


class TrainPieces(unittest.TestCase):
    """Parts of train.py that need neither transformers nor tokenizers."""

    @classmethod
    def setUpClass(cls):
        spec = importlib.util.spec_from_file_location("tdm_train", os.path.join(HERE, "train.py"))
        cls.train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cls.train)

    def test_split_keeps_lines(self):
        text = "".join("line %d\n" % i for i in range(1000))
        tr, va, cut = self.train.split_text(text, 0.9)
        self.assertEqual(tr + va, text)
        self.assertTrue(tr.endswith("\n"))
        self.assertLess(abs(cut - 0.9 * len(text)), 20)

    def test_windows_cover_every_target(self):
        import numpy as np

        ids = np.arange(23)
        w = self.train.make_windows(ids, 5)
        targets = np.concatenate([y for _, y in w])
        self.assertTrue((targets == np.arange(1, 23)).all())
        for x, y in w:
            self.assertTrue((y == x + 1).all())

    def test_recipe_command_hides_paths(self):
        r = self.train.recipe_command(["--data", "/x/t.txt", "--out", "/tmp/o", "--seed", "7", "--bundle=/o/b.tgz"])
        self.assertEqual(r, "python3 tools/train-demo-model/train.py --data tinyshakespeare.txt --out OUTDIR "
                            "--seed 7 --bundle OUT.tar.gz")

    def test_schedule(self):
        a = self.train.parse_args(["--data", "x", "--out", "y", "--lr", "1.0", "--warmup", "10", "--min-lr-frac", "0.1"])
        s = self.train.Schedule(a)
        self.assertAlmostEqual(s.lr(0), 0.1)
        self.assertAlmostEqual(s.lr(9), 1.0)
        self.assertAlmostEqual(s.lr(500), 1.0)
        s.start_decay(100, 50, "test")
        self.assertAlmostEqual(s.lr(100), 1.0)
        self.assertAlmostEqual(s.lr(125), 0.55)
        self.assertAlmostEqual(s.lr(150), 0.1)
        self.assertFalse(s.done(149))
        self.assertTrue(s.done(150))


if __name__ == "__main__":
    print("torch %s, transformers %s, safetensors %s" % (torch.__version__, HAVE_TRANSFORMERS, HAVE_SAFETENSORS))
    unittest.main(verbosity=2)
