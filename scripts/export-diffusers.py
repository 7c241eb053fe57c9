#!/usr/bin/env python3
"""Exports a diffusers Stable Diffusion (1.x/2.x) text-to-image pipeline as a FastGDA bundle whose
model is TorchScript (bundle.json's model kind "torchscript", core/model/model.h):

    PY=~/.cache/fastgda/venv-torch2.11.0/bin/python  # with scripts/requirements-diffusers.txt
    $PY scripts/export-diffusers.py PIPELINE_DIR OUT_DIR [--name NAME] [--fp16]
        [--device cpu|cuda] [--dataset PATH] [--allow-download]

PIPELINE_DIR is a folder saved by diffusers' save_pretrained (or a downloaded snapshot) with
unet/, vae/, text_encoder/, tokenizer/ and scheduler/. Nothing is downloaded: HF_HUB_OFFLINE=1 is
set before diffusers is imported. Only with --allow-download may PIPELINE_DIR be a hub id
("owner/name"); then the five components' configs, tokenizer files and (non-variant) weights are
fetched into the hub cache (unless HF_HUB_OFFLINE=1 is already set in the environment).

OUT_DIR (must not exist, or be empty) receives:
  bundle.json          {"format": "fastgda-bundle", "version": 1, "name": ..., ["dataset": ...,]
                        "model": {"kind": "torchscript", "tokenizer": {"kind": "clip", ...},
                        "schedule": {...}, "text_encoder": "text_encoder.pt", ..., "summary": ...}}
  tokenizer/           the pipeline's vocab.json, merges.txt, special_tokens_map.json and
                       tokenizer_config.json (vocab.json and merges.txt are derived from
                       tokenizer.json when the pipeline has only that)
  text_encoder.pt      forward(tokens [B,L] int64) -> context [B,L,D]: CLIPTextModel's
                       last_hidden_state (no attention mask, as SD pipelines call it)
  image_encoder.pt     forward(images [B,3,S,S] in [-1,1]) -> latents [B,C,h,w]: the VAE
                       posterior's mean (deterministic), minus shift_factor, times scaling_factor
  image_decoder.pt     forward(latents [B,C,h,w]) -> images [B,3,S,S] clamped to [-1,1]
  denoiser.pt          forward(x_t [B,C,h,w], t [B] int64, context [B,L,D], padding [B,L] bool)
                       -> predicted noise [B,C,h,w]. padding is ignored (SD does not mask the
                       context). A v_prediction UNet's output v is turned into noise inside the
                       module: eps = sqrt(abar_t) v + sqrt(1 - abar_t) x_t, abar being the
                       scheduler's alphas_cumprod (a buffer). "sample" prediction is refused.
Each part is torch.jit.trace of a small wrapper, traced with a batch of 2 and checked against the
diffusers/transformers module for batches of 1, 2 and 3 on seeded inputs: the export is refused
when max |traced - python| exceeds the tolerance (1e-4 of the output's largest magnitude in
float32, 1e-2 with --fp16) or when a traced graph holds a fixed device (a file that would run on
one device only). The denoiser keeps the UNet's parameter names under "unet." (e.g.
unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight), which the bundle's
"cross_attention_kv" substrings select.

--fp16 stores half-precision weights: for CUDA (LibTorch's CPU half kernels are slow, and some
are missing). Inputs and outputs stay float32: each wrapper casts at its boundaries. The VAE stays
float32 when its config says force_upcast (the default; SD's VAE can overflow in float16).
The files need LibTorch 2.x (scaled_dot_product_attention): the PyTorch 2.x build
(scripts/build-torch2.sh, docs/gpu.md).

The bundle is written into a temporary folder beside OUT_DIR and renamed at the end: a failed
export leaves nothing. Errors exit with status 1 and one line "export-diffusers.py: error: ...".
"""
import argparse
import json
import math
import os
import pathlib
import shutil
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also when loaded by a test
import torchscript_bytes  # noqa: E402

