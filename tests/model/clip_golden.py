"""Golden token ids for the C++ CLIP tokenizer (core/model/clip_tokenizer.h), from the reference:
transformers.CLIPTokenizerFast (the Rust `tokenizers` library), padding="max_length",
truncation=True, max_length=77, as Stable Diffusion pipelines call it.

    PY=~/.cache/fastgda/venv-torch2.11.0/bin/python      # with scripts/requirements-diffusers.txt
    $PY tests/model/clip_golden.py OUT_DIR
    FASTGDA_CLIP_GOLDEN=OUT_DIR ./tst_clip_tokenizer

OUT_DIR receives, all from tests/model/fixtures/clip/ (no download):
  vocab.json, merges.txt       OpenAI CLIP's vocabulary (fixtures/clip/make_vocab.py)
  tokenizer_config.json,       as in a Stable Diffusion 1.x pipeline's tokenizer/ folder: pads
  special_tokens_map.json      with <|endoftext|> (the end id, 49407)
  golden.json                  [{"prompt": ..., "ids": [77 ids]}, ...]: the built-in dataset's
                               captions (every 35th distinct one), hand-written prompts (case,
                               punctuation, apostrophes, numbers, accents, emoji, CJK, white space,
                               special-token text, long prompts) and seeded random Unicode strings
  codepoints.txt               one line per code point c of planes 0-3 and 14 (no surrogates):
                               "HEX id id ..." = the ids of "x" c c "7" without start/end/padding
                               (tells letters, numbers, other and white space apart, and checks
                               NFC and lower-casing of every character)
  sd2/                         the same vocabulary with a Stable Diffusion 2.x tokenizer's files
                               (special_tokens_map.json pads with "!", id 0, which is then also a
                               special token inside prompts) and its golden.json

Other modes, to compare another tokenizer with a golden folder (information only):
    $PY tests/model/clip_golden.py --compare OUT_DIR [--slow]   # this Python's transformers:
        CLIPTokenizerFast, or with --slow the pure-Python CLIPTokenizer (transformers 4.x)
    $PY tests/model/clip_golden.py --open-clip OUT_DIR          # open_clip's SimpleTokenizer
        (needs open_clip importable, with ftfy and torch) on the ASCII prompts of golden.json

And one that writes code: the table of clip_tokenizer.cpp for characters newer than Qt 6.4's
Unicode data (14.0), as the reference treats them (run with Python 3.11, whose unicodedata is 14.0):
    $PY tests/model/clip_golden.py --unicode-table core/model/clip_tokenizer.cpp
"""
import argparse
import importlib.util
import json
import os
import pathlib
import random
import struct
import subprocess
import sys

os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local: never reach a hub

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE.parent.parent
sys.path.insert(0, str(HERE / "fixtures" / "clip"))
import make_vocab  # noqa: E402

CONTEXT = make_vocab.CONTEXT
START, END = make_vocab.START, make_vocab.END
write_configs = make_vocab.write_configs


def dataset_captions(limit_step=35):
    """Every limit_step-th distinct caption of the built-in dataset (models/builtin/emoji.fgpack,
    format in core/data/image_pack.h: its "records" section is zstd-compressed JSON lines)."""
    pack = (SOURCE / "models" / "builtin" / "emoji.fgpack").read_bytes()
    if pack[:8] != b"FGDAPACK":
        sys.exit("emoji.fgpack: not an image pack")
    header_len = struct.unpack("<I", pack[12:16])[0]
    header = json.loads(pack[16:16 + header_len])
    section = next(s for s in header["sections"] if s["name"] == "records")
    start = 16 + header_len + section["offset"]
    data = pack[start:start + section["bytes"]]
    try:
        import zstandard
        raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=section["raw_bytes"])
    except ImportError:
        raw = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    captions = sorted({json.loads(line)["caption"] for line in raw.decode("utf-8").splitlines()})
    picked = captions[::limit_step]
    longest = max(captions, key=len)
    if longest not in picked:
        picked.append(longest)
    return picked


