"""Makes the tiny SD1.5-structured pack the engine's tests run: models/packs/sd15-tiny/.

    /usr/bin/python3 models/sd15-tiny/make_tiny.py [--out models/packs/sd15-tiny]

Randomly initialised (seeded), not trained: it exists to exercise the same code paths as a
real Stable Diffusion 1.5 export (4-channel latents, 77-token CLIP context, CLIP BPE
tokenizer.json, VAE decoder with latent scaling 0.18215, the graph patch finding attn1 layers
by diffusers' names) on a machine and in a CI without torch or network.

diffusers/transformers are not installed here, so the modules are written out below with
diffusers' exact module names and SD1.5's structure at tiny widths:
  UNet2DConditionModel: conv_in, time_proj/time_embedding, down_blocks.0-2 CrossAttnDownBlock2D
  + down_blocks.3 DownBlock2D, mid_block UNetMidBlock2DCrossAttn, up_blocks.0 UpBlock2D +
  up_blocks.1-3 CrossAttnUpBlock2D, layers_per_block 2, Transformer2DModel with
  transformer_blocks.0.{norm1, attn1, norm2, attn2, norm3, ff}, conv_norm_out, conv_out.
  AutoencoderKL decoder: post_quant_conv, decoder.{conv_in, mid_block, up_blocks.0-3, conv_out}.
  CLIPTextModel: text_model.{embeddings, encoder.layers.N, final_layer_norm}.
Exported with torch.onnx (opset 17), input/output names as optimum's SD export:
  text_encoder.onnx  input_ids int64 [B, 77] -> last_hidden_state [B, 77, 32], pooler_output
  unet.onnx          sample [B, 4, H, W], timestep float32 [B], encoder_hidden_states [B, 77, 32] -> out_sample
  vae_decoder.onnx   latent_sample [B, 4, H, W] -> sample [B, 3, 8H, 8W]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17
BLOCKS = (32, 32, 32, 32)       # SD1.5: (320, 640, 1280, 1280); 32 keeps the pack ~5 MB
HEADS = 2                        # SD1.5: attention_head_dim 8 (= heads)
CTX = 32                         # SD1.5: 768 (CLIP ViT-L/14 width)
MAX_LENGTH = 77
LATENT = (16, 24)                # height, width of the default latent (image: 128 x 192)
VAE_BLOCKS = (32, 32, 32, 32)    # SD1.5: (128, 256, 512, 512)
LATENT_SCALE = 0.18215


# ------------------------------------------------------------------ UNet (diffusers names)

def timestep_embedding(t, dim):
    """diffusers get_timestep_embedding, flip_sin_to_cos=True, downscale_freq_shift=0 (SD1.5)."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32) / half
    emb = t.float()[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    return torch.cat([emb[:, half:], emb[:, :half]], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1, self.linear_2 = nn.Linear(cin, dim), nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb=None, eps=1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout) if temb else None
        self.norm2 = nn.GroupNorm(32, cout, eps=eps)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Attention(nn.Module):
    """diffusers Attention with AttnProcessor2_0's reshapes (token axis -1), math written out."""

    def __init__(self, dim, heads, kv_dim=None, bias=False, group_norm=False):
        super().__init__()
        self.heads = heads
        self.group_norm = nn.GroupNorm(32, dim, eps=1e-6) if group_norm else None
        self.to_q = nn.Linear(dim, dim, bias=bias)
        self.to_k = nn.Linear(kv_dim or dim, dim, bias=bias)
        self.to_v = nn.Linear(kv_dim or dim, dim, bias=bias)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def forward(self, x, context=None):
        b, _, c = x.shape
        ctx = x if context is None else context
        d = c // self.heads
        q = self.to_q(x).view(b, -1, self.heads, d).transpose(1, 2)
        k = self.to_k(ctx).view(b, -1, self.heads, d).transpose(1, 2)
        v = self.to_v(ctx).view(b, -1, self.heads, d).transpose(1, 2)
        w = torch.matmul(q, k.transpose(-1, -2)) * (d ** -0.5)
        out = torch.matmul(w.softmax(dim=-1), v).transpose(1, 2).reshape(b, -1, c)
        return self.to_out[1](self.to_out[0](out))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, gate = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads=HEADS, ctx=CTX):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, heads, kv_dim=ctx)
        self.norm3, self.ff = nn.LayerNorm(dim), FeedForward(dim)

    def forward(self, x, ctx):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), ctx) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    """SD1.5 flavour by default: one transformer block, conv proj_in/proj_out. SDXL's
    (models/sdxl-tiny) sets depth (transformer_layers_per_block) and linear=True
    (use_linear_projection: Linear projections on the token sequence)."""

    def __init__(self, dim, heads=HEADS, ctx=CTX, depth=1, linear=False):
        super().__init__()
        self.linear = linear
        self.norm = nn.GroupNorm(32, dim, eps=1e-6)
        self.proj_in = nn.Linear(dim, dim) if linear else nn.Conv2d(dim, dim, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(dim, heads, ctx) for _ in range(depth)])
        self.proj_out = nn.Linear(dim, dim) if linear else nn.Conv2d(dim, dim, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        res = x
        if self.linear:
            x = self.proj_in(self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c))
        else:
            x = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        for blk in self.transformer_blocks:
            x = blk(x, ctx)
        if self.linear:
            return self.proj_out(x).reshape(b, h, w, c).permute(0, 3, 1, 2) + res
        x = x.reshape(b, h, w, c).permute(0, 3, 1, 2)
        return self.proj_out(x) + res


class Downsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D (attn=True) or DownBlock2D; `tf`: Transformer2DModel options."""

    def __init__(self, cin, cout, temb, attn, down, layers=2, **tf):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, temb) for i in range(layers)])
        self.attentions = nn.ModuleList([Transformer2DModel(cout, **tf) for _ in range(layers)]) if attn else None
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if down else None

    def forward(self, x, temb, ctx):
        out = []
        for i, r in enumerate(self.resnets):
            x = r(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, ctx)
            out.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            out.append(x)
        return x, out


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D (attn=True) or UpBlock2D: layers_per_block + 1 resnets fed with skips."""

    def __init__(self, cin, prev, cout, temb, attn, up, layers=3, **tf):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D((prev if i == 0 else cout) + (cin if i == layers - 1 else cout), cout, temb) for i in range(layers)])
        self.attentions = nn.ModuleList([Transformer2DModel(cout, **tf) for _ in range(layers)]) if attn else None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if up else None

    def forward(self, x, skips, temb, ctx):
        for i, r in enumerate(self.resnets):
            x = r(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x, ctx)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, ch, temb, **tf):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb), ResnetBlock2D(ch, ch, temb)])
        self.attentions = nn.ModuleList([Transformer2DModel(ch, **tf)])

    def forward(self, x, temb, ctx):
        return self.resnets[1](self.attentions[0](self.resnets[0](x, temb), ctx), temb)


class UNet2DConditionModel(nn.Module):
    def __init__(self):
        super().__init__()
        ch, temb = BLOCKS, BLOCKS[0] * 4
        self.conv_in = nn.Conv2d(4, ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        for i, c in enumerate(ch):
            last = i == len(ch) - 1
            self.down_blocks.append(DownBlock(ch[i - 1] if i else ch[0], c, temb, attn=not last, down=not last))
        self.mid_block = UNetMidBlock2DCrossAttn(ch[-1], temb)
        rev = list(reversed(ch))
        self.up_blocks = nn.ModuleList()
        prev = rev[0]
        for i, c in enumerate(rev):
            last = i == len(rev) - 1
            self.up_blocks.append(UpBlock(rev[min(i + 1, len(rev) - 1)], prev, c, temb, attn=i > 0, up=not last))
            prev = c
        self.conv_norm_out = nn.GroupNorm(32, ch[0])
        self.conv_out = nn.Conv2d(ch[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        temb = self.time_embedding(timestep_embedding(timestep, BLOCKS[0]))
        x = self.conv_in(sample)
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for blk in self.up_blocks:
            x = blk(x, skips, temb, encoder_hidden_states)
        return self.conv_out(F.silu(self.conv_norm_out(x)))

    def self_attention(self):
        """(diffusers name, channels) of every attn1, in module order."""
        return [(n[: -len(".to_q")], m.in_features) for n, m in self.named_modules() if n.endswith("attn1.to_q")]


# ------------------------------------------------------------------ VAE decoder

class VaeMidBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, eps=1e-6), ResnetBlock2D(ch, ch, eps=1e-6)])
        self.attentions = nn.ModuleList([Attention(ch, 1, bias=True, group_norm=True)])

    def forward(self, x):
        x = self.resnets[0](x)
        b, c, h, w = x.shape
        a = self.attentions[0]
        t = a.group_norm(x).view(b, c, h * w).transpose(1, 2)
        x = a(t).transpose(1, 2).reshape(b, c, h, w) + x
        return self.resnets[1](x)


