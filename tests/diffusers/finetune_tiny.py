"""A short, seeded fine-tune of a (tiny) Stable Diffusion pipeline on a folder dataset, with
diffusers, for the end-to-end test of a user's own model (tests/diffusers/test-end-to-end.sh):

    $PY tests/diffusers/finetune_tiny.py PIPELINE_DIR DATASET_DIR OUT_DIR [--steps 400]
        [--batch 16] [--lr 1e-3] [--text-lr 1e-4] [--seed 0] [--no-rescale] [--threads N]

DATASET_DIR is a folder dataset (manifest.jsonl with path and caption; make_folder_dataset.py)
whose images are the pipeline's size. Standard epsilon-prediction training as diffusers' text-to-
image example does it: x_t = DDPMScheduler.add_noise(z_0, eps, t), t uniform over the training
timesteps, loss = MSE(unet(x_t, t, text_encoder(caption)), eps), 10% of captions dropped to ""
(so classifier-free guidance has an unconditional model to work with), AdamW on the UNet (lr
--lr) and the text encoder (--text-lr; 0 freezes it), a linear warm-up over the first 10% of the
steps. The VAE is not trained: z_0 is its posterior mean, encoded once.

Rescaling: the pipeline's VAE has random weights, so its latents are far from SD's unit variance
(std about 0.05 after SD's scaling_factor 0.18215 for the tiny pipeline): the noise would drown
them at nearly every timestep and the UNet could learn little. So, as SD's own scaling_factor was
chosen (1 / the std of the latents of its training images), the VAE's scaling_factor is set to
1 / std of this dataset's unscaled latents (and saved in vae/config.json, where the exporter
reads it), unless --no-rescale.

Deterministic for a seed on a given machine and thread count: torch.manual_seed, one torch
generator for timesteps, noise and caption dropout, deterministic algorithms. Prints the training
loss of the first and last 10% of the steps and a held-out-noise loss (the same 8 (noise, t)
pairs per image, t = 50 .. 950, before and after), and exits non-zero unless that loss fell by at
least 10%. OUT_DIR receives the whole pipeline (save_pretrained) with the tokenizer files copied
as they were.
"""
import argparse
import hashlib
import json
import os
import pathlib
import shutil
import sys
import time
import warnings

