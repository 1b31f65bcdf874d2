"""The story world: procedural 32x32 pixel-art frames of a character in a pose and a scene.

A character's identity is five attributes (hair, skin, shirt, trousers, hat). A frame adds a
pose, a scene and a position. Captions always name pose and scene and only a random subset of
the identity, so a model trained on them has to *sample* what a caption leaves out: the drift
that Consistent Self-Attention must remove.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

SIZE = 32

ATTRIBUTES: dict[str, list[str]] = {
    "hair": ["black", "brown", "blonde", "red", "white", "blue", "green", "pink"],
    "skin": ["pale", "tan", "brown", "dark"],
    "shirt": ["red", "orange", "yellow", "green", "blue", "purple", "white", "black"],
    "trousers": ["blue", "black", "brown", "gray", "white", "green"],
    "hat": ["none", "red cap", "blue cap", "top hat", "crown"],
}
IDENTITY_KEYS = list(ATTRIBUTES)
POSES = ["standing", "walking", "jumping", "sitting", "waving"]
SCENES = ["forest", "beach", "city", "night", "snow", "desert"]
SCENE_PHRASE = {
    "forest": "in the forest", "beach": "on the beach", "city": "in the city",
    "night": "at night", "snow": "in the snow", "desert": "in the desert",
}

HAIR_RGB = {"black": (24, 24, 28), "brown": (112, 66, 28), "blonde": (240, 208, 80),
            "red": (200, 48, 24), "white": (236, 236, 236), "blue": (40, 90, 230),
            "green": (40, 170, 60), "pink": (250, 120, 200)}
SKIN_RGB = {"pale": (255, 222, 190), "tan": (222, 168, 112), "brown": (160, 100, 58),
            "dark": (88, 54, 32)}
SHIRT_RGB = {"red": (220, 30, 40), "orange": (250, 140, 20), "yellow": (250, 230, 40),
             "green": (30, 180, 70), "blue": (40, 80, 220), "purple": (140, 50, 190),
             "white": (245, 245, 245), "black": (30, 30, 34)}
TROUSERS_RGB = {"blue": (50, 70, 170), "black": (28, 28, 32), "brown": (120, 76, 40),
                "gray": (128, 128, 136), "white": (235, 235, 235), "green": (40, 120, 50)}
OUTLINE = (12, 10, 16)
EYE = (20, 20, 30)
SHOE = (70, 40, 20)

# Sprites, 10 wide. h hair, e eye, s skin, t shirt, p trousers, b shoe. The outline is added
# around them; hats are drawn over the head rows.
_HEAD = [
    "...hhhh...",
    "..hhhhhh..",
    "..hesseh..",
    "..hssssh..",
    "...ssss...",
]
SPRITES = {
    "standing": _HEAD + [
        ".tttttttt.",
        ".tttttttt.",
        ".tttttttt.",
        ".stttttts.",
        "..pppppp..",
        "..pppppp..",
        "..pp..pp..",
        "..pp..pp..",
        "..bb..bb..",
    ],
    "walking": _HEAD + [
        ".tttttttt.",
        ".tttttttt.",
        "stttttttts",
        "..tttttt..",
        "..pppppp..",
        ".pppppppp.",
        ".pp....pp.",
        "pp......pp",
        "bb......bb",
    ],
    "jumping": [
        "s..hhhh..s",
        "s.hhhhhh.s",
        "t.hesseh.t",
        "t.hssssh.t",
        "tt.ssss.tt",
        ".tttttttt.",
        "..tttttt..",
        "..tttttt..",
        "..pppppp..",
        ".pp....pp.",
        "pp......pp",
        "bb......bb",
    ],
    "sitting": _HEAD + [
        ".tttttttt.",
        ".tttttttt.",
        ".tttttttt.",
        ".sppppppps",
        "..pppppppp",
        "........bb",
    ],
    "waving": [
        "...hhhh..s",
        "..hhhhhh.s",
        "..hesseh.t",
        "..hssssh.t",
        "...ssss.tt",
        ".ttttttt..",
        ".ttttttt..",
        ".ttttttt..",
        ".stttttt..",
        "..pppppp..",
        "..pppppp..",
        "..pp..pp..",
        "..pp..pp..",
        "..bb..bb..",
    ],
}
# Vertical offset of the feet (jumping floats above the ground).
POSE_LIFT = {"standing": 0, "walking": 0, "jumping": 5, "sitting": 0, "waving": 0}


@dataclass(frozen=True)
class Identity:
    hair: str
    skin: str
    shirt: str
    trousers: str
    hat: str

    def index(self) -> int:
        i = 0
        for k in IDENTITY_KEYS:
            i = i * len(ATTRIBUTES[k]) + ATTRIBUTES[k].index(getattr(self, k))
        return i

    def labels(self) -> list[int]:
        return [ATTRIBUTES[k].index(getattr(self, k)) for k in IDENTITY_KEYS]


def identity_count() -> int:
    n = 1
    for v in ATTRIBUTES.values():
        n *= len(v)
    return n


def random_identity(rng: np.random.Generator) -> Identity:
    return Identity(**{k: v[rng.integers(len(v))] for k, v in ATTRIBUTES.items()})


# ---------------------------------------------------------------- backgrounds

def _fill(img, y0, y1, rgb):
    img[y0:y1] = rgb


def _jitter(rgb, rng, amount=10):
    return np.clip(np.array(rgb) + rng.integers(-amount, amount + 1, 3), 0, 255)


def draw_scene(scene: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Returns the background and the ground row (where feet stand)."""
    img = np.zeros((SIZE, SIZE, 3), np.int32)
    ground = int(rng.integers(25, 29))
    horizon = ground - int(rng.integers(3, 6))
    if scene == "forest":
        _fill(img, 0, horizon, _jitter((150, 200, 240), rng))
        for _ in range(int(rng.integers(3, 6))):
            x = int(rng.integers(-2, SIZE))
            top = int(rng.integers(2, 9))
            img[top + 8:horizon + 1, max(x + 2, 0):max(x + 4, 0)] = (100, 64, 30)
            img[top:top + 10, max(x, 0):max(x + 6, 0)] = _jitter((20, 110, 40), rng, 12)
        _fill(img, horizon, SIZE, _jitter((70, 150, 50), rng))
    elif scene == "beach":
        _fill(img, 0, horizon - 4, _jitter((140, 210, 250), rng))
        _fill(img, horizon - 4, horizon, _jitter((20, 110, 200), rng))
        _fill(img, horizon, SIZE, _jitter((238, 214, 150), rng))
        sx = int(rng.integers(2, 28))
        img[2:6, sx:sx + 4] = (255, 230, 60)
    elif scene == "city":
        _fill(img, 0, horizon, _jitter((190, 200, 215), rng))
        x = int(rng.integers(-4, 0))
        while x < SIZE:
            w = int(rng.integers(5, 9))
            top = int(rng.integers(3, 13))
            col = _jitter((95, 95, 110), rng, 20)
            img[top:horizon, max(x, 0):max(x + w - 1, 0)] = col
            for wy in range(top + 2, horizon - 2, 3):
                for wx in range(x + 1, x + w - 2, 2):
                    if 0 <= wx < SIZE and rng.random() < 0.7:
                        img[wy, wx] = (250, 220, 110)
            x += w
        _fill(img, horizon, SIZE, _jitter((80, 80, 85), rng))
    elif scene == "night":
        _fill(img, 0, horizon, _jitter((16, 20, 60), rng, 6))
        for _ in range(int(rng.integers(6, 12))):
            img[int(rng.integers(0, horizon - 2)), int(rng.integers(0, SIZE))] = (250, 250, 210)
        mx = int(rng.integers(2, 26))
        img[2:7, mx:mx + 5] = (240, 240, 200)
        img[2:5, mx + 3:mx + 5] = img[7, 0] if horizon > 7 else (16, 20, 60)
        _fill(img, horizon, SIZE, _jitter((30, 40, 50), rng, 6))
    elif scene == "snow":
        _fill(img, 0, horizon, _jitter((200, 215, 230), rng))
        for _ in range(int(rng.integers(1, 4))):
            x = int(rng.integers(0, SIZE - 4))
            top = int(rng.integers(6, 12))
            for r in range(horizon - top):
                half = 1 + r // 3
                img[top + r, max(x + 2 - half, 0):min(x + 3 + half, SIZE)] = (60, 110, 90)
        _fill(img, horizon, SIZE, _jitter((250, 250, 255), rng, 4))
        for _ in range(int(rng.integers(8, 16))):
            img[int(rng.integers(0, horizon)), int(rng.integers(0, SIZE))] = (255, 255, 255)
    elif scene == "desert":
        _fill(img, 0, horizon, _jitter((250, 230, 170), rng))
        _fill(img, horizon, SIZE, _jitter((220, 160, 80), rng))
        for _ in range(int(rng.integers(1, 3))):
            x = int(rng.integers(0, SIZE - 3))
            top = horizon - int(rng.integers(6, 10))
            img[top:horizon + 1, x + 1] = (40, 140, 50)
            img[top + 2:top + 4, x] = (40, 140, 50)
            img[top + 1:top + 3, x + 2] = (40, 140, 50)
    else:
        raise ValueError(scene)
    return img, ground