PROG = "export-diffusers.py"
COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
CONFIG_FILES = {"unet": "config.json", "vae": "config.json", "text_encoder": "config.json",
                "scheduler": "scheduler_config.json"}
TOKENIZER_FILES = ("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json")
CLIP_TOKENIZERS = ("CLIPTokenizer", "CLIPTokenizerFast")
RTOL = {"float32": 1e-4, "float16": 1e-2}
CHECK_BATCHES = (1, 2, 3)
TRACE_BATCH = 2
# Prompts whose ids the text encoder is checked with and the bundle's tokenizer files are
# compared on (one longer than 77 tokens: truncation).
PROMPTS = [
    "a photo of an astronaut riding a horse on mars",
    "Red apple, Google style -- 3D emoji!",
    "",
    "an oil painting of a lighthouse at dusk, waves crashing, dramatic light, highly detailed, "
    "trending on artstation, by a famous painter, in the style of the old masters, with gold "
    "leaf and a wooden frame, under a stormy sky full of seagulls and rain clouds, 8k",
    "caf\u00e9 na\u00efve \u00fcber \u65e5\u672c \U0001F600 don't STOP",
]


class ExportError(Exception):
    pass


def log(*parts):
    print(*parts, flush=True)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Export a diffusers Stable Diffusion pipeline as a FastGDA "
        "TorchScript bundle (see the module docstring for the bundle's layout).")
    ap.add_argument("pipeline", metavar="PIPELINE_DIR",
                    help="a saved diffusers pipeline folder (a hub id only with --allow-download)")
    ap.add_argument("out_dir", metavar="OUT_DIR", help="the bundle folder to write (new or empty)")
    ap.add_argument("--name", help="the bundle's name (default: the pipeline's folder name)")
    ap.add_argument("--fp16", action="store_true",
                    help="store float16 weights, for CUDA (inputs and outputs stay float32)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where to trace and check (default cpu)")
    ap.add_argument("--dataset", help="bundle.json's 'dataset', written as given (relative paths "
                    "are relative to OUT_DIR)")
    ap.add_argument("--allow-download", action="store_true",
                    help="let PIPELINE_DIR be a hub id and fetch it (default: offline)")
    return ap.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# The pipeline folder: what must be there, before anything heavy is imported or loaded.

def read_json(path):
    try:
        return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ExportError(f"{path}: cannot read JSON: {e}") from None


def download(repo_id):
    """A local snapshot of the hub pipeline repo_id: model_index.json, the five components' JSON
    and tokenizer files, and each model's non-variant weights (safetensors, else .bin)."""
    from huggingface_hub import HfApi, snapshot_download
    try:
        files = HfApi().list_repo_files(repo_id)
        allow = ["model_index.json", "tokenizer/*"]
        allow += [f"{c}/*.json" for c in COMPONENTS]
        for c in ("unet", "vae", "text_encoder"):
            top = [f for f in files if f.startswith(c + "/") and f.count("/") == 1]
            plain = [f for f in top if len(pathlib.Path(f).name.split(".")) == 2]  # no .fp16. etc
            weights = ([f for f in plain if f.endswith(".safetensors")] or
                       [f for f in plain if f.endswith(".bin")])
            allow += weights
        return pathlib.Path(snapshot_download(repo_id, allow_patterns=allow))
    except Exception as e:  # noqa: BLE001 - any hub error becomes one line
        raise ExportError(f"{repo_id}: cannot download the pipeline: {type(e).__name__}: {e}")


