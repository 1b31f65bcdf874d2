"""Training batches: groups of frames that share one identity."""
from __future__ import annotations

import numpy as np
import torch

import world


class GroupSampler:
    def __init__(self, seed: int, groups: int, group_size: int, cfg_drop: float = 0.1):
        self.rng = np.random.default_rng(seed)
        self.groups, self.size, self.cfg_drop = groups, group_size, cfg_drop
        self.vocab = world.vocabulary()

    def _named(self, p: float) -> list[str]:
        return [k for k in world.IDENTITY_KEYS if self.rng.random() < p]

    def batch(self):
        rng = self.rng
        images, ids = [], []
        for _ in range(self.groups):
            ident = world.random_identity(rng)
            # How much of the identity the captions name: often nothing (CSA must carry it),
            # sometimes all of it; shared by the group half of the time, as a character's
            # description is shared by the frames of a story.
            p = float(rng.choice([0.0, 0.0, 0.3, 0.6, 1.0]))
            shared = self._named(p) if rng.random() < 0.5 else None
            drop_group = rng.random() < self.cfg_drop
            for _ in range(self.size):
                pose = world.POSES[rng.integers(len(world.POSES))]
                scene = world.SCENES[rng.integers(len(world.SCENES))]
                images.append(world.draw_frame(ident, pose, scene, rng))
                named = shared if shared is not None else self._named(p)
                text = "" if drop_group or rng.random() < 0.03 else world.caption(ident, named, pose, scene)
                ids.append(world.tokenize(text, self.vocab))
        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x, torch.tensor(ids, dtype=torch.long)
