"""Makes the tiny SDXL-structured pack the engine's tests run: models/packs/sdxl-tiny/, and the
PyTorch reference numbers tests/fixtures/engine/sdxl_tiny_reference.json.

    nice /usr/bin/python3 models/sdxl-tiny/make_tiny.py [--out models/packs/sdxl-tiny]

Randomly initialised (seeded), not trained: it exercises the code paths of a real Stable
Diffusion XL export (two text encoders, pooled text embeddings and time ids as extra UNet
inputs, several transformer blocks per attention, latent scaling 0.13025) on a machine and in
a CI without torch or network. The modules are those of models/sd15-tiny/make_tiny.py (diffusers'
names), assembled with SDXL's structure at tiny widths:

  UNet2DConditionModel (SDXL base config): conv_in, time_proj/time_embedding, add_time_proj/
  add_embedding (addition_embed_type "text_time"), down_blocks.0 DownBlock2D + down_blocks.1-2
  CrossAttnDownBlock2D, mid_block UNetMidBlock2DCrossAttn, up_blocks.0-1 CrossAttnUpBlock2D +
  up_blocks.2 UpBlock2D, layers_per_block 2, transformer_layers_per_block (1, 2, 3) (SDXL:
  (1, 2, 10)), use_linear_projection, conv_norm_out, conv_out.
  text_encoder: CLIPTextModel (CLIP ViT-L style, quick_gelu), hidden states of every layer.
  text_encoder_2: CLIPTextModelWithProjection (OpenCLIP bigG style, gelu): text_embeds is the
  projected pooled output.
  vae_decoder: the SD1.5 tiny decoder (SDXL's VAE has the same structure).

Exported with torch.onnx (opset 17), names as optimum's SDXL export (UNetOnnxConfig with
addition_embed_type "text_time", CLIPTextOnnxConfig / CLIPTextWithProjectionOnnxConfig with
output_hidden_states):
  text_encoder.onnx    input_ids int32 [B, 77] -> last_hidden_state, pooler_output, hidden_states.0-2
  text_encoder_2.onnx  input_ids int64 [B, 77] -> text_embeds [B, 40], last_hidden_state, hidden_states.0-3
  unet.onnx            sample [B, 4, H, W], timestep int64 [B], encoder_hidden_states [B, 77, 32 + 48],
                       text_embeds [B, 40], time_ids [B, 6] -> out_sample
  vae_decoder.onnx     latent_sample [B, 4, H, W] -> sample [B, 3, 8H, 8W]
(optimum casts CLIPTextModel's input_ids to int32; the engine reads the type from the model.)
"""
from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import re

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("sd15_tiny", os.path.join(HERE, "..", "sd15-tiny", "make_tiny.py"))
sd15 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sd15)

OPSET = 17
BLOCKS = (32, 32, 32)              # SDXL: (320, 640, 1280)
TRANSFORMER_LAYERS = (1, 2, 3)     # SDXL: (1, 2, 10); the mid block uses the last
HEADS = 2                          # SDXL: channels / 64
TEXT_1 = dict(dim=32, layers=2, heads=2, act="quick_gelu")   # CLIP ViT-L/14: 768 wide, 12 layers
TEXT_2 = dict(dim=48, layers=3, heads=2, act="gelu")         # OpenCLIP ViT-bigG/14: 1280 wide, 32 layers
PROJECTION = 40                    # SDXL: projection_dim 1280 (kept unlike 48 so a mix-up shows)
CTX = TEXT_1["dim"] + TEXT_2["dim"]  # SDXL: cross_attention_dim 2048 = 768 + 1280
ADD_TIME_DIM = 8                   # SDXL: addition_time_embed_dim 256
TIME_IDS = ("original_height", "original_width", "crop_top", "crop_left", "target_height", "target_width")
MAX_LENGTH = sd15.MAX_LENGTH
LATENT = (24, 16)                  # height, width of the default latent (portrait: image 192 x 128)
LATENT_SCALE = 0.13025
# Penultimate layer, as SDXL's pipeline takes (hidden_states[-2]).
HIDDEN_1 = f"hidden_states.{TEXT_1['layers'] - 1}"
HIDDEN_2 = f"hidden_states.{TEXT_2['layers'] - 1}"


