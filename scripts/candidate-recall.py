#!/usr/bin/env python3
"""How much of the teacher's full-set top L lies in a method's first K, on the stored test queries.

A training query's teacher ranking covers only its candidates (teacher-plan --candidates-from), so
a student learns nothing about the training images its candidates leave out. This measures, for
each method given, the share of each test query's teacher top L (L = 10, 100) found in the
method's first K (K = 1,000, 2,000, 4,000), mean ± standard error over the queries. The method's
ranking comes from `fastgda attribute --test-query ID --method NAME --json`, the teacher's from
<bundle>/teacher/test/ID.npy.

    scripts/candidate-recall.py raw:latent raw:cnn+text student   # about 5 s per query and method
"""
import argparse
import glob
import json
import math
import os
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KS = (1000, 2000, 4000)
LS = (10, 100)


def teacher_ranking(path):
    """Indices of a teacher result's .npy (records of int32 index and float32 score, in order)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise SystemExit(f"{path}: not a .npy file")
    header_length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_length].decode("latin1")
    if "('index', '<i4'), ('score', '<f4')" not in header:
        raise SystemExit(f"{path}: expected records (index <i4, score <f4), found {header.strip()}")
    body = data[10 + header_length:]
    return [struct.unpack_from("<i", body, 8 * i)[0] for i in range(len(body) // 8)]


def method_ranking(fastgda, bundle, method, query, k):
    command = [fastgda, "attribute", "--bundle", bundle, "--method", method, "--test-query", query,
               "--top", str(k), "--json", "--threads", "1"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
    return [r["index"] for r in json.loads(done.stdout)["results"]]


def mean_and_error(values):
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("methods", nargs="+", help="method names, as fastgda attribute --method")
    parser.add_argument("--bundle", default=os.path.join(ROOT, "models", "builtin"))
    parser.add_argument("--queries", type=int, default=0, help="only the first N test queries")
    parser.add_argument("--fastgda", default=os.path.join(ROOT, "build", "app", "fastgda"))
    args = parser.parse_args()
    results = sorted(glob.glob(os.path.join(args.bundle, "teacher", "test", "*.npy")))
    if args.queries > 0:
        results = results[:args.queries]
    if not results:
        raise SystemExit(f"{args.bundle}/teacher/test: no stored test queries")
    teacher = {os.path.basename(p)[:-4]: teacher_ranking(p) for p in results}
    print(f"{len(teacher)} test queries; share of the teacher's top L in the method's first K")
    print("method," + ",".join(f"K={k} L={l},se" for k in KS for l in LS))
    for method in args.methods:
        shares = {(k, l): [] for k in KS for l in LS}
        for query, top in teacher.items():
            ranked = method_ranking(args.fastgda, args.bundle, method, query, max(KS))
            for k in KS:
                first = set(ranked[:k])
                for l in LS:
                    shares[(k, l)].append(sum(i in first for i in top[:l]) / l)
        cells = [mean_and_error(shares[(k, l)]) for k in KS for l in LS]
        print(method + "," + ",".join(f"{m:.3f},{e:.3f}" for m, e in cells), flush=True)


if __name__ == "__main__":
    main()
