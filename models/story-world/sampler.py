"""Reference sampler: DDIM with classifier-free guidance and Consistent Self-Attention.

This is the correctness reference for the TypeScript engine, not the product. Every random
choice comes from sfrng (the same generator the engine uses) or is passed in, so a run is
recorded completely by its inputs: prompts, seeds, settings.

CSA, as StoryDiffusion runs it (see shared/docs/consistent-self-attention.md):
- write (identity phase): the identity frames are denoised together; in a CSA layer each
  frame's keys/values are [sampled tokens of the *other* identity frames; its own tokens];
  the sampled tokens of every identity frame are stored per step and layer: the bank.
- read: any other frame uses [bank tokens of its characters; its own tokens].
- step 0 is plain attention; later, each CSA layer call applies CSA with probability
  0.7 before step 20 and 0.9 after (a seeded coin), so layouts are not copied.
- the unconditional and conditional halves of a CFG batch only share within their half.

Reference banks (the product's default): a bank written from finished pictures. At every
step s of the sampler (timestep t_s) each reference image is noised with seeded noise to
fraction * t_s and run through the UNet with plain attention, its sampled tokens kept: the
same (step, layer) -> tokens map that the identity phase writes, read the same way. The
identity frames, once rendered, are the references of every later frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

import model as M
import schedule
import world
from sfrng import Rng

SIZE = world.SIZE
# No x0 clipping: the v-parametrised UNet keeps x0 bounded at high noise by itself, and
# clipping while stepping with the unclipped epsilon drifts under strong guidance (night
# turned to snow at guidance 3). The manifest says clip_sample: false.
CLIP_SAMPLE = False


def load(ckpt_path: str):
    ck = torch.load(ckpt_path, map_location="cpu")
    ucfg = M.UNetConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in ck["unet_config"].items()})
    tcfg = M.TextConfig(**ck["text_config"])
    text, unet = M.TextEncoder(tcfg), M.UNet2DConditionModel(ucfg)
    text.load_state_dict(ck["ema_text"])
    unet.load_state_dict(ck["ema_unet"])
    return text.eval(), unet.eval()


def ddim_timesteps(steps: int) -> list[int]:
    """'trailing' spacing: starts at the last train timestep, where the noise is pure."""
    T = schedule.TRAIN_TIMESTEPS
    return [int(round(T - i * T / steps)) - 1 for i in range(steps)]


def tokens_at(rate: float, n: int) -> int:
    """How many of a frame's n tokens a rate samples (half rounds up, as in the engine)."""
    return int(math.floor(rate * n + 0.5))


# StoryDiffusion's schedule: (step 0, steps 1-19, steps 20+). The pack's manifest may set another.
STORY_DIFFUSION_APPLY = (0.0, 0.7, 0.9)


def apply_probability(step: int, schedule: tuple = STORY_DIFFUSION_APPLY) -> float:
    return schedule[0] if step == 0 else (schedule[1] if step < 20 else schedule[2])


@dataclass
class CSAPlan:
    """Every random choice of one CSA run: per step, per token count, the sampled token
    indices of each identity frame; per step, per CSA layer, whether CSA applies."""
    indices: list[dict[int, list[list[int]]]] = field(default_factory=list)
    apply: list[dict[str, bool]] = field(default_factory=list)

    @staticmethod
    def make(seed: int, steps: int, layers: list[str], layer_tokens: dict[str, int],
             rates: dict[int, float], n_identity: int,
             apply: tuple = STORY_DIFFUSION_APPLY) -> "CSAPlan":
        rng = Rng(seed)
        plan = CSAPlan()
        counts = sorted(set(layer_tokens.values()))
        for s in range(steps):
            plan.indices.append({n: [rng.sample_indices(n, tokens_at(rates[n], n))
                                     for _ in range(n_identity)] for n in counts})
            p = apply_probability(s, apply)
            plan.apply.append({name: rng.next_float() < p for name in layers})
        return plan


class StoryCSA:
    """CSA controller for the PyTorch UNet (see model.Attention)."""

    def __init__(self, mode: str, plan: CSAPlan, bank: dict | None = None):
        """write: identity phase (frames share, tokens kept); read: frames read `bank`;
        store: tokens kept, attention plain (a reference bank's writing pass)."""
        assert mode in ("write", "read", "store")
        self.mode, self.plan = mode, plan
        self.bank = {} if bank is None else bank   # (step, layer) -> [2, M, C]
        self.step = 0

    def attend(self, attn, x, q):
        halves = x.shape[0] // 2
        n = x.shape[1]
        key = (self.step, attn.name)
        if self.mode in ("write", "store"):
            idx = self.plan.indices[self.step][n]
            xs = x.view(2, halves, n, -1)
            sampled = [xs[:, j, idx[j]] for j in range(halves)]      # each [2, m, C]
            self.bank[key] = torch.cat(sampled, dim=1)
        if self.mode == "store" or not self.plan.apply[self.step][attn.name]:
            return M.attention(q, attn._split(attn.to_k(x)), attn._split(attn.to_v(x)))
        outs = []
        for h in range(2):
            for i in range(halves):
                own = x[h * halves + i]
                if self.mode == "write":
                    extra = [sampled[j][h] for j in range(halves) if j != i]
                else:
                    extra = [self.bank[key][h]]
                kv = torch.cat(extra + [own], dim=0)[None]
                outs.append(M.attention(q[h * halves + i:h * halves + i + 1],
                                        attn._split(attn.to_k(kv)), attn._split(attn.to_v(kv))))
        return torch.cat(outs, dim=0)