# ---------------------------------------------------------------- character

def _sprite_rgb(identity: Identity, pose: str) -> tuple[np.ndarray, np.ndarray]:
    rows = SPRITES[pose]
    h, w = len(rows), len(rows[0])
    rgb = np.zeros((h, w, 3), np.int32)
    mask = np.zeros((h, w), bool)
    colours = {"h": HAIR_RGB[identity.hair], "e": EYE, "s": SKIN_RGB[identity.skin],
               "t": SHIRT_RGB[identity.shirt], "p": TROUSERS_RGB[identity.trousers], "b": SHOE}
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ch != ".":
                rgb[y, x] = colours[ch]
                mask[y, x] = True
    # Hats sit on the head: find the head's top row and its hair columns.
    hair_cols = [x for x, ch in enumerate(rows[0]) if ch == "h"] or \
                [x for x, ch in enumerate(rows[1]) if ch == "h"]
    x0, x1 = min(hair_cols), max(hair_cols)
    pad = 3
    canvas = np.zeros((h + pad, w, 3), np.int32)
    cmask = np.zeros((h + pad, w), bool)
    canvas[pad:] = rgb
    cmask[pad:] = mask
    hat = identity.hat
    top = pad  # first head row in canvas
    if hat in ("red cap", "blue cap"):
        c = (210, 30, 30) if hat == "red cap" else (30, 60, 210)
        canvas[top - 1:top + 1, x0 - 1:x1 + 2] = c
        cmask[top - 1:top + 1, x0 - 1:x1 + 2] = True
        canvas[top + 1, x1 + 1:min(x1 + 3, w)] = c  # brim
        cmask[top + 1, x1 + 1:min(x1 + 3, w)] = True
    elif hat == "top hat":
        canvas[top - 3:top, x0:x1 + 1] = (20, 20, 24)
        cmask[top - 3:top, x0:x1 + 1] = True
        canvas[top, x0 - 1:x1 + 2] = (20, 20, 24)
        cmask[top, x0 - 1:x1 + 2] = True
        canvas[top - 1, x0:x1 + 1] = (200, 30, 40)  # band
    elif hat == "crown":
        canvas[top - 1:top + 1, x0:x1 + 1] = (250, 200, 20)
        cmask[top - 1:top + 1, x0:x1 + 1] = True
        for x in range(x0, x1 + 1, 2):
            canvas[top - 2, x] = (250, 200, 20)
            cmask[top - 2, x] = True
    return canvas, cmask


