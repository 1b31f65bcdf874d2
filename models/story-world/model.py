"""Text encoder and UNet of the story-world model.

Module names follow diffusers (`down_blocks.N.attentions.M.transformer_blocks.K.attn1.to_q`,
`attn2` for cross-attention, `mid_block`, `up_blocks`) so that the ONNX export carries the same
scope names as a real Stable Diffusion export and the engine's CSA graph patch finds the same
layers in both.

Consistent Self-Attention is a property of the `attn1` layers at run time, not of the weights:
`Attention` asks the UNet's current `csa` controller (None for plain attention) what extra
tokens to prepend to its keys and values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

import schedule


@dataclass
class UNetConfig:
    sample_size: int = 32
    in_channels: int = 3
    out_channels: int = 3
    patch: int = 2                       # conv_in downsamples by this; conv_out shuffles back
    block_channels: tuple = (32, 96, 128)  # per level of the token grid (each halves it)
    block_attention: tuple = (False, True, True)
    head_dim: int = 32
    cross_attention_dim: int = 128
    time_embed_dim: int = 256


@dataclass
class TextConfig:
    vocab_size: int = 64
    max_length: int = 24
    width: int = 128
    layers: int = 2
    heads: int = 4


# ---------------------------------------------------------------- text encoder

class TextEncoderLayer(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.layer_norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        h = self.layer_norm1(x)
        x = x + self.self_attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.layer_norm2(x))


class TextEncoder(nn.Module):
    """input_ids [B, L] (int64) -> last_hidden_state [B, L, width], like CLIPTextModel."""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
        self.position_embedding = nn.Parameter(torch.zeros(cfg.max_length, cfg.width))
        nn.init.normal_(self.position_embedding, std=0.02)
        self.layers = nn.ModuleList(TextEncoderLayer(cfg.width, cfg.heads) for _ in range(cfg.layers))
        self.final_layer_norm = nn.LayerNorm(cfg.width)

    def forward(self, input_ids):
        x = self.token_embedding(input_ids) + self.position_embedding[: input_ids.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.final_layer_norm(x)


# ---------------------------------------------------------------- UNet parts

def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding, cos first (diffusers' flip_sin_to_cos=True, shift 0)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


def _groups(ch):
    return 32 if ch % 32 == 0 else 8


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(_groups(cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Attention(nn.Module):
    """diffusers-style attention. For self-attention (attn1) the CSA controller may add
    extra key/value tokens; `name` is the layer's diffusers path, used as the bank key."""

    def __init__(self, dim, heads, context_dim=None, name=""):
        super().__init__()
        self.heads = heads
        self.name = name
        self.is_self = context_dim is None
        kv_dim = dim if context_dim is None else context_dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(kv_dim, dim, bias=False)
        self.to_v = nn.Linear(kv_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])
        self.csa = None  # set by the UNet for attn1 layers that take part

    def _split(self, x):
        # -1 for the token count: the export must not freeze it, because the engine's CSA
        # patch prepends extra tokens to the keys and values.
        b, _, c = x.shape
        return x.reshape(b, -1, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, x, context=None):
        b, n, c = x.shape
        q = self._split(self.to_q(x))
        if self.is_self and self.csa is not None:
            out = self.csa.attend(self, x, q)
        else:
            ctx = x if context is None else context
            k = self._split(self.to_k(ctx))
            v = self._split(self.to_v(ctx))
            out = attention(q, k, v)
        out = out.transpose(1, 2).reshape(b, n, c)
        return self.to_out[1](self.to_out[0](out))


def attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d) + mask) v, written out so the ONNX export stays opset 17."""
    scores = torch.matmul(q, k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores + mask
    return torch.matmul(scores.softmax(dim=-1), v)


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
    def __init__(self, dim, heads, context_dim, name, ff_mult=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads, name=f"{name}.attn1")
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim, name=f"{name}.attn2")
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, ff_mult)

    def forward(self, x, context):
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class Transformer2DModel(nn.Module):
    def __init__(self, ch, heads, context_dim, name):
        super().__init__()
        self.norm = nn.GroupNorm(_groups(ch), ch, eps=1e-6)
        self.proj_in = nn.Linear(ch, ch)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(ch, heads, context_dim, f"{name}.transformer_blocks.0")])
        self.proj_out = nn.Linear(ch, ch)

    def forward(self, x, context):
        b, c, h, w = x.shape
        res = x
        x = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        x = self.proj_in(x)
        for blk in self.transformer_blocks:
            x = blk(x, context)
        x = self.proj_out(x).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return x + res


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
    """One resolution level of the encoder: resnets (+ transformers), then a downsampler.
    Called CrossAttnDownBlock2D in diffusers when it has attentions, DownBlock2D otherwise."""

    def __init__(self, cin, cout, temb, heads, ctx, name, attn, down, layers=1):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock2D(cin if i == 0 else cout, cout, temb) for i in range(layers)])
        self.attentions = nn.ModuleList(
            [Transformer2DModel(cout, heads, ctx, f"{name}.attentions.{i}") for i in range(layers)]
        ) if attn else None
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if down else None

    def forward(self, x, temb, ctx):
        skips = []
        for i, r in enumerate(self.resnets):
            x = r(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, ctx)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    """One resolution level of the decoder: resnets fed with the encoder's skips
    (+ transformers), then an upsampler."""

    def __init__(self, cin, skip_chs, cout, temb, heads, ctx, name, attn, up):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock2D((cin if i == 0 else cout) + sc, cout, temb) for i, sc in enumerate(skip_chs)])
        self.attentions = nn.ModuleList(
            [Transformer2DModel(cout, heads, ctx, f"{name}.attentions.{i}") for i in range(len(skip_chs))]
        ) if attn else None
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
    def __init__(self, ch, temb, heads, ctx):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb), ResnetBlock2D(ch, ch, temb)])
        self.attentions = nn.ModuleList([Transformer2DModel(ch, heads, ctx, "mid_block.attentions.0")])

    def forward(self, x, temb, ctx):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, ctx)
        return self.resnets[1](x, temb)


class UNet2DConditionModel(nn.Module):
    """sample [B,3,H,W], timestep [B], encoder_hidden_states [B,L,C] -> noise [B,3,H,W]
    (epsilon; internally parametrised through v, see forward).

    conv_in cuts the picture into patch x patch cells (the token grid attention sees) and
    conv_out shuffles channels back to pixels. Each level halves the grid; levels with
    `attn` carry a transformer (self-attention attn1 + cross-attention attn2) per resnet.
    """

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        chs, attns, p = cfg.block_channels, cfg.block_attention, cfg.patch
        t, ctx = cfg.time_embed_dim, cfg.cross_attention_dim
        self.conv_in = nn.Conv2d(cfg.in_channels, chs[0], kernel_size=2 * p, stride=p, padding=p // 2)
        self.time_embedding = TimestepEmbedding(chs[0], t)
        n = len(chs)
        skip_chs = [chs[0]]
        self.down_blocks = nn.ModuleList()
        for i in range(n):
            cin = chs[i - 1] if i else chs[0]
            last = i == n - 1
            self.down_blocks.append(DownBlock(cin, chs[i], t, chs[i] // cfg.head_dim, ctx,
                                              f"down_blocks.{i}", attns[i], down=not last))
            skip_chs.append(chs[i])
            if not last:
                skip_chs.append(chs[i])
        self.mid_block = UNetMidBlock2DCrossAttn(chs[-1], t, chs[-1] // cfg.head_dim, ctx)
        self.up_blocks = nn.ModuleList()
        cin = chs[-1]
        for j, i in enumerate(reversed(range(n))):
            mine = [skip_chs.pop() for _ in range(2)]
            self.up_blocks.append(UpBlock(cin, mine, chs[i], t, chs[i] // cfg.head_dim, ctx,
                                          f"up_blocks.{j}", attns[i], up=i > 0))
            cin = chs[i]
        assert not skip_chs
        self.conv_norm_out = nn.GroupNorm(_groups(chs[0]), chs[0])
        self.conv_out = nn.Conv2d(chs[0], cfg.out_channels * p * p, 3, padding=1)
        self.register_buffer("alphas_cumprod", schedule.alphas_cumprod().float(), persistent=False)

    def self_attention_layers(self) -> dict[str, Attention]:
        return {m.name: m for m in self.modules() if isinstance(m, Attention) and m.is_self}

    def forward(self, sample, timestep, encoder_hidden_states):
        v = self.predict_v(sample, timestep, encoder_hidden_states)
        # The network predicts v = sqrt(a) eps - sqrt(1 - a) x0 (trained on v: well conditioned
        # at every noise level) and the UNet returns epsilon = sqrt(1 - a) x_t + sqrt(a) v, the
        # interface of an epsilon-prediction model.
        a = self._alpha_bar(timestep)[:, None, None, None]
        return (1 - a).sqrt() * sample + a.sqrt() * v

    def predict_v(self, sample, timestep, encoder_hidden_states):
        temb = self.time_embedding(timestep_embedding(timestep, self.cfg.block_channels[0]))
        x = self.conv_in(sample)
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for blk in self.up_blocks:
            x = blk(x, skips, temb, encoder_hidden_states)
        return F.pixel_shuffle(self.conv_out(F.silu(self.conv_norm_out(x))), self.cfg.patch)

    def _alpha_bar(self, timestep):
        # Linear interpolation, so fractional timesteps (Euler's) work too.
        t = timestep.float().clamp(0, self.alphas_cumprod.shape[0] - 1)
        lo = t.floor()
        w = t - lo
        lo = lo.long()
        hi = (lo + 1).clamp(max=self.alphas_cumprod.shape[0] - 1)
        return self.alphas_cumprod[lo] * (1 - w) + self.alphas_cumprod[hi] * w


def build(vocab_size: int, ucfg: UNetConfig | None = None, tcfg: TextConfig | None = None):
    ucfg = ucfg or UNetConfig()
    tcfg = tcfg or TextConfig(vocab_size=vocab_size)
    return TextEncoder(tcfg), UNet2DConditionModel(ucfg)
