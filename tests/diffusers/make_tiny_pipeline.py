"""Builds a tiny Stable Diffusion 1.x-shaped pipeline with seeded random weights, offline, and saves
it with save_pretrained, for tests of scripts/export-diffusers.py (and, through its export, of the
C++ TorchScript model):

    PY=~/.cache/fastgda/venv-torch2.11.0/bin/python   # with scripts/requirements-diffusers.txt
    $PY tests/diffusers/make_tiny_pipeline.py OUT_DIR [--prediction-type epsilon|v_prediction]

OUT_DIR/ then holds model_index.json and:
  unet/          UNet2DConditionModel: sample 8x8, 4 channels in and out, block_out_channels
                 (32, 64), one layer per block, cross-attention (8 heads) on the 32-wide context
                 in the first down block, the middle block and the last up block (4 attention
                 layers: 793k parameters)
  vae/           AutoencoderKL: 3 channels, block_out_channels (32, 64) (one downsampling: x2),
                 4 latent channels, sample_size 16, scaling_factor 0.18215 (SD 1.x's)
  text_encoder/  CLIPTextModel: hidden 32, 2 layers, 4 heads, 77 positions, CLIP's 49408 tokens
  tokenizer/     CLIP's real vocabulary (vocab.json, merges.txt derived from
                 tests/model/fixtures/clip/bpe_simple_vocab_16e6.txt.gz by make_vocab.py) with SD
                 1.x's tokenizer_config.json and special_tokens_map.json (pad = <|endoftext|>)
  scheduler/     PNDMScheduler with SD 1.x's config (scaled_linear betas 0.00085 .. 0.012 over
                 1000 steps; prediction_type as given, default epsilon)
So images are 16x16 RGB and latents [4, 8, 8]. The real vocabulary (not a tiny one) is used so the
exported bundle exercises the same tokenizer files, ids and special tokens as a real SD pipeline:
the C++ CLIP tokenizer reads them as it would a downloaded pipeline's. It costs the text encoder's
token embedding 49408 x 32 weights (6.3 MB in float32), and writing the vocabulary takes ~1 s.

Weights are the libraries' own random initialisation after torch.manual_seed(--seed) (default 0):
the same files on every run. Everything is built from configs: no hub, no download.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys

os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local: never reach a hub

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "model" / "fixtures" / "clip"))
import make_vocab  # noqa: E402

import torch  # noqa: E402

CONTEXT = make_vocab.CONTEXT


def write_tokenizer(folder):
    """vocab.json, merges.txt and the two config files as an SD 1.x pipeline's tokenizer/ has them
    (transformers 5's save_pretrained would write tokenizer.json instead of the first two)."""
    make_vocab.write(folder)
    make_vocab.write_configs(folder)


def build(out, prediction_type="epsilon", seed=0):
    import transformers
    transformers.utils.logging.set_verbosity_error()  # before diffusers' pipeline imports
    transformers.utils.logging.disable_progress_bar()
    import diffusers
    from diffusers import (AutoencoderKL, PNDMScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    diffusers.utils.logging.disable_progress_bar()

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, sample_size=16,
        block_out_channels=(32, 64), layers_per_block=1,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=32,
        scaling_factor=0.18215)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=make_vocab.VOCAB_SIZE, hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=CONTEXT,
        projection_dim=32, hidden_act="quick_gelu", bos_token_id=49406, eos_token_id=49407,
        pad_token_id=49407))
    scheduler = PNDMScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
        beta_schedule="scaled_linear", skip_prk_steps=True, set_alpha_to_one=False,
        steps_offset=1, prediction_type=prediction_type)

    tok_dir = out / "tokenizer-src"
    write_tokenizer(tok_dir)
    tokenizer = CLIPTokenizer.from_pretrained(str(tok_dir))
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(str(out))
    # The saved tokenizer/ folder is transformers 5's (tokenizer.json): put SD's files in its
    # place, as a pipeline from the hub has them.
    shutil.rmtree(out / "tokenizer")
    tok_dir.rename(out / "tokenizer")
    return pipe


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--prediction-type", default="epsilon", choices=["epsilon", "v_prediction"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    build(out, args.prediction_type, args.seed)
    print(f"wrote a tiny SD pipeline ({args.prediction_type}) to {out}: images 16x16, latents "
          f"[4, 8, 8], context [77, 32]")


if __name__ == "__main__":
    main()