class SDXLUNet(nn.Module):
    def __init__(self):
        super().__init__()
        ch, temb = BLOCKS, BLOCKS[0] * 4
        last = len(ch) - 1
        tf = lambda level: dict(heads=HEADS, ctx=CTX, depth=TRANSFORMER_LAYERS[level], linear=True)  # noqa: E731
        self.conv_in = nn.Conv2d(4, ch[0], 3, padding=1)
        self.time_embedding = sd15.TimestepEmbedding(ch[0], temb)
        self.add_embedding = sd15.TimestepEmbedding(PROJECTION + len(TIME_IDS) * ADD_TIME_DIM, temb)
        self.down_blocks = nn.ModuleList([
            sd15.DownBlock(ch[i - 1] if i else ch[0], c, temb, attn=i > 0, down=i < last, **tf(i)) for i, c in enumerate(ch)])
        self.mid_block = sd15.UNetMidBlock2DCrossAttn(ch[-1], temb, **tf(last))
        rev = list(reversed(ch))
        self.up_blocks = nn.ModuleList()
        prev = rev[0]
        for i, c in enumerate(rev):
            self.up_blocks.append(sd15.UpBlock(rev[min(i + 1, last)], prev, c, temb, attn=i < last, up=i < last, **tf(last - i)))
            prev = c
        self.conv_norm_out = nn.GroupNorm(32, ch[0])
        self.conv_out = nn.Conv2d(ch[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
        temb = self.time_embedding(sd15.timestep_embedding(timestep, BLOCKS[0]))
        # diffusers "text_time": each time id gets a sinusoidal embedding, concatenated after the pooled text.
        time_embeds = sd15.timestep_embedding(time_ids.flatten(), ADD_TIME_DIM).reshape(text_embeds.shape[0], -1)
        temb = temb + self.add_embedding(torch.cat([text_embeds, time_embeds], dim=-1))
        x = self.conv_in(sample)
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for blk in self.up_blocks:
            x = blk(x, skips, temb, encoder_hidden_states)
        return self.conv_out(torch.nn.functional.silu(self.conv_norm_out(x)))

    def self_attention(self):
        return [(n[: -len(".to_q")], m.in_features) for n, m in self.named_modules() if n.endswith("attn1.to_q")]


class CLIPTextModel(nn.Module):
    """optimum's SDXL text_encoder export: last_hidden_state, pooler_output, hidden_states.0-N."""

    def __init__(self, vocab):
        super().__init__()
        self.text_model = sd15.CLIPTextTransformer(vocab, **TEXT_1)

    def forward(self, input_ids):
        x, pooled, hidden = self.text_model.encode(input_ids)
        return (x, pooled, *hidden)


class CLIPTextModelWithProjection(nn.Module):
    """optimum's text_encoder_2 export: text_embeds (projected pooled output), last_hidden_state, hidden_states.0-N."""

    def __init__(self, vocab):
        super().__init__()
        self.text_model = sd15.CLIPTextTransformer(vocab, **TEXT_2)
        self.text_projection = nn.Linear(TEXT_2["dim"], PROJECTION, bias=False)

    def forward(self, input_ids):
        x, pooled, hidden = self.text_model.encode(input_ids)
        return (self.text_projection(pooled), x, *hidden)


def layer_tokens(name):
    """Tokens of an attn1 layer at the default latent size: each level halves the grid."""
    h, w = LATENT
    last = len(BLOCKS) - 1
    if name.startswith("mid_block"):
        level = last
    elif name.startswith("down_blocks"):
        level = int(name.split(".")[1])
    else:
        level = last - int(name.split(".")[1])
    return (h >> level) * (w >> level)


def b64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().numpy().astype("<f4")).tobytes()).decode("ascii")