def hand_written_prompts():
    p = [
        # plain and Stable Diffusion style
        "a photo of a cat", "A photo of a cat", "A PHOTO OF A CAT", "a photograph of an astronaut riding a horse",
        "masterpiece, best quality, ultra-detailed, 8k, trending on artstation",
        "(masterpiece:1.2), [blurry], {cat}, <lora:style:0.8>, cat|dog, a_b, x^2, #tag @user",
        "portrait of a woman, oil painting, by greg rutkowski and alphonse mucha",
        "red apple, google style", "thumbs up, medium skin tone, twemoji style",
        # empty and white space
        "", " ", "   ", "\t", "\n", "\r\n", "\n\n\n", " a ", "  leading", "trailing  ",
        "a\tb", "a\nb", "a\r\nb", "a  b   c    d", "a \t\n b", "a\x0bb\x0cc",
        "a\u00a0b", "a\u2009b", "a\u3000b", "a\u2028b", "a\u2029b", "a\u0085b", "a\u1680b", "a\u202fb",
        "a\u205fb", "a\u200bb", "a\ufeffb", "\ufeffa", "\ufeff", "a\u180eb", "a\x1cb\x1dc\x1ed\x1fe", "\u3000\u00a0",
        # punctuation
        "hello, world!", "wait... what?!", "a-b-c", "a--b", "well-known", "e-mail", "end.", "(a)",
        "[a]", "{a}", "\"quoted\"", "'single'", "a/b\\c", "100%", "$5", "#1", "a&b", "a;b:c", "!!!",
        "??!!..,,", "hello!", "wow!!! a!b", "~_~", "^_^", ":-)", "<3", "->", "=>", "...",
        "\u201csmart quotes\u201d", "\u2018single smart\u2019", "em\u2014dash", "en\u2013dash",
        "\u00bfqu\u00e9?", "\u00a1hola!", "\u2026", "\u00b7", "\u00a7 1", "\u00a9 2024 \u00ae \u2122",
        # apostrophes and contractions
        "don't", "Don't", "DON'T", "it's", "It's", "IT'S", "i'm", "I'M", "you're", "we've", "she'll",
        "he'd", "they'd've", "rock'n'roll", "it''s", "'s", "'S", "'", "''", "o'clock", "y'all",
        "the cat's toy", "cats' toys", "'tis", "'twas", "don\u2019t", "it\u2019s", "'re 've 'm 'll 'd 't",
        "x'sx", "a.'s", "!'s",
        # numbers
        "2024", "3.5", "1,000,000", "-273.15\u00b0C", "4k 8k uhd", "v1.5", "sd2.1", "1st 2nd 3rd 4th",
        "007", "3x3", "1/2", "\u00bd \u00bc \u00be", "x\u00b2 + y\u00b3", "\u2460\u2461\u2462", "\u2162 \u216b",
        "\u0663\u0664", "\u0967\u0968", "\uff11\uff12\uff13", "\U0001d7d9", "0.000001", "1e10", "+1 -1",
        "12345678901234567890",
        # accents and normalisation
        "caf\u00e9", "cafe\u0301", "Caf\u00c9", "Cre\u0300me bru\u0302le\u0301e", "Cr\u00e8me br\u00fbl\u00e9e",
        "CR\u00c8ME BR\u00dbL\u00c9E", "na\u00efve", "nai\u0308ve", "\u00c5ngstr\u00f6m", "\u212bngstr\u00f6m",
        "\u2126 ohm", "\u212a kelvin", "e\u0301", "E\u0301", "q\u0301", "a\u0323\u0307", "a\u0307\u0323",
        "\u1e0b\u0323", "x\u0307", "\u00f1", "n\u0303", "\u00dcber", "stra\u00dfe", "STRASSE", "\u1e9e",
        "\u0130stanbul", "\u0131", "I\u0307", "\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2",
        "\u03a3\u03c3\u03c2", "\u0391\u03b8\u03ae\u03bd\u03b1", "\u041c\u043e\u0441\u043a\u0432\u0430",
        "\u0401\u0436", "\ufb01\ufb02", "\u01c5\u01c4\u01c6", "\u1f88", "\u0149", "\u0587", "\u1e96",
        "\uff21\uff22\uff23 \uff41\uff42\uff43", "\U0001d400\U0001d401", "\U00010400\U00010428",
        "\u24b6\u24d0", "\u00ad soft\u00adhyphen", "\u2160", "\u1100\u1161\u11a8", "\u304b\u3099",
        "\u0915\u093f\u0924\u093e\u092c", "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
        "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd", "\u0627\u0644\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u0629",
        "Vi\u1ec7t Nam", "\u0110\u00e0 N\u1eb5ng", "\u01fa\u01fb", "\u1e9b\u0323",
        # emoji
        "\U0001f34e", "\U0001f34e apple", "red \U0001f34e, google style", "\U0001f44d", "\U0001f44d\U0001f3fd",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f3f3\ufe0f\u200d\U0001f308",
        "\U0001f1fa\U0001f1f8", "\U0001f1ef\U0001f1f5\U0001f1eb\U0001f1f7", "\u2764\ufe0f", "\u2764", "\u263a",
        "1\ufe0f\u20e3", "#\ufe0f\u20e3", "\U0001f9d1\U0001f3fb\u200d\U0001f4bb", "\U0001f600\U0001f603\U0001f604",
        "a\U0001f600b", "\U0001f431\U0001f436 cat and dog", "\U0001faf6\U0001f3fe", "\u2b50\ufe0f\u2728",
        # CJK and other scripts
        "\u732b", "\u6771\u4eac\u30bf\u30ef\u30fc", "\u4e2d\u6587\u63d0\u793a\u8bcd\uff0c\u9ad8\u8d28\u91cf",
        "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c", "\u30ab\u30bf\u30ab\u30ca",
        "\uff76\uff80\uff76\uff85", "a\u732bb", "cat \u732b neko \u306d\u3053", "\U00020000\U0002a6d6",
        "\u10d0\u10d1", "\u0561\u0562", "\u13a0\u13a1", "\u0f40\u0f72",
        # characters newer than Qt 6.4's Unicode 14.0 (see the table in clip_tokenizer.cpp)
        "\u1c89\u1c8a", "\ua7cb \ua7dc", "\U00010d50\U00010d70", "\U00031350\u732b", "a\U0001e4f0b",
        "\U00016ea0\U00016ebb", "\U0001ccf0\U0001ccf1",
        # control characters
        "a\x00b", "a\x07b", "a\x7fb", "\x1b[31mred", "a\x80b", "a\x9fb",
        # special-token text
        "<|startoftext|>", "<|endoftext|>", "a photo <|endoftext|> of a cat", "x<|endoftext|>y",
        "<|startoftext|>a<|endoftext|>", "<|ENDOFTEXT|>", "<|EndOfText|> cat", "<|endoftext|>>",
        "<|startoftext|><|endoftext|>", "<|endoftext", "endoftext|>", "<| endoftext |>", "<|x|>",
        # words that exercise BPE
        "supercalifragilisticexpialidocious", "a" * 40, "ab" * 20, "lol" * 12, "zzzzzzzzzzzzzzzz",
        "pneumonoultramicroscopicsilicovolcanoconiosis", "xqzjkvw", "internationalization",
        "antidisestablishmentarianism", "photorealistic hyperrealistic unrealengine octane",
    ]
    # Context boundaries: "a" is one token each.
    for n in (74, 75, 76, 77, 100):
        p.append(" ".join(["a"] * n))
    p.append(" ".join(["photograph"] * 80))
    p.append("!" * 200)
    p.append("\U0001f34e" * 30)  # 4 bytes each: many byte tokens
    p.append("a highly detailed photograph of " + ", ".join(
        ["a red apple", "a green pear", "a yellow banana", "a purple grape", "an orange", "a lemon",
         "a cherry", "a strawberry", "a blueberry", "a watermelon", "a pineapple", "a mango",
         "a kiwi", "a peach", "a plum", "an apricot", "a coconut", "a fig", "a date", "a lime",
         "a pomegranate", "a papaya", "a guava", "a lychee", "a persimmon"]) +
        " on a wooden table, studio lighting, 85mm, f/1.8, bokeh")
    p.append(("Crème brûlée, café au lait, naïve façade, jalapeño, smörgåsbord, Ærøskøbing; " * 6).strip())
    p.append(("猫と犬、東京の夜景、高品質なイラスト。" * 8))
    p.append(" ".join(["don't", "it's", "we're", "they've", "I'm", "you'll", "he'd"] * 12))
    p.append("\t".join(["word"] * 90))
    return p


