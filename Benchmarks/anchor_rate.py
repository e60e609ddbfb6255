"""What the Python anchors in compare.sh share: Bulwark's figures from `bulwark benchmark --json`,
and a rate (calls per second, median of five 0.4 s windows)."""
import json
import time


def ours(path):
    """Bulwark's results by (algorithm, case)."""
    return {(d["algorithm"], d["case"]): d["value"] for d in map(json.loads, open(path))}


def rate(call, batch=50):
    best = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.4:
            for _ in range(batch):
                call()
            count += batch
        best.append(count / (time.perf_counter() - start))
    return sorted(best)[2]
