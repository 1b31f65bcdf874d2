"""Training batches: groups of frames that share one identity."""
from __future__ import annotations

import numpy as np
import torch

import world


class GroupSampler:
    """B groups of G frames of one identity in other poses and scenes.

    The captions name pose and scene always and each identity attribute with a rate drawn
    per group from {0, 1/2, 1}: a story's description names some or all of its character, or
    none of it (then only CSA can keep it). A share of captions is empty for guidance.
    """

    def __init__(self, seed: int, groups: int, group_size: int, empty: float = 0.1):
        self.rng = np.random.default_rng(seed)
        self.groups, self.size, self.empty = groups, group_size, empty
        self.vocab = world.vocabulary()

    def batch(self):
        rng = self.rng
        images, ids = [], []
        for _ in range(self.groups):
            ident = world.random_identity(rng)
            p = float(rng.choice([0.0, 0.5, 1.0]))
            for _ in range(self.size):
                pose = world.POSES[rng.integers(len(world.POSES))]
                scene = world.SCENES[rng.integers(len(world.SCENES))]
                images.append(world.draw_frame(ident, pose, scene, rng))
                named = [k for k in world.IDENTITY_KEYS if rng.random() < p]
                text = "" if rng.random() < self.empty else world.caption(ident, named, pose, scene)
                ids.append(world.tokenize(text, self.vocab))
        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x, torch.tensor(ids, dtype=torch.long)
