"""StoryForge's seeded generator, bit for bit the same as src/engine/random (TypeScript).

xoshiro128** seeded through splitmix32 from a 32-bit seed. Floats take the top 24 bits;
normals come from Box-Muller in float64, cast to float32, both values of a pair used.
"""
from __future__ import annotations

import math

import numpy as np

M32 = 0xFFFFFFFF


def _splitmix32(x: int) -> tuple[int, int]:
    x = (x + 0x9E3779B9) & M32
    z = x
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
    return x, z ^ (z >> 16)


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed: int):
        x = seed & M32
        self.s = []
        for _ in range(4):
            x, z = _splitmix32(x)
            self.s.append(z)

    def next_u32(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def next_float(self) -> float:
        """Uniform in [0, 1) with 24 bits."""
        return (self.next_u32() >> 8) / 16777216.0

    def normal(self, n: int) -> np.ndarray:
        out = np.empty(n, np.float32)
        i = 0
        while i < n:
            u1 = ((self.next_u32() >> 8) + 1) / 16777216.0   # (0, 1]
            u2 = (self.next_u32() >> 8) / 16777216.0
            r = math.sqrt(-2.0 * math.log(u1))
            out[i] = r * math.cos(2.0 * math.pi * u2)
            if i + 1 < n:
                out[i + 1] = r * math.sin(2.0 * math.pi * u2)
            i += 2
        return out

    def below(self, n: int) -> int:
        """Uniform integer in [0, n) (Lemire's multiply; bias < n / 2^32, fine here)."""
        return (self.next_u32() * n) >> 32

    def sample_indices(self, n: int, m: int) -> list[int]:
        """m distinct indices of range(n), ascending (partial Fisher-Yates)."""
        a = list(range(n))
        for i in range(m):
            j = i + self.below(n - i)
            a[i], a[j] = a[j], a[i]
        return sorted(a[:m])
