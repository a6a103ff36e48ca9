#!/usr/bin/env bash
# Regenerate the sample clips in this folder from scratch.
#
#   bash assets/make_samples.sh      (from the repo root, or from anywhere)
#
# Needs Debian's espeak-ng and sox:  sudo apt-get install -y espeak-ng sox
set -euo pipefail

for cmd in espeak-ng sox; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "error: '$cmd' not found - install it with: sudo apt-get install -y espeak-ng sox" >&2
        exit 1
    fi
done

cd "$(dirname "$0")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# sox -R: "repeatable" mode (fixed seed for dither), so reruns give the same bytes.
# The explicit `rate` comes before pad/trim so that `trim 0 Ns` counts samples
# at the OUTPUT rate (sox would otherwise resample at the very end of the chain).
SOX=(sox -R -V1)

# 1) test.wav: 16 kHz, mono, 16-bit PCM, exactly 3.00 s = 48,000 samples.
espeak-ng -v en-us -s 140 -w "$tmp/test_raw.wav" "Tiny audio turns speech into text."
"${SOX[@]}" "$tmp/test_raw.wav" -r 16000 -c 1 -b 16 -e signed-integer test.wav \
    rate -v 16000 gain -n -3 pad 0 3 trim 0 48000s

# 2) test_44k_stereo.wav: 44.1 kHz, stereo, 16-bit PCM, exactly 4.50 s = 198,450 frames.
#    Left = the voice; right = the same voice 6 dB quieter and 5 ms later,
#    so the two channels differ and down-mixing matters.
espeak-ng -v en-us -s 120 -w "$tmp/stereo_raw.wav" "Every exercise should run on the first try."
"${SOX[@]}" "$tmp/stereo_raw.wav" -r 44100 -c 2 -b 16 -e signed-integer test_44k_stereo.wav \
    rate -v 44100 remix 1v1.0 1v0.5 delay 0 0.005 gain -n -3 pad 0.25 5 trim 0 198450s

echo "wrote $(pwd)/test.wav and $(pwd)/test_44k_stereo.wav"