def random_prompts(count=60, seed=20240601):
    """Seeded random strings drawn from a mixture of ASCII, Latin-1, combining marks, Greek,
    Cyrillic, CJK, Hangul, emoji and modifiers, ZWJ, variation selectors and white space."""
    rng = random.Random(seed)
    pools = [
        [chr(c) for c in range(0x20, 0x7f)],
        [chr(c) for c in range(0xa0, 0x180)],
        [chr(c) for c in range(0x300, 0x370)],
        [chr(c) for c in range(0x370, 0x530) if chr(c).isprintable()],
        [chr(c) for c in range(0x4e00, 0x4e80)],
        [chr(c) for c in range(0xac00, 0xac40)] + [chr(c) for c in range(0x1100, 0x1176)],
        [chr(c) for c in range(0x1f300, 0x1f650)] + [chr(c) for c in range(0x1f3fb, 0x1f400)],
        ["\u200d", "\ufe0f", "\u20e3", "\u00a0", "\u3000", "\t", "\n", "  ", "'", "'s", "'LL"],
        list("0123456789"),
    ]
    out = []
    for _ in range(count):
        length = rng.randint(1, 60)
        out.append("".join(rng.choice(rng.choice(pools)) for _ in range(length)))
    return out


def fast_tokenizer(folder):
    import transformers
    return transformers.CLIPTokenizerFast.from_pretrained(str(folder))