class UpDecoderBlock2D(nn.Module):
    def __init__(self, cin, cout, up, layers=2):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, eps=1e-6) for i in range(layers)])
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if up else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return x if self.upsamplers is None else self.upsamplers[0](x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        rev = list(reversed(VAE_BLOCKS))
        self.conv_in = nn.Conv2d(4, rev[0], 3, padding=1)
        self.mid_block = VaeMidBlock(rev[0])
        self.up_blocks = nn.ModuleList([UpDecoderBlock2D(rev[max(i - 1, 0)], c, up=i < len(rev) - 1) for i, c in enumerate(rev)])
        self.conv_norm_out = nn.GroupNorm(32, rev[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(rev[-1], 3, 3, padding=1)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for blk in self.up_blocks:
            x = blk(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class VaeDecode(nn.Module):
    """AutoencoderKL.decode: post_quant_conv then the decoder (optimum's vae_decoder graph)."""

    def __init__(self):
        super().__init__()
        self.post_quant_conv = nn.Conv2d(4, 4, 1)
        self.decoder = Decoder()

    def forward(self, latent_sample):
        return self.decoder(self.post_quant_conv(latent_sample))


# ------------------------------------------------------------------ CLIP text encoder

class CLIPAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_proj, self.out_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x, mask):
        b, n, c = x.shape
        d = c // self.heads
        q, k, v = (p(x).view(b, n, self.heads, d).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        w = torch.matmul(q, k.transpose(-1, -2)) * d ** -0.5 + mask
        return self.out_proj(torch.matmul(w.softmax(-1), v).transpose(1, 2).reshape(b, n, c))


class CLIPMLP(nn.Module):
    def __init__(self, dim, act="quick_gelu"):
        super().__init__()
        self.act = act  # CLIP ViT-L: quick_gelu; OpenCLIP bigG (SDXL's second encoder): gelu
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(F.gelu(h) if self.act == "gelu" else h * torch.sigmoid(1.702 * h))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, dim, heads, act="quick_gelu"):
        super().__init__()
        self.self_attn, self.layer_norm1 = CLIPAttention(dim, heads), nn.LayerNorm(dim)
        self.mlp, self.layer_norm2 = CLIPMLP(dim, act), nn.LayerNorm(dim)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class CLIPTextTransformer(nn.Module):
    def __init__(self, vocab, dim=CTX, layers=2, heads=2, act="quick_gelu"):
        super().__init__()
        self.embeddings = nn.Module()
        self.embeddings.token_embedding = nn.Embedding(vocab, dim)
        self.embeddings.position_embedding = nn.Embedding(MAX_LENGTH, dim)
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList([CLIPEncoderLayer(dim, heads, act) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(dim)

    def encode(self, input_ids):
        """(last_hidden_state, pooled, hidden_states) as transformers' CLIPTextTransformer with
        output_hidden_states: hidden_states[0] is the embedding output, hidden_states[i] the
        output of layer i (before the final norm); SDXL conditions on hidden_states[-2]."""
        n = input_ids.shape[1]
        x = self.embeddings.token_embedding(input_ids) + self.embeddings.position_embedding.weight[:n]
        mask = torch.full((n, n), float("-inf")).triu(1)[None, None]  # causal, as CLIP
        hidden = [x]
        for layer in self.encoder.layers:
            x = layer(x, mask)
            hidden.append(x)
        x = self.final_layer_norm(x)
        pooled = x[torch.arange(x.shape[0]), input_ids.argmax(dim=-1)]  # eos has the highest id
        return x, pooled, hidden

    def forward(self, input_ids):
        x, pooled, _ = self.encode(input_ids)
        return x, pooled


class CLIPTextModel(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.text_model = CLIPTextTransformer(vocab)

    def forward(self, input_ids):
        return self.text_model(input_ids)


# ------------------------------------------------------------------ CLIP-format BPE tokenizer

def bytes_to_unicode():
    """GPT-2/CLIP byte -> printable unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


CORPUS = """a photo of a person with red hair walking in the city at night, a girl with a blue hat
reading a book in the forest, a boy and his dog on the beach, the same woman smiling in a cafe,
a man in a green coat riding a bicycle, comic panel, storyboard, sketch, watercolor, portrait
of an old sailor with a white beard, the knight stands in the castle hall, rain, snow, sunset"""


def train_merges(words, count):
    """Plain BPE training on the corpus' words (chars, last one with </w>), ties broken by order."""
    vocab = Counter(tuple(w[:-1]) + (w[-1] + "</w>",) for w in words)
    merges = []
    for _ in range(count):
        pairs = Counter()
        for word, freq in vocab.items():
            for p in zip(word, word[1:]):
                pairs[p] += freq
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        merged = {}
        for word, freq in vocab.items():
            out, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + freq
        vocab = merged
    return merges


def tokenizer_json(merges):
    byte_chars = list(bytes_to_unicode().values())
    vocab_list = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(m) for m in merges]
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(vocab_list)}
    bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    special = dict(single_word=False, lstrip=False, rstrip=False, normalized=True, special=True)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": bos, "content": "<|startoftext|>", **special},
                         {"id": eos, "content": "<|endoftext|>", **special}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
             "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", eos], "cls": ["<|startoftext|>", bos],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>", "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [" ".join(m) for m in merges]},
    }


def reference_encode(text, tok, pad="<|endoftext|>"):
    """CLIP's own algorithm (openai/CLIP simple_tokenizer): clean, lowercase, split, byte-map,
    merge the lowest-ranked pair until none applies; <|startoftext|> ... <|endoftext|>,
    truncated to 77 and padded with `pad` (SD1.5: <|endoftext|>; SDXL's tokenizer_2: "!"). ASCII prompts only
    (Python's re has no \\p{L})."""
    vocab, merges = tok["model"]["vocab"], tok["model"]["merges"]
    ranks = {tuple(m.split(" ")): i for i, m in enumerate(merges)}
    b2u = bytes_to_unicode()
    text = re.sub(r"\s+", " ", text).strip().lower()
    ids = []
    for word in re.findall(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+", text):
        w = "".join(b2u[b] for b in word.encode("utf-8"))
        parts = list(w[:-1]) + [w[-1] + "</w>"]
        while len(parts) > 1:
            pair = min(zip(parts, parts[1:]), key=lambda p: ranks.get(p, float("inf")))
            if pair not in ranks:
                break
            out, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == pair:
                    out.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        ids.extend(vocab[p] for p in parts)
    bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    ids = [bos] + ids[: MAX_LENGTH - 2] + [eos]
    return ids + [vocab[pad]] * (MAX_LENGTH - len(ids))


PROMPTS = ["a photo of a person with red hair walking in the city at night",
           "A  Girl with a BLUE hat, reading a book!", "zebra xylophone 42 quokka", "",
           "the knight's castle " * 30]


# ------------------------------------------------------------------ export

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def layer_tokens(name):
    """Tokens of an attn1 layer at the default latent size: each level halves the grid."""
    h, w = LATENT
    if name.startswith("mid_block"):
        level = len(BLOCKS) - 1
    elif name.startswith("down_blocks"):
        level = int(name.split(".")[1])
    else:
        level = len(BLOCKS) - 1 - int(name.split(".")[1])
    return (h >> level) * (w >> level)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "packs", "sd15-tiny"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(1515)

    words = re.findall(r"[a-z]+", CORPUS.lower())
    tok = tokenizer_json(train_merges(words, 120))
    vocab_size = len(tok["model"]["vocab"])
    text, unet, vae = CLIPTextModel(vocab_size).eval(), UNet2DConditionModel().eval(), VaeDecode().eval()

    files = {"text_encoder": "text_encoder.onnx", "unet": "unet.onnx", "vae_decoder": "vae_decoder.onnx",
             "tokenizer": "tokenizer.json"}
    p = lambda k: os.path.join(args.out, files[k])  # noqa: E731
    h, w = LATENT
    with torch.no_grad():
        torch.onnx.export(text, (torch.zeros(1, MAX_LENGTH, dtype=torch.long),), p("text_encoder"), opset_version=OPSET,
                          input_names=["input_ids"], output_names=["last_hidden_state", "pooler_output"],
                          dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})
        torch.onnx.export(unet, (torch.randn(2, 4, h, w), torch.tensor([999.0, 500.0]), torch.randn(2, MAX_LENGTH, CTX)),
                          p("unet"), opset_version=OPSET,
                          input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"],
                          dynamic_axes={"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                                        "encoder_hidden_states": {0: "batch"},
                                        "out_sample": {0: "batch", 2: "height", 3: "width"}})
        torch.onnx.export(vae, (torch.randn(1, 4, h, w),), p("vae_decoder"), opset_version=OPSET,
                          input_names=["latent_sample"], output_names=["sample"],
                          dynamic_axes={"latent_sample": {0: "batch", 2: "height", 3: "width"},
                                        "sample": {0: "batch", 2: "height", 3: "width"}})
    with open(p("tokenizer"), "w") as f:
        json.dump(tok, f, indent=1, ensure_ascii=False)

    attn = unet.self_attention()
    csa_layers = [n for n, _ in attn if n.startswith("up_blocks.")]
    manifest = {
        "format": "storyforge-pack/1",
        "name": "sd15-tiny",
        "description": "Tiny randomly initialised model with Stable Diffusion 1.5's structure and names, for tests (models/sd15-tiny/make_tiny.py). Makes noise, not pictures.",
        "family": "sd15",
        "files": files,
        "space": "latent",
        "sample": {"channels": 4, "height": h, "width": w},
        "scale_factor": 8,
        "latent_scale": LATENT_SCALE,
        "upscale": {"factor": 1, "kernel": "nearest"},
        "text": {"max_length": MAX_LENGTH, "hidden_size": CTX, "tokenizer": "clip-bpe", "pad_token": "<|endoftext|>"},
        "scheduler": {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
                      "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "timestep_spacing": "leading",
                      "steps_offset": 1, "set_alpha_to_one": False, "clip_sample": False},
        "defaults": {"scheduler": "dpmpp_2m", "steps": 20, "guidance": 7.5, "negative_prompt": ""},
        "self_attention": [{"name": n, "tokens": layer_tokens(n), "channels": c, "heads": HEADS,
                            "csa": n.startswith("up_blocks.")} for n, c in attn],
        "csa": {"layers": csa_layers, "default_rate": 0.5,
                "apply_probability": {"first_step": 0.0, "before_step_20": 0.7, "after": 0.9}},
        "sha256": {files[k]: sha256(p(k)) for k in ("text_encoder", "unet", "vae_decoder", "tokenizer")},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    # Reference tokenization for tests/engine/tokenizer.test.ts.
    fixture = {"prompts": PROMPTS, "ids": [reference_encode(t, tok) for t in PROMPTS]}
    fx = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "engine", "clip_tokens.json")
    with open(fx, "w") as f:
        json.dump(fixture, f)
    print(json.dumps({k: os.path.getsize(p(k)) for k in files}),
          "params", {n: sum(x.numel() for x in m.parameters()) for n, m in (("text", text), ("unet", unet), ("vae", vae))})


if __name__ == "__main__":
    main()
