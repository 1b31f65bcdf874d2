"""The story world (v2): procedural 32x32 pixel-art frames of a character in a pose and a scene.

A character's identity is five attributes (hair, skin, shirt, trousers, hat: 7,680
identities). A frame adds a pose (arms and legs), a scene (sky, ground, one prop) and a small
horizontal jitter. Captions always name pose and scene and only part of the identity, so a
model trained on them has to *sample* what a caption leaves out: the drift that Consistent
Self-Attention must remove.
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



# World v2: the character fills the frame in fixed vertical bands, so that a small model on a
# small machine can learn every attribute (a free-floating 10x17 sprite could not be learnt
# from what 2 cores train in hours). Rows: hat 0-6, hair 5-12 (top and the sides of the face),
# face 9-13, shirt 15-22, trousers 23-29, shoes 30. The centre column moves by at most
# JITTER pixels and is never mirrored; poses move only the arms and legs; the background is
# sky above HORIZON, ground below it and one prop beside the character.
HORIZON = 22
JITTER = 2
HAT_RGB = {"red cap": (210, 30, 30), "blue cap": (30, 60, 210), "top hat": (20, 20, 24),
           "crown": (250, 200, 20)}


def _rect(canvas: dict, rows, cols, colour):
    """Paints [r0, r1) x [c0, c1) (relative to the centre column) into a {(y, dx): rgb} map."""
    for y in range(*rows):
        for dx in range(*cols):
            canvas[(y, dx)] = colour


def _character(identity: Identity, pose: str) -> dict:
    """{(row, column offset from the centre): rgb}; the centre is between offsets -1 and 0."""
    hair, skin = HAIR_RGB[identity.hair], SKIN_RGB[identity.skin]
    shirt, trousers = SHIRT_RGB[identity.shirt], TROUSERS_RGB[identity.trousers]
    c: dict = {}
    # Arms behind the body, so the body's edge stays clean.
    arm_down = [((15, 21), shirt), ((21, 23), skin)]
    arm_up = [((9, 15), shirt), ((7, 9), skin)]
    left, right = arm_down, arm_down
    if pose == "jumping":
        left, right = arm_up, arm_up
    elif pose == "waving":
        right = arm_up
    for rows, colour in left:
        _rect(c, rows, (-8, -6), colour)
    for rows, colour in right:
        _rect(c, rows, (6, 8), colour)
    if pose == "walking":
        # Arms swing: hands one column out.
        _rect(c, (21, 23), (-9, -7), skin)
        _rect(c, (21, 23), (7, 9), skin)
        for y in (21, 22):
            c.pop((y, -7), None)
            c.pop((y, 6), None)
    # Head: hair on top and at the sides of the face.
    _rect(c, (5, 9), (-5, 5), hair)
    _rect(c, (9, 13), (-5, -4), hair)
    _rect(c, (9, 13), (4, 5), hair)
    _rect(c, (9, 14), (-4, 4), skin)
    c[(10, -3)] = EYE
    c[(10, 2)] = EYE
    _rect(c, (14, 15), (-1, 1), skin)
    _rect(c, (15, 23), (-6, 6), shirt)
    # Hips, then legs by pose.
    _rect(c, (23, 26), (-5, 5), trousers)
    if pose == "sitting":
        _rect(c, (23, 27), (5, 11), trousers)
        _rect(c, (23, 27), (11, 12), SHOE)
    elif pose == "jumping":
        _rect(c, (26, 28), (-6, -2), trousers)
        _rect(c, (28, 30), (-8, -4), trousers)
        _rect(c, (30, 31), (-8, -4), SHOE)
        _rect(c, (26, 28), (2, 6), trousers)
        _rect(c, (28, 30), (4, 8), trousers)
        _rect(c, (30, 31), (4, 8), SHOE)
    elif pose == "walking":
        _rect(c, (26, 28), (-5, -1), trousers)
        _rect(c, (28, 30), (-7, -3), trousers)
        _rect(c, (30, 31), (-7, -3), SHOE)
        _rect(c, (26, 28), (1, 5), trousers)
        _rect(c, (28, 30), (3, 7), trousers)
        _rect(c, (30, 31), (3, 7), SHOE)
    else:
        _rect(c, (26, 30), (-5, -1), trousers)
        _rect(c, (30, 31), (-5, -1), SHOE)
        _rect(c, (26, 30), (1, 5), trousers)
        _rect(c, (30, 31), (1, 5), SHOE)
    hat = identity.hat
    if hat in ("red cap", "blue cap"):
        _rect(c, (3, 7), (-5, 5), HAT_RGB[hat])
        _rect(c, (6, 7), (5, 8), HAT_RGB[hat])       # brim
    elif hat == "top hat":
        _rect(c, (0, 6), (-4, 4), HAT_RGB[hat])
        _rect(c, (4, 5), (-4, 4), (200, 30, 40))     # band
        _rect(c, (6, 7), (-6, 6), HAT_RGB[hat])      # brim
    elif hat == "crown":
        _rect(c, (4, 7), (-5, 5), HAT_RGB[hat])
        for dx in (-5, -2, 1, 4):
            _rect(c, (2, 4), (dx, dx + 1), HAT_RGB[hat])
    return c


# ---------------------------------------------------------------- backgrounds

def _jitter(rgb, rng, amount=8):
    return np.clip(np.array(rgb) + rng.integers(-amount, amount + 1, 3), 0, 255)


SCENE_COLOURS = {  # sky, ground
    "forest": ((150, 200, 240), (70, 150, 50)),
    "beach": ((120, 200, 250), (238, 214, 150)),
    "city": ((175, 180, 195), (80, 80, 85)),
    "night": ((16, 20, 60), (30, 40, 50)),
    "snow": ((205, 218, 232), (250, 250, 255)),
    "desert": ((250, 228, 160), (215, 150, 70)),
}


def _prop(img: np.ndarray, scene: str, x0: int, horizon: int, rng: np.random.Generator):
    """One prop in the 8-column strip starting at x0."""
    if scene == "forest":     # a tree
        img[horizon - 6:horizon, x0 + 3:x0 + 5] = (100, 64, 30)
        img[horizon - 15:horizon - 6, x0:x0 + 8] = _jitter((20, 110, 40), rng)
    elif scene == "beach":    # the sea on the horizon and the sun
        img[horizon - 3:horizon] = _jitter((20, 110, 200), rng)
        img[2:7, x0 + 2:x0 + 7] = (255, 230, 60)
    elif scene == "city":     # a building with lit windows
        top = int(rng.integers(2, 6))
        img[top:horizon, x0:x0 + 8] = _jitter((95, 95, 110), rng, 12)
        for wy in range(top + 2, horizon - 2, 3):
            for wx in range(x0 + 1, x0 + 7, 2):
                img[wy, wx] = (250, 220, 110)
    elif scene == "night":    # the moon and stars
        img[2:7, x0 + 2:x0 + 7] = (240, 240, 200)
        img[2:5, x0 + 5:x0 + 7] = img[0, 0] if x0 else img[0, 31]
        for _ in range(4):
            img[int(rng.integers(8, horizon - 2)), x0 + int(rng.integers(0, 8))] = (250, 250, 210)
    elif scene == "snow":     # a pine
        for r in range(12):
            half = 1 + r // 4
            img[horizon - 13 + r, x0 + 4 - half:x0 + 4 + half] = (60, 110, 90)
        img[horizon - 1:horizon + 1, x0 + 3:x0 + 5] = (100, 64, 30)
    elif scene == "desert":   # a cactus
        img[horizon - 10:horizon + 1, x0 + 3:x0 + 5] = (40, 140, 50)
        img[horizon - 7:horizon - 5, x0 + 1:x0 + 3] = (40, 140, 50)
        img[horizon - 9:horizon - 7, x0 + 1:x0 + 2] = (40, 140, 50)
        img[horizon - 6:horizon - 4, x0 + 5:x0 + 7] = (40, 140, 50)
    else:
        raise ValueError(scene)


def draw_scene(scene: str, rng: np.random.Generator, side: int | None = None) -> np.ndarray:
    img = np.zeros((SIZE, SIZE, 3), np.int32)
    sky, ground = SCENE_COLOURS[scene]
    horizon = HORIZON + int(rng.integers(-1, 2))
    img[:horizon] = _jitter(sky, rng)
    img[horizon:] = _jitter(ground, rng)
    if side is None:
        side = int(rng.integers(2))
    _prop(img, scene, 0 if side == 0 else SIZE - 8, horizon, rng)
    return img


# ---------------------------------------------------------------- frame

def draw_frame(identity: Identity, pose: str, scene: str, rng: np.random.Generator,
               x: int | None = None, side: int | None = None) -> np.ndarray:
    """x: the centre column's offset from the frame's centre (-JITTER..JITTER)."""
    img = draw_scene(scene, rng, side)
    if x is None:
        x = int(rng.integers(-JITTER, JITTER + 1))
    cx = SIZE // 2 + x
    body = np.zeros((SIZE, SIZE), bool)
    for (y, dx), rgb in _character(identity, pose).items():
        px = cx + dx
        if 0 <= px < SIZE:
            img[y, px] = rgb
            body[y, px] = True
    # A one-pixel outline around the character keeps it apart from any background colour.
    ring = np.zeros_like(body)
    ring[:-1] |= body[1:]
    ring[1:] |= body[:-1]
    ring[:, :-1] |= body[:, 1:]
    ring[:, 1:] |= body[:, :-1]
    img[ring & ~body] = OUTLINE
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

MAX_TOKENS = 32
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
        "version": 2,
    }


if __name__ == "__main__":
    print(json.dumps(world_json(), indent=1))
