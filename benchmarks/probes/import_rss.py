"""How much resident memory importing the stack costs, step by step: ``import_rss.py``.

Imports torch, then what transformers' HubertModel pulls in, reading VmRSS after each; then splits the
resident memory by mapping (/proc/self/smaps): CUDA libraries, triton, other files, anonymous memory.
Prints one JSON object.
"""

import json
import re
import sys
import time


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for row in status:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    return 0.0


def by_mapping() -> dict[str, float]:
    groups: dict[str, float] = {}
    name = "anonymous"
    with open("/proc/self/smaps") as smaps:
        for row in smaps:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", row):
                parts = row.split()
                path = parts[5] if len(parts) > 5 else ""
                if "/nvidia/" in path or re.search(r"lib(torch|c10)_cuda|libcudart", path):
                    name = "CUDA libraries"
                elif "triton" in path:
                    name = "triton"
                elif path.startswith("/"):
                    name = "other shared libraries and files"
                else:
                    name = "anonymous (heap, Python objects)"
            elif row.startswith("Rss:"):
                groups[name] = groups.get(name, 0.0) + int(row.split()[1]) / 1024
    return groups


steps = []
started = time.perf_counter()
for module in ("numpy", "torch", "torch._dynamo", "sklearn.metrics", "transformers",
               "transformers.models.hubert.modeling_hubert"):
    before = set(sys.modules)
    __import__(module)
    steps.append({"module": module, "rss_mb": rss_mb(), "seconds": time.perf_counter() - started,
                  "already": module in before})
print(json.dumps({"steps": steps, "mappings": by_mapping()}))