def encode_all(tokenizer, prompts):
    out = tokenizer(prompts, padding="max_length", truncation=True, max_length=CONTEXT)["input_ids"]
    for ids in out:
        assert len(ids) == CONTEXT
    return [list(map(int, ids)) for ids in out]


def write_golden(folder, prompts):
    tokenizer = fast_tokenizer(folder)
    ids = encode_all(tokenizer, prompts)
    golden = [{"prompt": p, "ids": i} for p, i in zip(prompts, ids)]
    # ASCII with \u escapes: a JSON reader that decodes each string with a UTF-8 decoder that
    # drops a leading byte-order mark (Qt's) still sees "\ufeffa" whole.
    (folder / "golden.json").write_text(json.dumps(golden, indent=0) + "\n")
    return tokenizer


def sweep_codepoints():
    for plane in (0, 1, 2, 3, 14):
        for c in range(plane << 16, (plane + 1) << 16):
            if not 0xD800 <= c <= 0xDFFF:
                yield c


def write_codepoints(folder, tokenizer):
    backend = tokenizer.backend_tokenizer
    points = list(sweep_codepoints())
    lines = []
    batch = 20000
    for i in range(0, len(points), batch):
        chunk = points[i:i + batch]
        encodings = backend.encode_batch([f"x{chr(c)}{chr(c)}7" for c in chunk],
                                         add_special_tokens=False)
        for c, e in zip(chunk, encodings):
            lines.append("%X %s" % (c, " ".join(map(str, e.ids))))
    (folder / "codepoints.txt").write_text("\n".join(lines) + "\n")
    return len(lines)


def generate(out):
    import tokenizers
    import transformers
    out.mkdir(parents=True, exist_ok=True)
    prompts = dataset_captions()
    n_captions = len(prompts)
    prompts += hand_written_prompts() + random_prompts()
    seen = set()
    prompts = [p for p in prompts if not (p in seen or seen.add(p))]
    for folder, pad in ((out, END), (out / "sd2", "!")):
        folder.mkdir(parents=True, exist_ok=True)
        make_vocab.write(folder)
        write_configs(folder, pad)
        tokenizer = write_golden(folder, prompts)
        assert tokenizer.pad_token == pad, (tokenizer.pad_token, pad)
    points = write_codepoints(out, fast_tokenizer(out))
    (out / "versions.json").write_text(json.dumps(
        {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
         "python": sys.version.split()[0]}) + "\n")
    print(f"wrote {out}: {len(prompts)} prompts ({n_captions} dataset captions), {points} code "
          f"points; sd2/ likewise; transformers {transformers.__version__}, tokenizers "
          f"{tokenizers.__version__}")


def report_differences(name, golden, ids):
    different = [(g, i) for g, i in zip(golden, ids) if g["ids"] != i]
    print(f"{name}: {len(different)} of {len(golden)} prompts give other ids")
    for g, i in different[:8]:
        pos = next(k for k in range(CONTEXT) if g["ids"][k] != i[k])
        print(f"  {g['prompt']!r}: position {pos}: golden {g['ids'][pos:pos + 6]}, "
              f"this {i[pos:pos + 6]}")
    return len(different)


def compare(folder, slow):
    import transformers
    golden = json.loads((folder / "golden.json").read_text(encoding="utf-8"))
    cls = transformers.CLIPTokenizer if slow else transformers.CLIPTokenizerFast
    tokenizer = cls.from_pretrained(str(folder))
    name = f"transformers {transformers.__version__} {type(tokenizer).__name__}"
    if slow:
        try:
            import ftfy  # noqa: F401
            name += " (with ftfy)"
        except ImportError:
            name += " (without ftfy)"
    ids = encode_all(tokenizer, [g["prompt"] for g in golden])
    report_differences(f"{folder}: {name}", golden, ids)