def check_pipeline(folder, label):
    """Raises ExportError unless `folder` looks like an SD text-to-image pipeline. Returns
    (model_index or {}, the tokenizer class name)."""
    missing = [c for c in COMPONENTS if not (folder / c).is_dir()]
    if missing:
        raise ExportError(
            f"{label}: not a text-to-image Stable Diffusion pipeline: missing "
            f"{', '.join(m + '/' for m in missing)} (needs unet/, vae/, text_encoder/, "
            f"tokenizer/ and scheduler/)")
    for c, f in CONFIG_FILES.items():
        if not (folder / c / f).is_file():
            raise ExportError(f"{label}: {c}/{f} is missing")
    index_file = folder / "model_index.json"
    index = read_json(index_file) if index_file.is_file() else {}
    if index.get("text_encoder_2") or index.get("tokenizer_2"):
        raise ExportError(f"{label}: a pipeline with two text encoders ({index.get('_class_name')},"
                          " e.g. SDXL) is not supported: only Stable Diffusion 1.x/2.x pipelines")
    expected = {"unet": ("UNet2DConditionModel",), "vae": ("AutoencoderKL",),
                "text_encoder": ("CLIPTextModel",)}
    for c, classes in expected.items():
        entry = index.get(c)
        if isinstance(entry, list) and len(entry) == 2 and entry[1] not in classes:
            raise ExportError(f"{label}: {c} is a {entry[1]}, expected {' or '.join(classes)}")
    # The tokenizer: CLIP's byte-level BPE only (the C++ side reads vocab.json + merges.txt).
    tok = folder / "tokenizer"
    config = read_json(tok / "tokenizer_config.json") if (tok / "tokenizer_config.json").is_file() \
        else {}
    entry = index.get("tokenizer")
    cls = config.get("tokenizer_class") or (entry[1] if isinstance(entry, list) else None)
    if cls not in CLIP_TOKENIZERS:
        raise ExportError(f"{label}: tokenizer/ is a {cls or 'tokenizer of unknown class'}, not a "
                          "CLIP tokenizer (CLIPTokenizer or CLIPTokenizerFast): FastGDA's C++ "
                          "tokenizer reads CLIP's vocab.json and merges.txt only")
    if not ((tok / "vocab.json").is_file() and (tok / "merges.txt").is_file()) and \
            not (tok / "tokenizer.json").is_file():
        raise ExportError(f"{label}: tokenizer/ has neither vocab.json + merges.txt nor "
                          "tokenizer.json")
    return index, cls


def read_schedule(folder, label):
    """(bundle schedule member, prediction_type, scheduler class name) from
    scheduler/scheduler_config.json; ExportError for what the C++ NoiseSchedule cannot express."""
    path = folder / "scheduler" / "scheduler_config.json"
    c = read_json(path)
    kind = c.get("beta_schedule", "linear")
    if c.get("trained_betas") is not None:
        raise ExportError(f"{path}: trained_betas (a list of betas) is not supported: FastGDA's "
                          "schedule is 'scaled_linear' or 'linear' between beta_start and beta_end")
    if kind not in ("scaled_linear", "linear"):
        raise ExportError(f"{path}: beta_schedule '{kind}' is not supported (FastGDA's noise "
                          "schedule, core/model/schedule.h, is 'scaled_linear' or 'linear')")
    if c.get("rescale_betas_zero_snr"):
        raise ExportError(f"{path}: rescale_betas_zero_snr is not supported (FastGDA's schedule "
                          "has no zero-SNR rescaling)")
    prediction = c.get("prediction_type", "epsilon")
    if prediction == "sample":
        raise ExportError(f"{path}: prediction_type 'sample' is not supported: the denoiser must "
                          "predict noise (epsilon), or v (v_prediction, converted on export)")
    if prediction not in ("epsilon", "v_prediction"):
        raise ExportError(f"{path}: prediction_type '{prediction}' is unknown")
    schedule = {"kind": kind, "steps": int(c.get("num_train_timesteps", 1000)),
                "beta_start": float(c.get("beta_start", 0.0001)),
                "beta_end": float(c.get("beta_end", 0.02))}
    s = schedule
    if s["steps"] < 2 or not (0 < s["beta_start"] <= s["beta_end"] < 1):
        raise ExportError(f"{path}: unsupported betas: needs num_train_timesteps >= 2 and "
                          f"0 < beta_start <= beta_end < 1, has {s}")
    return schedule, prediction, c.get("_class_name", "?")


# ---------------------------------------------------------------------------------------------
# Tracing and checking.

