"""CSA-aware training: groups of frames of one identity attend to each other as at inference.

A batch holds B groups of G frames (same identity, other poses and scenes, one timestep).
In every CSA layer a frame's keys and values are its own tokens plus a sampled subset of the
tokens of the group's *identity* frames (not its own): identity frames see each other (the
write phase), the remaining frames only read them (the read phase). This is written as a
mask over the concatenated tokens of the group, which is the same softmax as prepending the
gathered tokens. Rates, which frames are identity frames and which layers take part are
random, rate 0 included, so the model also works with plain attention.
"""
from __future__ import annotations

import torch

from model import attention


class GroupCSA:
    def __init__(self, groups: int, group_size: int, rates: dict[int, torch.Tensor],
                 n_identity: torch.Tensor, layer_prob: float, gen: torch.Generator):
        """rates: tokens-per-frame -> [groups] sampling rate; n_identity: [groups] in 1..G."""
        self.B, self.G = groups, group_size
        self.rates = rates
        self.n_identity = n_identity
        self.layer_prob = layer_prob
        self.gen = gen
        self._allow: dict[int, torch.Tensor] = {}

    def _base_allow(self, n: int) -> torch.Tensor:
        """[B, G(query frame), G*n(key token)] bool, before the per-layer coin."""
        if n in self._allow:
            return self._allow[n]
        B, G = self.B, self.G
        rate = self.rates[n]
        m = torch.round(rate * n).long()                           # tokens sampled per frame
        order = torch.rand(B, G, n, generator=self.gen).argsort(-1).argsort(-1)
        sampled = order < m[:, None, None]                          # exactly m per frame
        frame = torch.arange(G)
        is_id = frame[None, :] < self.n_identity[:, None]           # [B, G]
        other = frame[:, None] != frame[None, :]                    # [G(q), G(k)]
        edge = is_id[:, None, :] & other[None]                      # q reads k's tokens
        allow = edge[..., None] & sampled[:, None, :, :]            # [B, Gq, Gk, n]
        self._allow[n] = allow.reshape(B, G, G * n)
        return self._allow[n]

    def attend(self, attn, x, q):
        BG, n, _ = x.shape
        B, G, h = self.B, self.G, attn.heads
        k = attn._split(attn.to_k(x))
        v = attn._split(attn.to_v(x))
        d = k.shape[-1]
        # Every frame of a group sees the keys of all G frames; the mask keeps its own tokens
        # and the sampled tokens of the identity frames it may read.
        k = k.view(B, G, h, n, d).permute(0, 2, 1, 3, 4).reshape(B, 1, h, G * n, d)
        v = v.view(B, G, h, n, d).permute(0, 2, 1, 3, 4).reshape(B, 1, h, G * n, d)
        on = torch.rand(B, generator=self.gen) < self.layer_prob
        allow = self._base_allow(n) & on[:, None, None]
        own = torch.eye(G, dtype=torch.bool).repeat_interleave(n, dim=1)  # [G, G*n]
        allow = allow | own[None]
        bias = torch.zeros(B, G, 1, 1, G * n).masked_fill(~allow[:, :, None, None, :], -1e9)
        out = attention(q.view(B, G, h, n, d), k, v, bias)
        return out.reshape(BG, h, n, d)
