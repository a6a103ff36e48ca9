"""Write a long test clip by repeating assets/test.wav: ``make_audio.py OUT.wav SECONDS``.

The clip is 16 kHz mono 16-bit PCM (what the exercises read without resampling) and exactly SECONDS long.
Each repetition is scaled slightly differently so the waveform is not a perfectly periodic picture.
"""

import sys

import numpy as np
import soundfile as sf

out, seconds = sys.argv[1], float(sys.argv[2])
source, rate = sf.read("assets/test.wav", dtype="float32")
target = int(round(seconds * rate))
reps = -(-target // len(source))
gains = 0.6 + 0.4 * np.abs(np.sin(np.arange(reps) * 0.7))
clip = np.concatenate([source * g for g in gains])[:target]
sf.write(out, clip, rate, subtype="PCM_16")
print(f"wrote {out}: {len(clip)} samples, {len(clip) / rate:.1f} s")