def tensor_json(t):
    return {"dims": list(t.shape), "float32_base64": b64(t)}


def conditioning(text_1, text_2, ids_1, ids_2):
    """SDXL's encode_prompt: penultimate hidden states of both encoders side by side, pooled from the second."""
    out_1 = text_1(ids_1)
    out_2 = text_2(ids_2)
    hidden_1 = out_1[2 + TEXT_1["layers"] - 1]
    hidden_2 = out_2[2 + TEXT_2["layers"] - 1]
    return torch.cat([hidden_1, hidden_2], dim=-1), out_2[0]


def reference(tok, text_1, text_2, unet, path):
    """PyTorch numbers the tests compare ONNX Runtime with: conditioning of [negative; positive]
    prompts, and the UNet on given inputs (proves the export, not the weights)."""
    prompts = ["", "a girl with a blue hat reading a book in the forest"]
    ids_1 = [sd15.reference_encode(p, tok) for p in prompts]
    ids_2 = [sd15.reference_encode(p, tok, pad="!") for p in prompts]
    g = torch.Generator().manual_seed(7)
    h, w = LATENT
    with torch.no_grad():
        context, pooled = conditioning(text_1, text_2, torch.tensor(ids_1), torch.tensor(ids_2))
        sample = torch.randn(2, 4, h, w, generator=g)
        timestep = torch.tensor([999, 501], dtype=torch.long)
        time_ids = torch.tensor([[h * 8, w * 8, 0, 0, h * 8, w * 8], [96, 64, 8, 4, h * 8, w * 8]], dtype=torch.float32)
        out = unet(sample, timestep, context, pooled, time_ids)
    fixture = {
        "about": "models/sdxl-tiny/make_tiny.py: PyTorch outputs of the tiny SDXL pack's modules",
        "prompts": prompts, "input_ids": ids_1, "input_ids_2": ids_2,
        "context": tensor_json(context), "text_embeds": tensor_json(pooled),
        "unet": {"sample": tensor_json(sample), "timestep": timestep.tolist(), "time_ids": time_ids.tolist(),
                 "out_sample": tensor_json(out)},
    }
    with open(path, "w") as f:
        json.dump(fixture, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "packs", "sdxl-tiny"))
    ap.add_argument("--fixture", default=os.path.join(HERE, "..", "..", "tests", "fixtures", "engine", "sdxl_tiny_reference.json"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(2048)

    # SDXL's two tokenizers share CLIP's vocabulary; the second pads with "!".
    tok = sd15.tokenizer_json(sd15.train_merges(re.findall(r"[a-z]+", sd15.CORPUS.lower()), 120))
    vocab_size = len(tok["model"]["vocab"])
    text_1, text_2 = CLIPTextModel(vocab_size).eval(), CLIPTextModelWithProjection(vocab_size).eval()
    unet, vae = SDXLUNet().eval(), sd15.VaeDecode().eval()

    files = {"text_encoder": "text_encoder.onnx", "text_encoder_2": "text_encoder_2.onnx", "unet": "unet.onnx",
             "vae_decoder": "vae_decoder.onnx", "tokenizer": "tokenizer.json", "tokenizer_2": "tokenizer_2.json"}
    p = lambda k: os.path.join(args.out, files[k])  # noqa: E731
    h, w = LATENT
    hidden = lambda n: [f"hidden_states.{i}" for i in range(n + 1)]  # noqa: E731
    batch = lambda names: {n: {0: "batch"} for n in names}  # noqa: E731
    with torch.no_grad():
        names_1 = ["last_hidden_state", "pooler_output", *hidden(TEXT_1["layers"])]
        torch.onnx.export(text_1, (torch.zeros(1, MAX_LENGTH, dtype=torch.int32),), p("text_encoder"), opset_version=OPSET,
                          input_names=["input_ids"], output_names=names_1, dynamic_axes=batch(["input_ids", *names_1]))
        names_2 = ["text_embeds", "last_hidden_state", *hidden(TEXT_2["layers"])]
        torch.onnx.export(text_2, (torch.zeros(1, MAX_LENGTH, dtype=torch.long),), p("text_encoder_2"), opset_version=OPSET,
                          input_names=["input_ids"], output_names=names_2, dynamic_axes=batch(["input_ids", *names_2]))
        args_unet = (torch.randn(2, 4, h, w), torch.tensor([999, 500]), torch.randn(2, MAX_LENGTH, CTX),
                     torch.randn(2, PROJECTION), torch.tensor([[h * 8.0, w * 8.0, 0, 0, h * 8.0, w * 8.0]] * 2))
        torch.onnx.export(unet, args_unet, p("unet"), opset_version=OPSET,
                          input_names=["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"],
                          output_names=["out_sample"],
                          dynamic_axes={"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                                        "encoder_hidden_states": {0: "batch"}, "text_embeds": {0: "batch"},
                                        "time_ids": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}})
        torch.onnx.export(vae, (torch.randn(1, 4, h, w),), p("vae_decoder"), opset_version=OPSET,
                          input_names=["latent_sample"], output_names=["sample"],
                          dynamic_axes={"latent_sample": {0: "batch", 2: "height", 3: "width"},
                                        "sample": {0: "batch", 2: "height", 3: "width"}})
    for key in ("tokenizer", "tokenizer_2"):
        with open(p(key), "w") as f:
            json.dump(tok, f, indent=1, ensure_ascii=False)

    attn = unet.self_attention()
    csa_layers = [n for n, _ in attn if n.startswith("up_blocks.")]
    manifest = {
        "format": "storyforge-pack/1",
        "name": "sdxl-tiny",
        "description": "Tiny randomly initialised model with Stable Diffusion XL's structure and names, for tests (models/sdxl-tiny/make_tiny.py). Makes noise, not pictures.",
        "family": "sdxl",
        "files": files,
        "space": "latent",
        "sample": {"channels": 4, "height": h, "width": w},
        "scale_factor": 8,
        "latent_scale": LATENT_SCALE,
        "upscale": {"factor": 1, "kernel": "nearest"},
        # SDXL's buckets scaled down with the model: a real SDXL pack takes the family's (1024x1024, 1152x896, ...).
        "sizes": {"buckets": [[128, 192], [192, 128], [128, 128], [256, 256]]},
        "text": {"max_length": MAX_LENGTH, "hidden_size": TEXT_1["dim"], "tokenizer": "clip-bpe",
                 "pad_token": "<|endoftext|>", "hidden_state": HIDDEN_1},
        "text_2": {"max_length": MAX_LENGTH, "hidden_size": TEXT_2["dim"], "tokenizer": "clip-bpe", "pad_token": "!",
                   "hidden_state": HIDDEN_2, "pooled": {"output": "text_embeds", "size": PROJECTION}},
        "add_time_ids": {"order": list(TIME_IDS)},
        "force_zeros_for_empty_prompt": True,
        # stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json
        "scheduler": {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
                      "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "timestep_spacing": "leading",
                      "steps_offset": 1, "set_alpha_to_one": False, "clip_sample": False},
        "defaults": {"scheduler": "euler_ancestral", "steps": 30, "guidance": 5.0, "negative_prompt": ""},
        "self_attention": [{"name": n, "tokens": layer_tokens(n), "channels": c, "heads": HEADS,
                            "csa": n.startswith("up_blocks.")} for n, c in attn],
        "csa": {"layers": csa_layers, "default_rate": 0.5,
                "apply_probability": {"first_step": 0.0, "before_step_20": 0.7, "after": 0.9}},
        "sha256": {files[k]: sd15.sha256(p(k)) for k in files},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    reference(tok, text_1, text_2, unet, args.fixture)
    print(json.dumps({k: os.path.getsize(p(k)) for k in files}),
          "params", {n: sum(x.numel() for x in m.parameters()) for n, m in
                     (("text", text_1), ("text_2", text_2), ("unet", unet), ("vae", vae))})


if __name__ == "__main__":
    main()