def compare_open_clip(folder):
    """open_clip's SimpleTokenizer (OpenAI CLIP's, reading bpe_simple_vocab_16e6.txt.gz itself)
    on the plain ASCII prompts: its cleaning (ftfy, HTML unescaping, control characters dropped)
    differs on other text by design."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None:
        sys.exit("open_clip is not importable")
    module_spec = importlib.util.spec_from_file_location(
        "open_clip_tokenizer", pathlib.Path(spec.origin).with_name("tokenizer.py"))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # the module alone, not open_clip's __init__
    simple = module.SimpleTokenizer()
    golden = json.loads((folder / "golden.json").read_text(encoding="utf-8"))
    def plain(text):  # printable ASCII and ordinary white space; no HTML entity, no special token
        return (all(" " <= ch <= "~" or ch in "\t\n\r" for ch in text) and "&" not in text
                and "<|" not in text)
    ascii_golden = [g for g in golden if plain(g["prompt"])]
    ids = [list(map(int, row)) for row in simple([g["prompt"] for g in ascii_golden], CONTEXT)]
    # open_clip pads with 0, transformers (SD 1.x) with the end id: compare up to the end token.
    end = make_vocab.VOCAB_SIZE - 1
    trimmed = []
    for g, i in zip(ascii_golden, ids):
        n = g["ids"].index(end) + 1
        trimmed.append(i[:n] + g["ids"][n:])
    report_differences(f"{folder}: open_clip SimpleTokenizer (ASCII prompts)", ascii_golden, trimmed)


TABLE_BEGIN = "// BEGIN table written by tests/model/clip_golden.py --unicode-table\n"
TABLE_END = "// END table\n"


def unicode_table(cpp):
    """Rewrites, between the markers in cpp, what the reference does with the code points that
    Unicode 14.0 (Qt 6.4's and Python 3.11's data) leaves unassigned: which are letters or numbers
    to its regex engine, and what its lower-casing maps them to."""
    import unicodedata
    import tempfile
    if unicodedata.unidata_version != "14.0.0":
        sys.exit(f"needs Python 3.11 (unicodedata 14.0.0, as Qt 6.4), this has "
                 f"{unicodedata.unidata_version}")
    folder = pathlib.Path(tempfile.mkdtemp())
    make_vocab.write(folder)
    backend = fast_tokenizer(folder).backend_tokenizer
    classes, lowers = [], []
    for c in sweep_codepoints():
        if unicodedata.category(chr(c)) != "Cn":
            continue
        lower = backend.normalizer.normalize_str(chr(c))
        if lower != chr(c):
            assert len(lower) == 1, (hex(c), lower)
            lowers.append((c, ord(lower)))
            kind = "L"  # an upper-case letter (only its lower case meets the regex)
        else:
            pieces = backend.pre_tokenizer.pre_tokenize_str(f"x{chr(c)}{chr(c)}7")
            kind = {2: "L", 3: "O", 4: "N"}[len(pieces)]
        if kind != "O":
            if classes and classes[-1][2] == kind and classes[-1][1] == c - 1:
                classes[-1][1] = c
            else:
                classes.append([c, c, kind])
    lower_ranges = []  # [first, last, offset]
    for c, lower in lowers:
        if lower_ranges and lower_ranges[-1][1] == c - 1 and lower_ranges[-1][2] == lower - c:
            lower_ranges[-1][1] = c
        else:
            lower_ranges.append([c, c, lower - c])
    import tokenizers
    text = TABLE_BEGIN + "// clang-format off\n"
    text += (f"// tokenizers {tokenizers.__version__}: {len(classes)} ranges of letters and "
             f"numbers, {len(lowers)} lower-case mappings.\n")
    text += "constexpr NewerRange kNewerLetterOrNumber[] = {\n"
    text += "".join(f"    {{0x{a:X}, 0x{b:X}, '{k}'}},\n" for a, b, k in classes) + "};\n"
    text += "constexpr NewerLowerCase kNewerLowerCase[] = {\n"
    text += "".join(f"    {{0x{a:X}, 0x{b:X}, {d}}},\n" for a, b, d in lower_ranges) + "};\n"
    text += "// clang-format on\n" + TABLE_END
    source = pathlib.Path(cpp).read_text()
    begin, end = source.index(TABLE_BEGIN), source.index(TABLE_END) + len(TABLE_END)
    pathlib.Path(cpp).write_text(source[:begin] + text + source[end:])
    print(f"{cpp}: {len(classes)} letter/number ranges, {len(lower_ranges)} lower-case ranges")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=pathlib.Path, help="output folder (or golden folder)")
    parser.add_argument("--compare", action="store_true", help="compare with this transformers")
    parser.add_argument("--slow", action="store_true", help="with --compare: the slow tokenizer")
    parser.add_argument("--open-clip", action="store_true", help="compare with open_clip")
    parser.add_argument("--unicode-table", action="store_true",
                        help="rewrite the table in the C++ file given as out")
    args = parser.parse_args()
    if args.unicode_table:
        unicode_table(args.out)
    elif args.compare:
        compare(args.out, args.slow)
    elif args.open_clip:
        compare_open_clip(args.out)
    else:
        generate(args.out)


if __name__ == "__main__":
    main()
