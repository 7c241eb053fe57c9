"""Checks the bundles that tests/diffusers/test-export.sh exported with scripts/export-diffusers.py
from the tiny pipeline of make_tiny_pipeline.py, against diffusers and transformers themselves:

    $PY tests/diffusers/check_export.py WORK_DIR

WORK_DIR holds sd/ (the pipeline, epsilon), sd-v/ (the same with a v_prediction scheduler), and
their exports bundle/ (float32, --dataset ../images.fgpack), bundle-v/ (float32) and bundle-16/
(--fp16). Prints one line per check; exits non-zero at the first failure.
"""
import importlib.util
import json
import os
import pathlib
import sys
import warnings

os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local: never reach a hub
warnings.filterwarnings("ignore")

import torch  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE.parent.parent
WORK = pathlib.Path(sys.argv[1])
RTOL = 1e-4
checks = 0


def ok(condition, what):
    global checks
    if not condition:
        sys.exit(f"FAIL: {what}")
    checks += 1
    print(f"ok: {what}")


def close(a, b, rtol, what):
    scale = max(float(b.abs().max()), 1e-6)
    diff = float((a.float() - b.float()).abs().max())
    ok(a.shape == b.shape and diff <= rtol * scale,
       f"{what}: max diff {diff:.3g} (largest {scale:.3g}, tolerance {rtol:g} x that)")
    return diff