def draw_frame(identity: Identity, pose: str, scene: str, rng: np.random.Generator,
               x: int | None = None, flip: bool | None = None) -> np.ndarray:
    img, ground = draw_scene(scene, rng)
    spr, mask = _sprite_rgb(identity, pose)
    if flip is None:
        flip = bool(rng.integers(2))
    if flip:
        spr, mask = spr[:, ::-1], mask[:, ::-1]
    h, w = mask.shape
    if x is None:
        x = int(rng.integers(1, SIZE - w - 1))
    y = ground - POSE_LIFT[pose] - h
    # Outline: every transparent pixel touching the sprite.
    big = np.zeros((h + 2, w + 2), bool)
    big[1:-1, 1:-1] = mask
    ring = np.zeros_like(big)
    ring[:-1] |= big[1:]
    ring[1:] |= big[:-1]
    ring[:, :-1] |= big[:, 1:]
    ring[:, 1:] |= big[:, :-1]
    ring &= ~big
    for yy in range(h + 2):
        for xx in range(w + 2):
            py, px = y - 1 + yy, x - 1 + xx
            if not (0 <= py < SIZE and 0 <= px < SIZE):
                continue
            if big[yy, xx]:
                img[py, px] = spr[yy - 1, xx - 1]
            elif ring[yy, xx]:
                img[py, px] = OUTLINE
    return img.astype(np.uint8)


