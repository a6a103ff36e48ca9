"""Print the numerical stack's versions and settings as JSON.

Run first, it also imports everything the exercises and baselines import, so that the cases after it find
their compiled bytecode cached (as on a student's second run) and the libraries in the page cache.
"""

import json

import librosa  # noqa: F401
import matplotlib.pyplot  # noqa: F401
import numpy
import peft
import soundfile  # noqa: F401
import torch
import transformers
from transformers import AutoModel, HubertModel, Wav2Vec2FeatureExtractor  # noqa: F401

import src.asr_modeling  # noqa: F401
import src.audio  # noqa: F401
import src.encoder  # noqa: F401

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