def exporter():
    spec = importlib.util.spec_from_file_location("export_diffusers",
                                                  SOURCE / "scripts" / "export-diffusers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def device_constants(module):
    found = []

    def walk(block):
        for n in block.nodes():
            if n.kind() == "prim::Constant" and n.outputsSize() == 1 and \
                    n.output().type().kind() == "DeviceObjType":
                found.append(str(n))
            for b in n.blocks():
                walk(b)
    walk(module.inlined_graph)
    return found


def main():
    import diffusers
    from diffusers import AutoencoderKL, DDPMScheduler, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizerFast
    import transformers
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(1234)  # other inputs than the exporter's own checks

    sd = WORK / "sd"
    bundle = WORK / "bundle"
    manifest = json.loads((bundle / "bundle.json").read_text())
    m = manifest["model"]

    # bundle.json
    ok(manifest["format"] == "fastgda-bundle" and manifest["version"] == 1 and
       manifest["name"] == "tiny-sd" and manifest["dataset"] == "../images.fgpack",
       "bundle.json: format, version, name, dataset (passed through)")
    ok(m["kind"] == "torchscript", "model kind torchscript")
    ok(m["tokenizer"] == {"kind": "clip", "vocab": "tokenizer/vocab.json",
                          "merges": "tokenizer/merges.txt", "max_length": 77},
       f"model tokenizer {m['tokenizer']}")
    ok(m["schedule"] == {"kind": "scaled_linear", "steps": 1000, "beta_start": 0.00085,
                         "beta_end": 0.012}, f"model schedule {m['schedule']}")
    ok({k: m[k] for k in ("text_encoder", "image_encoder", "image_decoder", "denoiser")} ==
       {k: k + ".pt" for k in ("text_encoder", "image_encoder", "image_decoder", "denoiser")},
       "model part files")
    ok(m["image_size"] == 16 and m["latent_shape"] == [4, 8, 8],
       f"image_size {m['image_size']}, latent_shape {m['latent_shape']}")
    ok(m["cross_attention_kv"] == ["attn2.to_k", "attn2.to_v"], "cross_attention_kv")
    s = m["summary"]
    ok(s["source"] == "diffusers" and s["pipeline"] == "sd" and
       s["diffusers"] == diffusers.__version__ and s["dtype"] == "float32" and
       s["prediction_type"] == "epsilon" and set(s["parameters"]) == {
           "text_encoder", "image_encoder", "image_decoder", "denoiser"},
       f"summary {json.dumps({k: s[k] for k in ('source', 'pipeline', 'diffusers', 'dtype')})}")
    for f in ("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"):
        ok((bundle / "tokenizer" / f).read_bytes() == (sd / "tokenizer" / f).read_bytes(),
           f"tokenizer/{f} copied from the pipeline")
    ok(not list(WORK.glob(".*partial*")), "no temporary folder left beside the bundles")

    # The pipeline's own modules, loaded by the libraries.
    unet = UNet2DConditionModel.from_pretrained(sd, subfolder="unet",
                                                low_cpu_mem_usage=False).eval()
    vae = AutoencoderKL.from_pretrained(sd, subfolder="vae", low_cpu_mem_usage=False).eval()
    text = CLIPTextModel.from_pretrained(sd, subfolder="text_encoder").eval()
    tokenizer = CLIPTokenizerFast.from_pretrained(bundle / "tokenizer")
    scale = vae.config.scaling_factor

    parts = {p: torch.jit.load(str(bundle / f"{p}.pt")) for p in
             ("text_encoder", "image_encoder", "image_decoder", "denoiser")}
    ok(True, "every .pt loads with torch.jit.load")
    for p, module in parts.items():
        ok(not device_constants(module), f"{p}.pt: no fixed device in its graph")
        ok(all(t.dtype == torch.float32 for _, t in module.named_parameters()),
           f"{p}.pt: float32 weights")
    names = [n for n, _ in parts["denoiser"].named_parameters()]
    ours = {n[len("unet."):] for n in names}
    ok(ours == {n for n, _ in unet.named_parameters()},
       f"denoiser.pt keeps the UNet's {len(names)} parameter names (under 'unet.')")
    k = [n for n in names if "attn2.to_k" in n]
    v = [n for n in names if "attn2.to_v" in n]
    cross = {f"unet.{a}.{proj}.{p}" for a, mod in unet.named_modules()
             if type(mod).__name__ == "Attention" and mod.is_cross_attention
             for proj in ("to_k", "to_v") for p, _ in getattr(mod, proj).named_parameters()}
    ok(len(cross) == 8 and set(k + v) == cross,
       f"attn2.to_k / attn2.to_v select the {len(cross)} cross-attention key/value weights "
       "(4 attention layers: down 0, mid, up 1 x 2; no biases)")
    ok(len(list(parts["denoiser"].graph.inputs())) == 5,
       "denoiser.pt forward takes (x_t, t, context, padding)")

    prompts = ["a red apple", "a cat wearing a tiny hat, digital art", "Zebra!! 42"]
    with torch.no_grad():
        for b in (1, 3):
            tokens = tokenizer(prompts[:b], padding="max_length", max_length=77, truncation=True,
                               return_tensors="pt").input_ids
            context = parts["text_encoder"](tokens)
            close(context, text(tokens).last_hidden_state, RTOL, f"text_encoder.pt, batch {b}")
            images = torch.rand(b, 3, 16, 16) * 2 - 1
            latents = parts["image_encoder"](images)
            close(latents, vae.encode(images).latent_dist.mean * scale, RTOL,
                  f"image_encoder.pt (posterior mean x {scale}), batch {b}")
            z = torch.randn(b, 4, 8, 8)
            close(parts["image_decoder"](z), vae.decode(z / scale).sample.clamp(-1, 1), RTOL,
                  f"image_decoder.pt, batch {b}")
            x = torch.randn(b, 4, 8, 8)
            t = torch.randint(0, 1000, (b,))
            padding = tokens.eq(tokenizer.pad_token_id)
            eps = parts["denoiser"](x, t, context, padding)
            close(eps, unet(x, t, encoder_hidden_states=context).sample, RTOL,
                  f"denoiser.pt, batch {b}")
            ok(torch.equal(eps, parts["denoiser"](x, t, context, ~padding)),
               f"denoiser.pt ignores padding, batch {b}")

        # v_prediction: the denoiser returns eps = sqrt(abar_t) v + sqrt(1 - abar_t) x_t.
        mv = json.loads((WORK / "bundle-v" / "bundle.json").read_text())["model"]
        ok(mv["summary"]["prediction_type"] == "v_prediction", "bundle-v: v_prediction")
        scheduler = PNDMScheduler.from_pretrained(WORK / "sd-v", subfolder="scheduler")
        ok(scheduler.config.prediction_type == "v_prediction", "sd-v: v_prediction scheduler")
        den_v = torch.jit.load(str(WORK / "bundle-v" / "denoiser.pt"))
        ok(all(n in {a for a, _ in den_v.named_parameters()} for n in k + v),
           "bundle-v denoiser keeps attn2 names")
        b = 3
        x = torch.randn(b, 4, 8, 8)
        t = torch.tensor([0, 500, 999])
        context = torch.randn(b, 77, 32)
        vpred = unet(x, t, encoder_hidden_states=context).sample
        abar = scheduler.alphas_cumprod[t].reshape(-1, 1, 1, 1)
        by_hand = abar.sqrt() * vpred + (1 - abar).sqrt() * x
        got = den_v(x, t, context, torch.zeros(b, 77, dtype=torch.bool))
        close(got, by_hand, RTOL, "bundle-v denoiser.pt = sqrt(abar) v + sqrt(1 - abar) x_t")
        ok(float((got - vpred).abs().max()) > 1e-2, "bundle-v denoiser.pt is not the raw v")
        # The formula recovers the noise of diffusers' own forward process and velocity.
        ddpm = DDPMScheduler.from_config(scheduler.config)
        x0, noise = torch.randn(b, 4, 8, 8), torch.randn(b, 4, 8, 8)
        xt, vel = ddpm.add_noise(x0, noise, t), ddpm.get_velocity(x0, noise, t)
        close(abar.sqrt() * vel + (1 - abar).sqrt() * xt, noise, 1e-5,
              "sqrt(abar) v + sqrt(1 - abar) x_t is diffusers' noise (add_noise, get_velocity)")

        # --fp16: half weights for the text encoder and UNet (the VAE: force_upcast, float32),
        # float32 in and out, close to the float32 bundle.
        m16 = json.loads((WORK / "bundle-16" / "bundle.json").read_text())["model"]
        ok(m16["summary"]["dtype"] == "float16" and m16["summary"]["part_dtypes"] == {
            "text_encoder": "float16", "image_encoder": "float32", "image_decoder": "float32",
            "denoiser": "float16"}, f"bundle-16 dtypes {m16['summary']['part_dtypes']}")
        for p, want in (("text_encoder", torch.float16), ("denoiser", torch.float16),
                        ("image_encoder", torch.float32)):
            mod = torch.jit.load(str(WORK / "bundle-16" / f"{p}.pt"))
            ok(all(t.dtype == want for _, t in mod.named_parameters()), f"bundle-16 {p}.pt: {want}")
            parts[p + "16"] = mod
        tokens = tokenizer(prompts, padding="max_length", max_length=77, truncation=True,
                           return_tensors="pt").input_ids
        c16 = parts["text_encoder16"](tokens)
        ok(c16.dtype == torch.float32, "bundle-16 text_encoder.pt returns float32")
        close(c16, parts["text_encoder"](tokens), 1e-2, "bundle-16 text_encoder.pt vs float32")
        x, t = torch.randn(3, 4, 8, 8), torch.randint(0, 1000, (3,))
        e16 = parts["denoiser16"](x, t, c16, tokens.eq(tokenizer.pad_token_id))
        ok(e16.dtype == torch.float32, "bundle-16 denoiser.pt returns float32")
        close(e16, parts["denoiser"](x, t, c16, tokens.eq(tokenizer.pad_token_id)), 1e-2,
              "bundle-16 denoiser.pt vs float32")

    # The exporter's own pieces: the tolerance check refuses, a fixed device is found, and a
    # tokenizer saved by transformers 5 (tokenizer.json only) gives the same ids from the
    # vocab.json + merges.txt derived from it.
    ex = exporter()
    ref = torch.ones(1, 4)
    bad = ref.clone()
    bad[0, 0] += 2e-3
    try:
        ex.compare("denoiser", [bad], [ref], "float32")
        ok(False, "compare refuses a difference above the tolerance")
    except ex.ExportError as e:
        ok("denoiser" in str(e) and "0.002" in str(e) and "0.0001" in str(e),
           f"compare refuses: {e}")

    class Arange(torch.nn.Module):
        def forward(self, x):
            return x + torch.arange(x.shape[-1], device=x.device)
    traced = torch.jit.trace(Arange(), torch.zeros(2, 3))
    ok(ex.fixed_devices(torch, traced), "fixed_devices finds torch.arange(device=x.device)")

    saved = WORK / "tok-saved"
    CLIPTokenizerFast.from_pretrained(sd / "tokenizer").save_pretrained(saved)
    ok(not (saved / "vocab.json").exists(), "transformers saves tokenizer.json only")
    ex.copy_tokenizer(saved, WORK / "tok-derived")
    derived = CLIPTokenizerFast.from_pretrained(WORK / "tok-derived")
    for p in ex.PROMPTS:
        ok(derived(p).input_ids == tokenizer(p).input_ids,
           f"derived vocab.json + merges.txt give the same ids: {p[:30]!r}")
    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    main()
