"""Print the numerical stack's versions and settings as JSON (also warms the imports for the cases after it)."""

import json

import numpy
import peft
import torch
import transformers

print(json.dumps({
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "peft": peft.__version__,
    "numpy": numpy.__version__,
    "torch_threads": torch.get_num_threads(),
    "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    "mkl": torch.backends.mkl.is_available(),
    "mkldnn": torch.backends.mkldnn.is_available(),
}))
