"""Reads what run-gpu-check.sh wrote in a folder and prints one JSON report: per device the times
and the device's name; between the first device and each other one, the agreement of the
generated latents, the teacher's rankings (mAP@10, the project's metric) and the student's
rankings and scores. Checks follow the GPU issue's tolerances: rankings at mAP@10 >= 0.9 and the
student's top-10 scores within 1e-3 relative."""
import json
import pathlib
import struct
import sys


def read_npy_float32(path):
    data = pathlib.Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        raise SystemExit(f"{path}: not a .npy file")
    header_length = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
    start = (10 if data[6] == 1 else 12) + header_length
    header = data[(10 if data[6] == 1 else 12):start].decode("latin1")
    if "'<f4'" not in header:
        raise SystemExit(f"{path}: expected float32, header {header}")
    count = (len(data) - start) // 4
    return struct.unpack(f"<{count}f", data[start:start + 4 * count])


def average_precision_at_k(ranking, truth, k):
    positives = set(truth[:k])
    found, total = 0, 0.0
    for n, index in enumerate(ranking):
        if found == k:
            break
        if index in positives:
            found += 1
            total += found / (n + 1)
    return total / k


def indices(path):
    return [r["index"] for r in json.loads(pathlib.Path(path).read_text())["results"]]


def scores(path):
    return [r["score"] for r in json.loads(pathlib.Path(path).read_text())["results"]]


work = pathlib.Path(sys.argv[1])
devices = sys.argv[2:]
report = {"images": json.loads((work / "info.json").read_text())["dataset"]["images"],
          "devices": {}, "agreement": {}, "checks": {}}
for d in devices:
    bench = json.loads((work / f"bench-{d}.json").read_text())
    report["devices"][d] = {
        "name": bench.get("device_name"),
        "generate_seconds_per_image": bench["seconds_per_image"],
        "generate_seconds_per_image_batched": bench["seconds_per_image_batched"],
        "teacher_seconds": [int((work / f"teacher-{d}-{q}.nanoseconds").read_text()) / 1e9 for q in (0, 1)],
        "teacher_timing": [json.loads((work / f"teacher-{d}-{q}.json").read_text())["timing"] for q in (0, 1)],
        "student_ms": [json.loads((work / f"student-{d}-{q}.json").read_text())["timing_ms"] for q in (0, 1)],
    }
for d in devices:
    pieces_map = average_precision_at_k(indices(work / f"teacher-pieces-{d}.json"),
                                        indices(work / f"teacher-{d}-0.json"), 10)
    report["agreement"][f"{d}: --max-memory 0.01 vs no budget"] = {"teacher_map_at_10": pieces_map}
    report["checks"][f"{d}: --max-memory 0.01 vs no budget"] = {
        "teacher_map_at_10 >= 0.9": pieces_map >= 0.9}
reference = devices[0]
for d in devices[1:]:
    a = read_npy_float32(work / f"generated-{reference}.npy")
    b = read_npy_float32(work / f"generated-{d}.npy")
    teacher_map = [average_precision_at_k(indices(work / f"teacher-{d}-{q}.json"),
                                          indices(work / f"teacher-{reference}-{q}.json"), 10) for q in (0, 1)]
    student_map = [average_precision_at_k(indices(work / f"student-{d}-{q}.json"),
                                          indices(work / f"student-{reference}-{q}.json"), 10) for q in (0, 1)]
    worst_score = max(abs(x - y) / max(abs(x), 1e-12)
                      for q in (0, 1)
                      for x, y in zip(scores(work / f"student-{reference}-{q}.json")[:10],
                                      scores(work / f"student-{d}-{q}.json")[:10]))
    report["agreement"][f"{d} vs {reference}"] = {
        "latent_max_abs_difference": max(abs(x - y) for x, y in zip(a, b)),
        "teacher_map_at_10": teacher_map,
        "student_map_at_10": student_map,
        "student_top10_score_max_relative_difference": worst_score,
    }
    report["checks"][f"{d} vs {reference}"] = {
        "teacher_map_at_10 >= 0.9": min(teacher_map) >= 0.9,
        "student_map_at_10 >= 0.9": min(student_map) >= 0.9,
        "student scores within 1e-3": worst_score <= 1e-3,
    }
report["passed"] = all(all(c.values()) for c in report["checks"].values())
print(json.dumps(report, indent=1))
