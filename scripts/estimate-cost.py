#!/usr/bin/env python3
"""What the teacher and the student would cost on a Stable Diffusion-sized model: an estimate.

Counts the floating-point operations of a diffusers pipeline's parts (PyTorch's FlopCounterMode,
on the meta device: no weights are allocated) and multiplies them by the work the teacher does
(core/teacher/teacher_options.h): once per model it encodes the training images and captions,
collects N x L losses before unlearning and a Fisher over F samples; per query it takes the query's
gradient on Q samples (through the whole UNet, for the cross-attention key/value weights only)
and collects the N x L losses again. The student's query is one feature vector and a FAISS search.

  PY=~/.cache/fastgda/venv-torch2.11.0/bin/python
  $PY scripts/estimate-cost.py --sd15 --train-images 100000          # SD 1.5's published config
  $PY scripts/estimate-cost.py --pipeline PIPELINE_DIR --train-images 5000
  $PY scripts/estimate-cost.py --sd15 --time-forward                 # also time it on this machine

--time-forward builds the UNet with random weights on --device (3.4 GB for SD 1.5 in fp32) and
times forwards of one sample and gradients of one sample: the arithmetic is the same as with
trained weights. Times are then those measured times multiplied out, and marked as estimates.
"""

import argparse
import json
import os
import statistics
import sys
import time

# Stable Diffusion 1.5's published configs (unet/, vae/, text_encoder/ of the v1-5 pipeline),
# as diffusers and transformers take them; everything else is their defaults.
SD15_UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
                 block_out_channels=[320, 640, 1280, 1280], cross_attention_dim=768,
                 attention_head_dim=8)
SD15_UNET_PARAMETERS = 859_520_964  # the published count: checks that the config above is SD 1.5's
SD15_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
                block_out_channels=[128, 256, 512, 512], sample_size=512,
                down_block_types=["DownEncoderBlock2D"] * 4,
                up_block_types=["UpDecoderBlock2D"] * 4)
SD15_TEXT = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                 num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--sd15", action="store_true", help="Stable Diffusion 1.5's configs")
    src.add_argument("--pipeline", metavar="DIR", help="a diffusers pipeline folder (configs only)")
    ap.add_argument("--train-images", type=int, default=100_000, help="N (default 100,000)")
    ap.add_argument("--loss-timesteps", type=int, default=10, help="L (the teacher's default)")
    ap.add_argument("--query-samples", type=int, default=512, help="Q (the teacher's default)")
    ap.add_argument("--fisher-samples", type=int, default=1024, help="F (the teacher's default)")
    ap.add_argument("--rate", type=float, action="append", default=[],
                    help="also give times at this sustained rate, TFLOP/s (repeatable)")
    ap.add_argument("--time-forward", action="store_true",
                    help="time one UNet forward and one query gradient on --device")
    ap.add_argument("--device", default="cpu", help="for --time-forward (cpu, cuda)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for --time-forward")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    return ap.parse_args(argv)


def configs(args):
    if args.sd15:
        return SD15_UNET, SD15_VAE, SD15_TEXT, "Stable Diffusion 1.5"
    def read(part):
        path = os.path.join(args.pipeline, part, "config.json")
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"estimate-cost.py: {path}: {e}")
    return read("unet"), read("vae"), read("text_encoder"), args.pipeline


def build(torch, unet_cfg, vae_cfg, text_cfg, device):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel
    with torch.device(device):
        unet = UNet2DConditionModel.from_config(unet_cfg)
        vae = AutoencoderKL.from_config(vae_cfg)
        text = CLIPTextModel(CLIPTextConfig(**{k: v for k, v in text_cfg.items()
                                               if not k.startswith("_")}))
    return unet, vae, text


def unet_inputs(torch, unet, batch, device):
    c = unet.config
    size = c.sample_size if isinstance(c.sample_size, int) else c.sample_size[0]
    dim = c.cross_attention_dim if isinstance(c.cross_attention_dim, int) else c.cross_attention_dim[0]
    g = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(batch, c.in_channels, size, size, generator=g).to(device)
    context = torch.randn(batch, 77, dim, generator=g).to(device)
    t = torch.full((batch,), 500, dtype=torch.long, device=device)
    return x, t, context, size


def kv_weights(unet):
    """The teacher's default selection, cross-attn-kv: the UNet's attn2.to_k / attn2.to_v."""
    return [p for n, p in unet.named_parameters() if ".attn2.to_k." in n or ".attn2.to_v." in n]


def query_gradient(torch, unet, x, t, context):
    for p in unet.parameters():
        p.requires_grad_(False)
    kv = kv_weights(unet)
    for p in kv:
        p.requires_grad_(True)
    loss = unet(x, t, context).sample.pow(2).mean()
    torch.autograd.grad(loss, kv)