os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local: never reach a hub
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pipeline")
    ap.add_argument("dataset")
    ap.add_argument("out_dir")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--text-lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-rescale", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = ap.parse_args()
    t_start = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    import diffusers
    import transformers
    from diffusers import DDPMScheduler, StableDiffusionPipeline
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()

    src = pathlib.Path(args.pipeline)
    pipe = StableDiffusionPipeline.from_pretrained(src, safety_checker=None,
                                                   requires_safety_checker=False,
                                                   local_files_only=True)
    unet, vae, text_encoder, tokenizer = pipe.unet, pipe.vae, pipe.text_encoder, pipe.tokenizer
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    if noise_scheduler.config.prediction_type != "epsilon":
        sys.exit("finetune_tiny.py: only epsilon-prediction pipelines")
    T = noise_scheduler.config.num_train_timesteps

    # The dataset: images in [-1, 1] at the pipeline's size, and captions.
    folder = pathlib.Path(args.dataset)
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()
            if line.strip()]
    images = np.stack([np.asarray(Image.open(folder / r["path"]).convert("RGB")) for r in rows])
    size = unet.config.sample_size * 2 ** (len(vae.config.block_out_channels) - 1)
    if images.shape[1:3] != (size, size):
        sys.exit(f"finetune_tiny.py: images are {images.shape[1]}x{images.shape[2]}, the "
                 f"pipeline's {size}x{size}")
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    captions = [r["caption"] for r in rows]
    n = len(rows)

    def ids(texts):
        return tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length,
                         truncation=True, return_tensors="pt").input_ids
    tokens, empty = ids(captions), ids([""])

    vae.requires_grad_(False).eval()
    with torch.no_grad():
        raw = vae.encode(pixels).latent_dist.mean  # unscaled
    if not args.no_rescale:
        scale = float(1.0 / raw.std())
        print(f"latents: std {float(raw.std()) * vae.config.scaling_factor:.4g} with "
              f"scaling_factor {vae.config.scaling_factor:g}; rescaled: scaling_factor {scale:.6g} "
              "(1 / the std of the unscaled latents)")
        vae.register_to_config(scaling_factor=scale)
    latents = raw * vae.config.scaling_factor

    train_text = args.text_lr > 0
    unet.train()
    text_encoder.train(train_text).requires_grad_(train_text)
    groups = [{"params": list(unet.parameters()), "lr": args.lr}]
    if train_text:
        groups.append({"params": list(text_encoder.parameters()), "lr": args.text_lr})
    opt = torch.optim.AdamW(groups, weight_decay=1e-2)
    base_lrs = [g["lr"] for g in groups]
    warmup = max(1, args.steps // 10)
    gen = torch.Generator().manual_seed(args.seed)

    # The held-out-noise loss: fixed (noise, t) pairs, t = 50 .. 950, every image's own caption.
    eval_gen = torch.Generator().manual_seed(args.seed + 1)
    eval_t = torch.linspace(50, 950, 8).round().long()
    eval_noise = torch.randn(len(eval_t), *latents.shape, generator=eval_gen)

    def eval_loss():
        unet.eval()
        text_encoder.eval()
        with torch.no_grad():
            context = text_encoder(tokens).last_hidden_state
            total = 0.0
            for j, t in enumerate(eval_t):
                tt = t.repeat(n)
                x = noise_scheduler.add_noise(latents, eval_noise[j], tt)
                total += float(torch.nn.functional.mse_loss(
                    unet(x, tt, encoder_hidden_states=context).sample, eval_noise[j]))
        unet.train()
        text_encoder.train(train_text)
        return total / len(eval_t)

    before = eval_loss()
    losses = []
    for step in range(args.steps):
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * min(1.0, (step + 1) / warmup)
        idx = torch.randint(0, n, (args.batch,), generator=gen)
        z0 = latents[idx]
        noise = torch.randn(z0.shape, generator=gen)
        t = torch.randint(0, T, (args.batch,), generator=gen)
        drop = torch.rand(args.batch, generator=gen) < 0.1
        tok = torch.where(drop[:, None], empty.expand(args.batch, -1), tokens[idx])
        with torch.set_grad_enabled(train_text):
            context = text_encoder(tok).last_hidden_state
        x = noise_scheduler.add_noise(z0, noise, t)
        loss = torch.nn.functional.mse_loss(unet(x, t, encoder_hidden_states=context).sample,
                                            noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
        opt.step()
        losses.append(float(loss))
    after = eval_loss()

    unet.eval()
    text_encoder.eval()
    out = pathlib.Path(args.out_dir)
    pipe.save_pretrained(out)
    # transformers 5 writes tokenizer.json in place of SD's vocab.json + merges.txt: keep the
    # original files (the exporter would derive the same ones; this keeps them byte for byte).
    shutil.rmtree(out / "tokenizer")
    shutil.copytree(src / "tokenizer", out / "tokenizer")

    w = max(1, args.steps // 10)
    first, last = float(np.mean(losses[:w])), float(np.mean(losses[-w:]))
    digest = hashlib.sha256()
    for name, p in sorted(unet.state_dict().items()):
        digest.update(name.encode())
        digest.update(p.detach().numpy().tobytes())
    print(f"fine-tuned {args.steps} steps of {args.batch} on {n} images "
          f"({'UNet and text encoder' if train_text else 'UNet'}), {time.time() - t_start:.1f} s: "
          f"training loss {first:.4f} (first {w} steps) -> {last:.4f} (last {w}); held-out-noise "
          f"loss {before:.4f} -> {after:.4f}; UNet weights sha256 {digest.hexdigest()[:16]}")
    if not after < 0.9 * before:
        sys.exit(f"FAIL: the held-out-noise loss fell from {before:.4f} to {after:.4f} only "
                 "(less than 10%): the fine-tune learnt nothing")


if __name__ == "__main__":
    main()
