"""CSA-aware training: groups of frames of one identity attend to each other as at inference.

A batch holds B groups of G frames (same identity, other poses and scenes). The first
`n_source[b]` frames of a group are its sources, the rest read them:

- reference groups (most): the sources are references noised to u*t (u uniform, u = 1 a
  third of the time) and attend only to themselves, as when a bank is written from finished
  frames or uploaded images; the readers at t see their own tokens plus a sampled share of
  every source's tokens (the bank).
- joint groups: every frame at t and the sources also see each other's sampled tokens, as in
  StoryDiffusion's identity phase written jointly.

Written as a mask over the group's concatenated tokens (the same softmax as prepending the
gathered tokens). A share of 0 (a quarter of the groups) and the per-layer coin keep plain
attention working.
"""
from __future__ import annotations

import torch

from model import attention


class GroupCSA:
    def __init__(self, groups: int, group_size: int, shares: dict[int, torch.Tensor],
                 n_source: torch.Tensor, joint: torch.Tensor, layer_prob: float,
                 gen: torch.Generator):
        """shares: tokens-per-frame -> [groups] share of a source's tokens in the bank;
        n_source: [groups] in 1..G-1; joint: [groups] bool."""
        self.B, self.G = groups, group_size
        self.shares = shares
        self.n_source = n_source
        self.joint = joint
        self.layer_prob = layer_prob
        self.gen = gen
        self._allow: dict[int, torch.Tensor] = {}

    def _base_allow(self, n: int) -> torch.Tensor:
        """[B, G(query frame), G*n(key token)] bool, before the per-layer coin."""
        if n in self._allow:
            return self._allow[n]
        B, G = self.B, self.G
        m = torch.round(self.shares[n] * n).long()                  # tokens sampled per frame
        order = torch.rand(B, G, n, generator=self.gen).argsort(-1).argsort(-1)
        sampled = order < m[:, None, None]                          # exactly m per frame
        frame = torch.arange(G)
        is_src = frame[None, :] < self.n_source[:, None]            # [B, G]
        reads = ~is_src | self.joint[:, None]                       # [B, G(q)]
        other = frame[:, None] != frame[None, :]                    # [G(q), G(k)]
        edge = reads[:, :, None] & is_src[:, None, :] & other[None]  # q reads k's tokens
        allow = edge[..., None] & sampled[:, None, :, :]            # [B, Gq, Gk, n]
        self._allow[n] = allow.reshape(B, G, G * n)
        return self._allow[n]

    def attend(self, attn, x, q):
        BG, n, _ = x.shape
        B, G, h = self.B, self.G, attn.heads
        k = attn._split(attn.to_k(x))
        v = attn._split(attn.to_v(x))
        d = k.shape[-1]
        k = k.view(B, G, h, n, d).permute(0, 2, 1, 3, 4).reshape(B, 1, h, G * n, d)
        v = v.view(B, G, h, n, d).permute(0, 2, 1, 3, 4).reshape(B, 1, h, G * n, d)
        on = torch.rand(B, generator=self.gen) < self.layer_prob
        allow = self._base_allow(n) & on[:, None, None]
        own = torch.eye(G, dtype=torch.bool).repeat_interleave(n, dim=1)  # [G, G*n]
        allow = (allow | own[None]).to(x.device)
        bias = torch.zeros(B, G, 1, 1, G * n, device=x.device).masked_fill(~allow[:, :, None, None, :], -1e9)
        out = attention(q.view(B, G, h, n, d), k, v, bias)
        return out.reshape(BG, h, n, d)