def wrappers(torch):
    """The TorchScript wrappers' classes (defined here: torch is imported late)."""
    nn = torch.nn

    class TextEncoder(nn.Module):
        def __init__(self, text_encoder):
            super().__init__()
            self.text_encoder = text_encoder

        def forward(self, tokens):
            out = self.text_encoder(input_ids=tokens, return_dict=True)
            return out.last_hidden_state.float()

    class ImageEncoder(nn.Module):
        # Only the encoder half of the VAE (the file holds no decoder weights).
        def __init__(self, vae, dtype):
            super().__init__()
            self.encoder, self.quant_conv = vae.encoder, vae.quant_conv
            self.dtype, self.scale = dtype, float(vae.config.scaling_factor)
            self.shift = float(getattr(vae.config, "shift_factor", None) or 0.0)

        def forward(self, images):
            h = self.encoder(images.to(self.dtype))
            if self.quant_conv is not None:
                h = self.quant_conv(h)
            mean = torch.chunk(h, 2, dim=1)[0].float()  # DiagonalGaussianDistribution.mean
            return (mean - self.shift) * self.scale

    class ImageDecoder(nn.Module):
        def __init__(self, vae, dtype):
            super().__init__()
            self.post_quant_conv, self.decoder = vae.post_quant_conv, vae.decoder
            self.dtype, self.scale = dtype, float(vae.config.scaling_factor)
            self.shift = float(getattr(vae.config, "shift_factor", None) or 0.0)

        def forward(self, latents):
            z = (latents.float() / self.scale + self.shift).to(self.dtype)
            if self.post_quant_conv is not None:
                z = self.post_quant_conv(z)
            return self.decoder(z).float().clamp(-1.0, 1.0)

    class Denoiser(nn.Module):
        def __init__(self, unet, dtype, alphas_cumprod=None):
            super().__init__()
            self.unet, self.dtype = unet, dtype
            self.v_prediction = alphas_cumprod is not None
            if self.v_prediction:
                self.register_buffer("alphas_cumprod", alphas_cumprod.float().clone())

        def forward(self, x, t, context, padding):
            # padding [B, L] bool is part of the contract; SD does not mask its context.
            t = t.reshape(-1).expand(x.shape[0])  # one timestep per sample, whatever the batch
            out = self.unet(x.to(self.dtype), t, encoder_hidden_states=context.to(self.dtype),
                            return_dict=False)[0].float()
            if self.v_prediction:
                a = self.alphas_cumprod[t].reshape(-1, 1, 1, 1)
                out = a.sqrt() * out + (1.0 - a).sqrt() * x.float()
            return out

    class Timesteps(nn.Module):
        """diffusers' Timesteps (get_timestep_embedding) with its frequencies as a buffer: the
        original makes them with torch.arange(device=timesteps.device), which a trace records as
        a fixed device. Same operations, so the same numbers."""

        def __init__(self, original, device):
            super().__init__()
            n, shift = original.num_channels, original.downscale_freq_shift
            half = n // 2
            exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32,
                                                       device=device)
            self.register_buffer("freqs", torch.exp(exponent / (half - shift)))
            self.n, self.half = n, half
            self.flip, self.scale = original.flip_sin_to_cos, original.scale

        def forward(self, timesteps):
            emb = timesteps[:, None].float() * self.freqs[None, :]
            emb = self.scale * emb
            emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
            if self.flip:
                emb = torch.cat([emb[:, self.half:], emb[:, :self.half]], dim=-1)
            if self.n % 2 == 1:
                emb = torch.nn.functional.pad(emb, (0, 1, 0, 0))
            return emb

    return TextEncoder, ImageEncoder, ImageDecoder, Denoiser, Timesteps


def fixed_devices(torch, module):
    """Source lines of the device constants in a traced module's graph (code that would run on the
    trace's device only)."""
    found = []

    def walk(block):
        for node in block.nodes():
            if node.kind() == "prim::Constant" and node.outputsSize() == 1 and \
                    node.output().type().kind() == "DeviceObjType":
                where = node.sourceRange().strip().split("\n")[0] if node.sourceRange() else "?"
                found.append(f"{node.output().toIValue()} at {where}")
            for b in node.blocks():
                walk(b)
    walk(module.inlined_graph)
    return found