def count(torch, unet, vae, text):
    from torch.utils.flop_counter import FlopCounterMode
    x, t, context, size = unet_inputs(torch, unet, 1, "meta")
    flops = {}
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        unet(x, t, context)
    flops["unet_forward"] = fc.get_total_flops()
    with FlopCounterMode(display=False) as fc:
        query_gradient(torch, unet, x, t, context)
    flops["query_gradient"] = fc.get_total_flops()
    pixels = vae.config.sample_size if isinstance(vae.config.sample_size, int) else vae.config.sample_size[0]
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        vae.encode(torch.randn(1, 3, pixels, pixels, device="meta"))
    flops["vae_encode"] = fc.get_total_flops()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        text(torch.zeros(1, 77, dtype=torch.long, device="meta"))
    flops["text_encode"] = fc.get_total_flops()
    return flops, size, pixels


def timed(torch, fn, device, repeats=3):
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(torch, unet_cfg, device):
    from diffusers import UNet2DConditionModel
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(unet_cfg).to(device).eval()
    x, t, context, _ = unet_inputs(torch, unet, 1, device)
    with torch.no_grad():
        unet(x, t, context)  # warm-up: allocator, kernels
        forward = timed(torch, lambda: unet(x, t, context), device)
    gradient = timed(torch, lambda: query_gradient(torch, unet, x, t, context), device)
    return {"unet_forward_s": forward, "query_gradient_s": gradient}


def flop(n):
    for unit, size in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} FLOP"


def human(seconds):
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.1f} s"


def main(argv=None):
    args = parse_args(argv)
    import torch
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    unet_cfg, vae_cfg, text_cfg, name = configs(args)
    unet, vae, text = build(torch, unet_cfg, vae_cfg, text_cfg, "meta")
    parameters = sum(p.numel() for p in unet.parameters())
    if args.sd15 and parameters != SD15_UNET_PARAMETERS:
        sys.exit(f"estimate-cost.py: the SD 1.5 UNet config gives {parameters:,} parameters, "
                 f"expected {SD15_UNET_PARAMETERS:,} (a diffusers default changed?)")
    flops, latent, pixels = count(torch, unet, vae, text)
    n, l, q, f = args.train_images, args.loss_timesteps, args.query_samples, args.fisher_samples
    kv = sum(p.numel() for p in kv_weights(unet))
    once = (n * (flops["vae_encode"] + flops["text_encode"]) + n * l * flops["unet_forward"]
            + f * flops["query_gradient"])
    per_query = q * flops["query_gradient"] + n * l * flops["unet_forward"]
    out = {"model": name, "unet_parameters": parameters, "kv_parameters": kv,
           "image_size": pixels, "latent_size": latent, "flops": flops,
           "train_images": n, "loss_timesteps": l, "query_samples": q, "fisher_samples": f,
           "teacher_once_flops": once, "teacher_per_query_flops": per_query,
           # weights in fp32, plus the selected weights' saved copy, Fisher and gradient
           "teacher_weight_bytes": 4 * (parameters + 3 * kv)}
    if args.time_forward:
        out["measured"] = measure(torch, unet_cfg, args.device)
        out["measured"]["device"] = args.device
        out["measured"]["threads"] = torch.get_num_threads()
        m = out["measured"]
        out["teacher_per_query_s"] = q * m["query_gradient_s"] + n * l * m["unet_forward_s"]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{name}: UNet {parameters:,} parameters ({kv:,} in cross-attention K/V), "
          f"{pixels} px images, {latent}x{latent} latents")
    print(f"  one UNet forward {flop(flops['unet_forward'])}; one query sample's gradient "
          f"(cross-attn-kv) {flop(flops['query_gradient'])}")
    print(f"  VAE encoder {flop(flops['vae_encode'])} per image; text encoder "
          f"{flop(flops['text_encode'])} per caption")
    print(f"teacher, N = {n:,} training images, L = {l}, Q = {q}, F = {f}:")
    print(f"  once per model {flop(once)}; per query {flop(per_query)} "
          f"(the N x L losses: {n * l * flops['unet_forward'] / per_query:.1%})")
    print(f"  weights it holds: {out['teacher_weight_bytes'] / 1e9:.2f} GB in fp32 (activations "
          "aside)")
    for rate in args.rate:
        print(f"  at {rate:g} TFLOP/s sustained: once {human(once / (rate * 1e12))}, per query "
              f"{human(per_query / (rate * 1e12))} (estimate)")
    if args.time_forward:
        m = out["measured"]
        print(f"measured on {m['device']} ({m['threads']} threads): one UNet forward "
              f"{m['unet_forward_s']:.2f} s ({flops['unet_forward'] / m['unet_forward_s'] / 1e9:,.0f} "
              f"GFLOP/s), one query sample's gradient {m['query_gradient_s']:.2f} s")
        print(f"  so one teacher query here: {human(out['teacher_per_query_s'])} (estimate: the "
              "measured times multiplied out)")


if __name__ == "__main__":
    main()
