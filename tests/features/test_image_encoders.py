#!/usr/bin/env python3
"""scripts/export-encoder.py's image encoders, offline, on tiny random models written here: a CLIP
vision model with projection (clip-image) and a DINOv2 (dino), each exported, loaded back and run
at its image_size on images in [-1, 1] against the transformers module with the processor's
normalisation done by hand; and the refusals (no preprocessor_config.json, a missing folder).
Exits non-zero with the reason on the first failure.

    ~/.cache/fastgda/venv-torch2.11.0/bin/python tests/features/test_image_encoders.py
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import (CLIPVisionConfig, CLIPVisionModelWithProjection, Dinov2Config,  # noqa
                          Dinov2Model)

EXPORT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "export-encoder.py"
MEAN, STD = [0.48, 0.46, 0.41], [0.27, 0.26, 0.28]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def export(*args):
    return subprocess.run([sys.executable, str(EXPORT), *map(str, args)], capture_output=True,
                          text=True)


def check(kind, model, folder, size, work):
    model.save_pretrained(folder)
    with open(folder / "preprocessor_config.json", "w") as f:
        json.dump({"image_mean": MEAN, "image_std": STD, "crop_size": {"height": size,
                                                                     "width": size}}, f)
    out = work / f"{kind}.pt"
    r = export(kind, folder, out)
    if r.returncode != 0:
        fail(f"{kind}: export failed: {r.stderr[-800:]}")
    module = torch.jit.load(str(out))
    if module.image_size != size:
        fail(f"{kind}: image_size is {module.image_size}, expected {size}")
    images = torch.rand(3, 3, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    x = ((images + 1) / 2 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    with torch.no_grad():
        o = model.eval()(pixel_values=x)
        want = o.image_embeds if kind == "clip-image" else o.last_hidden_state[:, 0]
        got = module(images)
    if got.shape != want.shape or (got - want).abs().max() > 1e-4 * want.abs().max():
        fail(f"{kind}: the exported module gives {tuple(got.shape)}, max difference "
             f"{(got - want).abs().max().item():.2e}")
    print(f"{kind}: {tuple(got.shape)} at {size} px, as transformers")


def main():
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        clip = CLIPVisionModelWithProjection(CLIPVisionConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            image_size=32, patch_size=8, projection_dim=16))
        check("clip-image", clip, work / "clip", 32, work)
        dino = Dinov2Model(Dinov2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=2, image_size=28, patch_size=14))
        check("dino", dino, work / "dino", 28, work)
        # The same model exported again, under another name, gives the same bytes: a feature
        # space's fingerprint hashes the file, so a student outlives re-exporting its encoder.
        r = export("dino", work / "dino", work / "again" / "dino-2.pt")
        if r.returncode != 0:
            fail(f"dino again: export failed: {r.stderr[-800:]}")
        if (work / "dino.pt").read_bytes() != (work / "again" / "dino-2.pt").read_bytes():
            fail("exporting the same model twice gave different bytes")
        os.remove(work / "dino" / "preprocessor_config.json")
        r = export("dino", work / "dino", work / "refused.pt")
        if r.returncode != 1 or "preprocessor_config.json" not in r.stderr:
            fail(f"no preprocessor_config.json: exit {r.returncode}, {r.stderr[-400:]}")
        r = export("dino", work / "missing", work / "refused.pt")
        if r.returncode != 1 or "not a folder" not in r.stderr:
            fail(f"a missing folder: exit {r.returncode}, {r.stderr[-400:]}")
        if (work / "refused.pt").exists():
            fail("a refused export left its file")
    print("image encoders: ok")


if __name__ == "__main__":
    main()