def initial_noise(seed: int) -> np.ndarray:
    return Rng(seed).normal(3 * SIZE * SIZE).reshape(3, SIZE, SIZE)


@torch.no_grad()
def encode(text: M.TextEncoder, prompts: list[str]) -> torch.Tensor:
    vocab = world.vocabulary()
    ids = torch.tensor([world.tokenize(p, vocab) for p in prompts], dtype=torch.long)
    return text(ids)


@torch.no_grad()
def sample(text, unet, prompts: list[str], seeds: list[int], steps: int = 25,
           guidance: float = 5.0, csa: StoryCSA | None = None, csa_layers: list[str] = (),
           noise: np.ndarray | None = None) -> torch.Tensor:
    """Denoises len(prompts) frames in one batch -> images [F,3,32,32] in [-1,1]."""
    F_ = len(prompts)
    cond = encode(text, prompts)
    uncond = encode(text, [""] * F_)
    ctx = torch.cat([uncond, cond])
    x = torch.from_numpy(np.stack([initial_noise(s) for s in seeds]) if noise is None else noise)
    acp = schedule.alphas_cumprod()
    layers = unet.self_attention_layers()
    for name in csa_layers:
        layers[name].csa = csa
    try:
        ts = ddim_timesteps(steps)
        for s, t in enumerate(ts):
            if csa is not None:
                csa.step = s
            inp = torch.cat([x, x])
            tt = torch.full((2 * F_,), float(t))
            eps_u, eps_c = unet(inp, tt, ctx).chunk(2)
            eps = eps_u + guidance * (eps_c - eps_u)
            a_t = acp[t].item()
            # diffusers' DDIM: the previous timestep is t - T // steps (alpha 1 below 0).
            prev = t - schedule.TRAIN_TIMESTEPS // steps
            a_prev = acp[prev].item() if prev >= 0 else 1.0
            x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
            if CLIP_SAMPLE:
                # diffusers' clip_sample: the predicted clean picture stays in [-1, 1]; the
                # noise direction keeps the model's own epsilon (use_clipped_model_output off).
                x0 = x0.clamp(-1.0, 1.0)
            x = (a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps).float()
    finally:
        for name in csa_layers:
            layers[name].csa = None
    return x.clamp(-1, 1)


def alpha_bar(t: float) -> float:
    """alphas_cumprod at a fractional timestep, interpolated as the UNet does."""
    acp = schedule.alphas_cumprod()
    lo = min(int(math.floor(t)), acp.shape[0] - 1)
    hi = min(lo + 1, acp.shape[0] - 1)
    w = t - math.floor(t)
    return float(acp[lo]) * (1 - w) + float(acp[hi]) * w


@torch.no_grad()
def reference_bank(text, unet, images: torch.Tensor, prompts: list[str], steps: int, plan: CSAPlan,
                   noise_seed: int, fraction: float, csa_layers: list[str]) -> dict:
    """Bank from finished pictures (images [R,3,H,W] in [-1,1], one prompt each): at step s each
    image is noised to fraction * t_s with noise drawn from sfrng(noise_seed) (R pictures' worth
    per step, in order) and run through the UNet in store mode (both guidance halves)."""
    R = images.shape[0]
    ctx = torch.cat([encode(text, [""] * R), encode(text, prompts)])
    rng = Rng(noise_seed)
    store = StoryCSA("store", plan)
    layers = unet.self_attention_layers()
    for name in csa_layers:
        layers[name].csa = store
    try:
        for s, t in enumerate(ddim_timesteps(steps)):
            store.step = s
            tr = fraction * t
            a = alpha_bar(tr)
            noise = torch.from_numpy(rng.normal(images.numel()).reshape(images.shape))
            x = (a ** 0.5 * images.double() + (1 - a) ** 0.5 * noise).float()
            unet(torch.cat([x, x]), torch.full((2 * R,), float(tr)), ctx)
    finally:
        for name in csa_layers:
            layers[name].csa = None
    return store.bank


def to_uint8(images: torch.Tensor) -> np.ndarray:
    return ((images.permute(0, 2, 3, 1).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)


def layer_tokens(unet) -> dict[str, int]:
    """Token count of each self-attention layer, found by running the UNet once."""
    found = {}

    class Probe:
        def attend(self, attn, x, q):
            found[attn.name] = x.shape[1]
            return M.attention(q, attn._split(attn.to_k(x)), attn._split(attn.to_v(x)))

    layers = unet.self_attention_layers()
    for a in layers.values():
        a.csa = Probe()
    with torch.no_grad():
        unet(torch.zeros(1, 3, SIZE, SIZE), torch.zeros(1), torch.zeros(1, world.MAX_TOKENS, unet.cfg.cross_attention_dim))
    for a in layers.values():
        a.csa = None
    return {name: found[name] for name in layers}