def compare(part, outs, refs, dtype, refs32=None):
    """Prints and checks max |traced - python| for each batch; ExportError above the tolerance."""
    worst = 0.0
    for b, out, ref in zip(CHECK_BATCHES, outs, refs):
        if tuple(out.shape) != tuple(ref.shape):
            raise ExportError(f"{part}: traced output has shape {list(out.shape)} for a batch of "
                              f"{b}, the Python module's {list(ref.shape)}")
        if not bool(out.isfinite().all()):
            raise ExportError(f"{part}: traced output is not finite for a batch of {b}")
        scale = max(float(ref.abs().max()), 1e-6)
        diff = float((out - ref).abs().max())
        tol = RTOL[dtype] * scale
        worst = max(worst, diff / scale)
        line = (f"  {part}: batch {b}: max |traced - python| = {diff:.3g} (largest |output| "
                f"{scale:.3g}, tolerance {tol:.3g} = {RTOL[dtype]:g} x that)")
        if refs32 is not None:
            d32 = float((out - refs32[CHECK_BATCHES.index(b)]).abs().max())
            line += f"; vs float32: {d32:.3g}"
        log(line)
        if not diff <= tol:
            raise ExportError(f"{part}: the traced module differs from the Python module by "
                              f"{diff:.3g} for a batch of {b}, above the tolerance {tol:.3g} "
                              f"({RTOL[dtype]:g} x the output's largest magnitude {scale:.3g})")
    return worst