# ---------------------------------------------------------------- captions

def attribute_phrase(key: str, value: str) -> str:
    if key == "hair":
        return f"{value} hair"
    if key == "skin":
        return f"{value} skin"
    if key == "shirt":
        return f"{'an' if value[0] in 'aeiou' else 'a'} {value} shirt"
    if key == "trousers":
        return f"{value} trousers"
    return "no hat" if value == "none" else f"a {value}"


def identity_phrase(identity: Identity, named: list[str]) -> str:
    """'a person with red hair, a blue shirt and a crown' naming only `named` attributes."""
    parts = [attribute_phrase(k, getattr(identity, k)) for k in IDENTITY_KEYS if k in named]
    if not parts:
        return "a person"
    if len(parts) == 1:
        return f"a person with {parts[0]}"
    return "a person with " + ", ".join(parts[:-1]) + " and " + parts[-1]


def action_phrase(pose: str, scene: str) -> str:
    return f"{pose} {SCENE_PHRASE[scene]}"


def caption(identity: Identity, named: list[str], pose: str, scene: str) -> str:
    return f"{identity_phrase(identity, named)} {action_phrase(pose, scene)}"


# ---------------------------------------------------------------- tokenizer

MAX_TOKENS = 24
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]


def vocabulary() -> list[str]:
    words: set[str] = {"a", "an", "person", "with", "and", "no", "hat", "hair", "skin", "shirt",
                       "trousers"}
    for k, vals in ATTRIBUTES.items():
        for v in vals:
            words.update(v.split())
    words.update(POSES)
    for p in SCENE_PHRASE.values():
        words.update(p.split())
    words.discard("none")
    return SPECIALS + sorted(words)


_SPLIT = re.compile(r"[a-z0-9]+")


def tokenize(text: str, vocab: list[str]) -> list[int]:
    """Lower-case words; anything else separates them. <bos> words <eos>, padded with <pad>."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = [index["<bos>"]]
    for w in _SPLIT.findall(text.lower()):
        ids.append(index.get(w, index["<unk>"]))
    ids = ids[:MAX_TOKENS - 1] + [index["<eos>"]]
    return ids + [index["<pad>"]] * (MAX_TOKENS - len(ids))


def tokenizer_json() -> dict:
    return {
        "type": "story-world-words",
        "lowercase": True,
        "word_pattern": "[a-z0-9]+",
        "max_length": MAX_TOKENS,
        "pad": "<pad>", "bos": "<bos>", "eos": "<eos>", "unk": "<unk>",
        "vocab": vocabulary(),
    }


def world_json() -> dict:
    return {
        "size": SIZE,
        "attributes": ATTRIBUTES,
        "identity_keys": IDENTITY_KEYS,
        "poses": POSES,
        "scenes": SCENES,
        "scene_phrases": SCENE_PHRASE,
        "identities": identity_count(),
    }


if __name__ == "__main__":
    print(json.dumps(world_json(), indent=1))
