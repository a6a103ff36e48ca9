"""Which heavy libraries does ``exercises/<name>.py --help`` import? ``help_imports.py exercises/x.py``.

Runs the script's --help in this process (as ``python exercises/x.py --help`` would) and prints, as JSON,
the heavy top-level packages found in sys.modules afterwards.
"""

import contextlib
import io
import json
import runpy
import sys

HEAVY = ("torch", "transformers", "peft", "numpy", "scipy", "sklearn", "librosa", "matplotlib", "soundfile",
         "safetensors", "huggingface_hub")

script = sys.argv[1]
sys.argv = [script, "--help"]
sys.path.insert(0, str(__import__("pathlib").Path(script).resolve().parent))
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    runpy.run_path(script, run_name="__main__")
print(json.dumps(sorted(name for name in HEAVY if name in sys.modules)))