def export(args):
    t_start = time.time()
    # Offline unless the user allowed a download (an HF_HUB_OFFLINE=1 of theirs stays).
    if not args.allow_download:
        os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

    out_dir = pathlib.Path(args.out_dir).absolute()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir}: exists and is not an empty folder")

    source = pathlib.Path(args.pipeline)
    if source.is_dir():
        folder, label = source.absolute(), str(source)
        pipeline_name = folder.name
    elif source.exists():
        raise ExportError(f"{source}: not a folder (expected a saved diffusers pipeline folder)")
    elif args.allow_download:
        if args.pipeline.count("/") != 1:
            raise ExportError(f"{args.pipeline}: no such folder, and not a hub id (owner/name)")
        folder, label = download(args.pipeline), args.pipeline
        pipeline_name = args.pipeline
    else:
        raise ExportError(f"{args.pipeline}: no such folder (a hub id is downloaded only with "
                          "--allow-download; this script is offline by default)")

    index, tokenizer_class = check_pipeline(folder, label)
    schedule, prediction, scheduler_class = read_schedule(folder, label)
    dtype_name = "float16" if args.fp16 else "float32"

    warnings.filterwarnings("ignore")  # tracer warnings: the traces are checked numerically
    import torch
    import diffusers
    import transformers
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizerFast
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    if args.device == "cuda" and not torch.cuda.is_available():
        raise ExportError("--device cuda: this PyTorch sees no CUDA device")
    device = torch.device(args.device)
    if args.fp16 and args.device == "cpu":
        log("note: --fp16 exports are for CUDA; tracing and checking them on the CPU")
    export_dtype = torch.float16 if args.fp16 else torch.float32

    log(f"{PROG}: {label} ({index.get('_class_name', 'pipeline')}, diffusers "
        f"{diffusers.__version__}, torch {torch.__version__}) -> {out_dir} ({dtype_name}, "
        f"{args.device})")
    local = {"local_files_only": True}
    try:
        unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet",
                                                    torch_dtype=torch.float32, **local)
        vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", torch_dtype=torch.float32,
                                            **local)
        text_encoder = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder",
                                                     dtype=torch.float32, **local)
        tokenizer = CLIPTokenizerFast.from_pretrained(folder / "tokenizer", **local)
        scheduler_cls = getattr(diffusers, scheduler_class, None)
        if scheduler_cls is None:
            raise ExportError(f"{label}: scheduler class '{scheduler_class}' is not in diffusers "
                              f"{diffusers.__version__}")
        scheduler = scheduler_cls.from_pretrained(folder, subfolder="scheduler", **local)
    except ExportError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken component becomes one line
        raise ExportError(f"{label}: cannot load the pipeline: {type(e).__name__}: {e}") from None
    for m in (unet, vae, text_encoder):
        m.eval().requires_grad_(False).to(device)

    # What FastGDA's fixed interfaces need of the modules.
    uc, vc, tc = unet.config, vae.config, text_encoder.config
    for field in ("class_embed_type", "addition_embed_type", "encoder_hid_dim",
                  "time_cond_proj_dim"):
        if getattr(uc, field, None) is not None:
            raise ExportError(f"{label}: unet/config.json has {field} = {getattr(uc, field)!r}: "
                              "only plain text-conditioned UNets (SD 1.x/2.x) are supported")
    if uc.in_channels != vc.latent_channels or uc.out_channels != vc.latent_channels:
        raise ExportError(f"{label}: the UNet takes {uc.in_channels} channels and gives "
                          f"{uc.out_channels}, the VAE's latents have {vc.latent_channels} (an "
                          "inpainting or depth pipeline?): only text-to-image pipelines")
    if uc.cross_attention_dim != tc.hidden_size:
        raise ExportError(f"{label}: the UNet's cross_attention_dim {uc.cross_attention_dim} is "
                          f"not the text encoder's hidden size {tc.hidden_size}")
    factor = 2 ** (len(vc.block_out_channels) - 1)
    sample = uc.sample_size if isinstance(uc.sample_size, int) else uc.sample_size[0]
    image_size = sample * factor
    latent_shape = [vc.latent_channels, sample, sample]
    max_length = int(tokenizer.model_max_length)
    if max_length > tc.max_position_embeddings:
        max_length = tc.max_position_embeddings  # a config without model_max_length: 1e30
    vae_dtype = torch.float32 if getattr(vc, "force_upcast", True) else export_dtype

    # The scheduler's alphas_cumprod (float32, as diffusers computes them) against the float64
    # formula of core/model/schedule.cpp: information, and a guard against a kind we misread.
    ac = scheduler.alphas_cumprod.float()
    b0, b1, n = schedule["beta_start"], schedule["beta_end"], schedule["steps"]
    if schedule["kind"] == "scaled_linear":
        betas64 = torch.linspace(b0 ** 0.5, b1 ** 0.5, n, dtype=torch.float64) ** 2
    else:
        betas64 = torch.linspace(b0, b1, n, dtype=torch.float64)
    ac64 = torch.cumprod(1.0 - betas64, 0)
    ac_diff = float((ac.double() - ac64).abs().max()) if ac.numel() == n else math.inf
    log(f"  schedule {schedule}: scheduler's alphas_cumprod vs the C++ formula (float64): max "
        f"diff {ac_diff:.3g}")
    if not ac_diff < 1e-5:
        raise ExportError(f"{label}: unsupported betas: {scheduler_class}'s alphas_cumprod differ "
                          f"from FastGDA's '{schedule['kind']}' schedule by {ac_diff:.3g}")

    TextW, EncW, DecW, DenW, TimestepsW = wrappers(torch)
    gen = torch.Generator().manual_seed(0)
    L, D, C, h = max_length, tc.hidden_size, vc.latent_channels, sample

    def ids(prompts):
        return tokenizer(prompts, padding="max_length", max_length=L, truncation=True,
                         return_tensors="pt").input_ids
    tokens = {b: ids(PROMPTS[:b] if b != 2 else PROMPTS[2:4]) for b in CHECK_BATCHES}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else \
        tokenizer.eos_token_id
    inputs = {
        "text_encoder": {b: (tokens[b],) for b in CHECK_BATCHES},
        "image_encoder": {b: (torch.rand(b, 3, image_size, image_size, generator=gen) * 2 - 1,)
                          for b in CHECK_BATCHES},
        "image_decoder": {b: (torch.randn(b, C, h, h, generator=gen),) for b in CHECK_BATCHES},
        "denoiser": {b: (torch.randn(b, C, h, h, generator=gen),
                         torch.randint(0, n, (b,), generator=gen),
                         torch.randn(b, L, D, generator=gen), tokens[b].eq(pad_id))
                     for b in CHECK_BATCHES},
    }
    inputs = {p: {b: tuple(x.to(device) for x in v) for b, v in d.items()}
              for p, d in inputs.items()}
    ac_dev = ac.to(device)

    # The references: the libraries' own calls, as a diffusers pipeline makes them.
    def ref_text(tok):
        return text_encoder(tok).last_hidden_state.float()

    def ref_encode(img):
        z = vae.encode(img.to(vae.dtype)).latent_dist.mean.float()
        return (z - float(getattr(vc, "shift_factor", None) or 0.0)) * vc.scaling_factor

    def ref_decode(z):
        z = z / vc.scaling_factor + float(getattr(vc, "shift_factor", None) or 0.0)
        return vae.decode(z.to(vae.dtype)).sample.float().clamp(-1, 1)

    def ref_denoise(x, t, context, padding):
        out = unet(x.to(unet.dtype), t, encoder_hidden_states=context.to(unet.dtype)).sample
        out = out.float()
        if prediction == "v_prediction":
            a = ac_dev[t].reshape(-1, 1, 1, 1)
            out = a.sqrt() * out + (1 - a).sqrt() * x
        return out
    refs = {"text_encoder": ref_text, "image_encoder": ref_encode, "image_decoder": ref_decode,
            "denoiser": ref_denoise}

    with torch.no_grad():
        refs32 = None
        if args.fp16:  # float32 results first, for information
            refs32 = {p: [refs[p](*inputs[p][b]) for b in CHECK_BATCHES] for p in refs}
            text_encoder.to(export_dtype)
            unet.to(export_dtype)
            vae.to(vae_dtype)
        # diffusers' timestep embedding makes its frequencies on the input's device: a trace
        # would keep that device. Trace a copy of the same computation with them as a buffer.
        original_time_proj = unet.time_proj
        parts = [
            ("text_encoder", TextW(text_encoder), text_encoder.dtype),
            ("image_encoder", EncW(vae, vae_dtype), vae_dtype),
            ("image_decoder", DecW(vae, vae_dtype), vae_dtype),
            ("denoiser", DenW(unet, export_dtype,
                              ac if prediction == "v_prediction" else None).to(device),
             export_dtype),
        ]
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-",
                                            dir=out_dir.parent))
        try:
            counts, dtypes, checks, sizes = {}, {}, {}, {}
            for name, wrapper, part_dtype in parts:
                t0 = time.time()
                part_dtype_name = str(part_dtype).replace("torch.", "")
                if name == "denoiser":
                    unet.time_proj = TimestepsW(original_time_proj, device).to(device)
                try:
                    traced = torch.jit.trace(wrapper, inputs[name][TRACE_BATCH], check_trace=False)
                finally:
                    unet.time_proj = original_time_proj
                fixed = fixed_devices(torch, traced)
                if fixed:
                    raise ExportError(f"{name}: the traced graph holds a fixed device, so the file "
                                      f"would run on {args.device} only: {fixed[0]}")
                file = tmp / f"{name}.pt"
                torchscript_bytes.save(torch, traced, file)  # the same bytes every export
                loaded = torch.jit.load(str(file), map_location=device)
                outs = [loaded(*inputs[name][b]) for b in CHECK_BATCHES]
                ref = [refs[name](*inputs[name][b]) for b in CHECK_BATCHES]
                checks[name] = compare(name, outs, ref, part_dtype_name,
                                       refs32[name] if refs32 else None)
                counts[name] = sum(p.numel() for _, p in loaded.named_parameters())
                dtypes[name] = part_dtype_name
                sizes[name] = file.stat().st_size
                log(f"  {name}.pt: {counts[name]:,} parameters, {sizes[name] / 1e6:.2f} MB, "
                    f"{time.time() - t0:.1f} s")

            # The tokenizer files, and a check that they give the pipeline tokenizer's ids.
            tok_out = tmp / "tokenizer"
            copy_tokenizer(folder / "tokenizer", tok_out)
            again = CLIPTokenizerFast.from_pretrained(tok_out, local_files_only=True)
            for p in PROMPTS:
                a = tokenizer(p, padding="max_length", max_length=L, truncation=True).input_ids
                b = again(p, padding="max_length", max_length=L, truncation=True).input_ids
                if a != b:
                    raise ExportError(f"tokenizer: the bundle's tokenizer files give other ids "
                                      f"than the pipeline's tokenizer for {p!r}")

            model = {
                "kind": "torchscript",
                "tokenizer": {"kind": "clip", "vocab": "tokenizer/vocab.json",
                              "merges": "tokenizer/merges.txt", "max_length": L},
                "schedule": schedule,
                "text_encoder": "text_encoder.pt",
                "image_encoder": "image_encoder.pt",
                "image_decoder": "image_decoder.pt",
                "denoiser": "denoiser.pt",
                "image_size": image_size,
                "latent_shape": latent_shape,
                "cross_attention_kv": ["attn2.to_k", "attn2.to_v"],
                "summary": {
                    "source": "diffusers",
                    "pipeline": pipeline_name,
                    "diffusers": diffusers.__version__,
                    "torch": torch.__version__,
                    "dtype": dtype_name,
                    "part_dtypes": dtypes,
                    "prediction_type": prediction,
                    "scheduler": scheduler_class,
                    "tokenizer": tokenizer_class,
                    "scaling_factor": float(vc.scaling_factor),
                    "parameters": counts,
                    "max_relative_difference": {k: float(f"{v:.3g}") for k, v in checks.items()},
                },
            }
            kv = [k for k, _ in loaded.named_parameters() if "attn2.to_k" in k or
                  "attn2.to_v" in k]
            if not kv:
                raise ExportError("denoiser: no parameter name contains attn2.to_k or attn2.to_v "
                                  "(no cross-attention?)")
            bundle = {"format": "fastgda-bundle", "version": 1,
                      "name": args.name or pipeline_name.replace("/", "-")}
            if args.dataset is not None:
                bundle["dataset"] = args.dataset
            bundle["model"] = model
            (tmp / "bundle.json").write_text(json.dumps(bundle, indent=2) + "\n",
                                             encoding="utf-8")
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's folder is private
            if out_dir.exists():
                out_dir.rmdir()  # empty (checked above)
            os.rename(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log(f"wrote {out_dir}: image_size {image_size}, latent_shape {latent_shape}, context "
        f"[{L}, {D}], {len(kv)} cross-attention key/value tensors, {time.time() - t_start:.1f} s")
    if args.dataset is None:
        log("note: bundle.json has no 'dataset': FastGDA opens a bundle only with one (pass "
            "--dataset PATH, or add the member later)")


def copy_tokenizer(src, dst):
    """vocab.json, merges.txt and the two config files into dst; vocab.json and merges.txt from
    tokenizer.json (a BPE model) when the pipeline has only that (transformers 5 saves so)."""
    dst.mkdir()
    for f in TOKENIZER_FILES:
        if (src / f).is_file():
            shutil.copyfile(src / f, dst / f)
    if (dst / "vocab.json").is_file() and (dst / "merges.txt").is_file():
        return
    t = read_json(src / "tokenizer.json")
    model = t.get("model", {})
    if model.get("type") != "BPE" or not isinstance(model.get("vocab"), dict):
        raise ExportError(f"{src}/tokenizer.json: not a BPE tokenizer model (CLIP's)")
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    vocab = dict(model["vocab"])
    for added in t.get("added_tokens", []):
        vocab.setdefault(added["content"], added["id"])
    (dst / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (dst / "merges.txt").write_text("#version: 0.2\n" + "".join(m + "\n" for m in merges),
                                    encoding="utf-8")


def main(argv=None):
    torchscript_bytes.require_hash_seed()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        export(args)
    except ExportError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
