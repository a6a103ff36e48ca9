"""Bonus exercise: the hidden units HuBERT first learned from, made from the audio itself (no download).

HuBERT learned without transcripts by predicting "hidden units": cluster ids of short stretches of audio.
For its first training round the units came from the audio alone: cut it into 25 ms windows every 10 ms,
describe each window by 39 MFCC numbers (13 coefficients, their change over time and the change of that),
group similar windows with k-means, and call a window's cluster id its unit.

The paper clustered 960 hours of LibriSpeech into 100 units. One 3-second clip has only 298 windows:
100 clusters would leave about 3 windows each, too few to stand for anything. The default here is 25,
about as many as the sample's sentence has speech sounds, so each unit gets about 12 windows.

    poetry run python exercises/hidden_units.py                        # the 3-second sample, 25 units
    poetry run python exercises/hidden_units.py a.wav b.flac --plot    # one k-means over both, a figure
"""

from __future__ import annotations

import argparse

import numpy as np

from src.audio import SAMPLE_RATE, load_audio, predicted_frames
from src.cli import ArgumentParser, check_writable, default_audio, display_path, plural, run, save_figure
from src.errors import AudioError, UserError

WINDOW_SECONDS = 0.025  # 25 ms: 400 samples at 16 kHz, as long as one HuBERT frame's receptive field
HOP_SECONDS = 0.010  # 10 ms: 160 samples, so 100 MFCC frames per second (HuBERT: 50, one every 320 samples)
KALDI_LIFTER = 1 + 11 * np.sin(np.pi * np.arange(13) / 22)  # Kaldi's liftering: coefficient i weighs 1 to 11.9
DEFAULT_CLUSTERS = 25  # the paper: 100, over 960 h; a 3 s clip (298 frames) supports a few dozen at most
BLOCK_FRAMES = 3_000  # MFCCs are computed 30 s at a time (the result is the same, memory stays small)
MAX_TRAINING_FRAMES = 10_000  # k-means fits on at most 100 s of frames (a seeded sample of longer audio)
SILENCE_DB = 40  # a frame this many dB quieter than the loudest frame is silence


def mfcc_39(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """39 numbers per 25 ms window, one window every 10 ms: 13 MFCCs, their deltas and delta-deltas.

    Set up like the Kaldi MFCC that HuBERT's recipe used (pre-emphasis 0.97, 23 mel bands from 20 Hz,
    liftering 22, no padding, no mean/variance normalisation), but computed by librosa: close to Kaldi's
    numbers, not bit-identical. Returns [frames, 39] with frames = floor((N - 400) / 160) + 1 at 16 kHz.
    """
    import librosa

    window, hop = round(WINDOW_SECONDS * sample_rate), round(HOP_SECONDS * sample_rate)  # 400, 160 at 16 kHz
    emphasised = librosa.effects.preemphasis(samples, coef=0.97)  # boost high frequencies, as Kaldi does
    block = BLOCK_FRAMES * hop  # 30 s at a time, so a long file never holds its whole spectrogram
    mel = np.concatenate([  # [23, frames]: the power in 23 mel bands of each window
        librosa.feature.melspectrogram(y=emphasised[start: start + block + window - hop], sr=sample_rate,
                                       n_fft=window, hop_length=hop, center=False, n_mels=23, fmin=20, htk=True)
        for start in range(0, len(samples) - window + 1, block)], axis=1)
    log_mel = librosa.power_to_db(mel, top_db=None)  # dB: Kaldi's natural log x 4.34, which k-means won't notice
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=13)  # [13, frames]: a DCT of the 23 log energies, first 13
    mfcc *= KALDI_LIFTER[:, None]  # higher coefficients weigh more in k-means' distances
    delta = librosa.feature.delta(mfcc, width=5, mode="nearest")  # [13, frames]: slope over +-2 frames
    delta2 = librosa.feature.delta(delta, width=5, mode="nearest")  # [13, frames]: the slope's slope
    return np.concatenate([mfcc, delta, delta2]).T  # [13 + 13 + 13, frames] -> [frames, 39]


def fit_units(features: list[np.ndarray], clusters: int = DEFAULT_CLUSTERS, seed: int = 0):
    """One k-means over the frames of every file ([frames, 39] each); returns the fitted sklearn model.

    At most MAX_TRAINING_FRAMES frames, drawn with the seed, are used for fitting (fairseq also fits on a
    sample); identical frames (digital silence) leave fewer distinct points, and then fewer clusters.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    frames = np.concatenate(features)  # [all frames, 39]
    if len(frames) > MAX_TRAINING_FRAMES:
        rows = np.random.default_rng(seed).choice(len(frames), MAX_TRAINING_FRAMES, replace=False)
        frames = frames[np.sort(rows)]
    clusters = min(clusters, len(np.unique(frames, axis=0)))
    with threadpool_limits(1):  # one thread: the same sums in the same order, so the same units every run
        return KMeans(n_clusters=clusters, n_init=10, random_state=seed).fit(frames)


def run_lengths(units) -> list[tuple[int, int]]:
    """[4, 4, 4, 1, 1, 14] -> [(4, 3), (1, 2), (14, 1)]: each unit and how many frames in a row it lasts."""
    units = np.asarray(units)
    if len(units) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])  # where a new run begins
    lengths = np.diff(np.r_[starts, len(units)])
    return [(int(units[s]), int(n)) for s, n in zip(starts, lengths)]


def silent_frames(samples: np.ndarray, sample_rate: int = SAMPLE_RATE, below_db: float = SILENCE_DB) -> np.ndarray:
    """True for each MFCC frame (25 ms window, 10 ms hop) whose loudness (RMS) is ``below_db`` dB or more
    under the loudest frame's, or under -80 dBFS whatever the loudest is (so an all-silent file is silent)."""
    window, hop = round(WINDOW_SECONDS * sample_rate), round(HOP_SECONDS * sample_rate)
    if len(samples) < window:
        return np.zeros(0, dtype=bool)
    frames = np.lib.stride_tricks.sliding_window_view(samples, window)[::hop]  # [frames, 400], a view: no copy
    rms = np.sqrt(np.einsum("ij,ij->i", frames, frames) / window)  # [frames]
    threshold = max(rms.max() * 10 ** (-below_db / 20), 10 ** (-80 / 20))
    return rms < threshold


# ----- the exercise: load -> MFCC -> k-means -> units -> print ------------------------------------------------

def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    plot_path = check_writable(args.plot) if args.plot else None

    audios = [load_audio(path, SAMPLE_RATE) for path in args.audio or [default_audio()]]  # 16 kHz mono
    check_lengths(audios, args.clusters)  # each file holds a 25 ms window; all together, at least K frames
    features = [mfcc_39(audio.samples) for audio in audios]  # [frames, 39] each
    model = fit_units(features, args.clusters, args.seed)
    units = [model.predict(f) for f in features]  # [frames] each: the cluster id of every 10 ms frame

    total = sum(len(f) for f in features)
    print("Bonus exercise: the hidden units HuBERT first learned from")
    print("Features: 39 per frame (13 MFCCs + 13 deltas + 13 delta-deltas), 25 ms windows every 10 ms (100 Hz)")
    fitted = (f"{MAX_TRAINING_FRAMES:,} of {total:,} frames (a seeded sample)" if total > MAX_TRAINING_FRAMES
              else plural(total, "frame"))
    print(f"k-means:  {plural(model.n_clusters, 'cluster')}, seed {args.seed}, fitted on {fitted} from "
          f"{plural(len(audios), 'file')}")
    print("HuBERT:   its first round used 100 clusters of these features, fitted on 960 hours of LibriSpeech")
    if model.n_clusters < args.clusters:
        print(f"  note: only {plural(model.n_clusters, 'distinct frame')} to cluster (digital silence repeats one "
              f"frame), so {plural(model.n_clusters, 'cluster')} instead of {args.clusters}")
    files = [describe(audio, unit_ids, model.n_clusters) for audio, unit_ids in zip(audios, units)]

    if plot_path is not None:
        plot(audios[0], units[0], np.array(files[0]["silent"]), model.n_clusters, plot_path)
        print(f"\nSaved {display_path(plot_path)} (spectrogram with the units of {display_path(audios[0].path)} "
              "below it)")
    return {"clusters": args.clusters, "clusters_fitted": model.n_clusters, "seed": args.seed,
            "total_frames": total, "training_frames": min(total, MAX_TRAINING_FRAMES), "files": files,
            "plot": plot_path}


def describe(audio, units: np.ndarray, clusters: int) -> dict:
    """Print one file's numbers and unit sequence; return them."""
    n, mfcc_frames, hubert_frames = audio.num_samples, len(units), predicted_frames(audio.num_samples)
    labels_50hz = units[::2]  # HuBERT's 50 Hz model learns every second 100 Hz unit, one per HuBERT frame
    runs = run_lengths(units)
    mean_run = mfcc_frames / len(runs)
    silent = silent_frames(audio.samples)
    ids, counts = np.unique(units[silent], return_counts=True)
    silent_units = {int(ids[i]): int(counts[i]) for i in np.lexsort((ids, -counts))}  # most frames first
    stretches = [(start * HOP_SECONDS, (start + length - 1) * HOP_SECONDS + WINDOW_SECONDS)  # first to last window
                 for start, length in run_starts(silent) if silent[start]]

    print(f"\n{display_path(audio.path)}")
    if audio.was_resampled or audio.was_downmixed:
        print(f"  loaded from:     {audio.original_sample_rate} Hz, {plural(audio.original_channels, 'channel')} "
              f"-> {audio.sample_rate} Hz mono")
    print(f"  samples:         {n} ({audio.duration:.2f} s at {audio.sample_rate} Hz)")
    print(f"  MFCC frames:     {mfcc_frames} at 100 Hz = floor(({n} - 400) / 160) + 1")
    print(f"  HuBERT frames:   {hubert_frames} at 50 Hz = floor(({n} - 400) / 320) + 1")
    print(f"  50 Hz labels:    {len(labels_50hz)}, every second unit (units[::2]): "
          + ("one per HuBERT frame, over the same 25 ms" if len(labels_50hz) == hubert_frames
             else f"not the {hubert_frames} HuBERT frames"))
    print(f"  distinct units:  {len(np.unique(units))} of {clusters}")
    print(f"  mean run length: {mean_run:.1f} frames ({mean_run * HOP_SECONDS * 1000:.0f} ms): "
          f"{plural(len(runs), 'run')} of one unit")
    print("  units at 100 Hz (unit x frames in a row):")
    print(runs_text(runs))
    print("  labels at 50 Hz, one per HuBERT frame (unit x frames in a row):")
    print(runs_text(run_lengths(labels_50hz)))
    if stretches:
        longest = max(stretches, key=lambda s: s[1] - s[0])
        print(f"  silence:         {plural(int(silent.sum()), 'frame')} at least {SILENCE_DB} dB under the loudest, "
              f"in {plural(len(stretches), 'stretch', 'es')}; longest {seconds(longest[0])}-{seconds(longest[1])} s")
        print(f"  silence units:   {counts_text(silent_units)}")
    else:
        print(f"  silence:         none (no frame {SILENCE_DB} dB under the loudest)")

    return {"path": str(audio.path), "sample_rate": audio.sample_rate,
            "original_sample_rate": audio.original_sample_rate, "original_channels": audio.original_channels,
            "samples": n, "duration": audio.duration, "mfcc_frames": mfcc_frames, "hubert_frames": hubert_frames,
            "labels_50hz": len(labels_50hz), "units": units.tolist(), "units_50hz": labels_50hz.tolist(),
            "distinct_units": len(np.unique(units)), "runs": runs, "mean_run_length": mean_run,
            "silent": silent.tolist(), "silent_frames": int(silent.sum()), "silent_stretches": stretches,
            "silent_units": silent_units}


# ----- checks, printing helpers and the figure ---------------------------------------------------------------

MAX_LINE = 100  # characters per printed line of units
MAX_UNIT_LINES = 6  # a long file's unit sequence is cut after this many lines, with a count of what is left
MAX_SILENT_UNITS = 5
PLOT_SECONDS = 30  # the figure shows the first 30 s


def parse_args(argv: list[str] | None):
    parser = ArgumentParser(prog="hidden_units.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="*", default=None,
                        help="audio files, any format, rate or channels; several are clustered together "
                             "(default: assets/test.wav, the 3-second sample)")
    parser.add_argument("--clusters", type=whole_number(1), default=DEFAULT_CLUSTERS, metavar="K",
                        help="number of k-means clusters (units). HuBERT used 100 over 960 hours of speech; "
                             "the 3 s sample has 298 frames, so 100 would leave ~3 frames per unit, while 25 is "
                             "about one per speech sound of its sentence")
    parser.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=0,
                        help="k-means seed (0 to 2**32 - 1): the same seed gives the same units")
    parser.add_argument("--plot", nargs="?", const="hidden_units.png", default=None, metavar="PATH",
                        help="save the first file's spectrogram with its units below (default path: "
                             "hidden_units.png)")
    return parser.parse_args(argv)


def whole_number(low: int, high: int | None = None):
    """An argparse type: an integer from ``low`` to ``high``, with an error that says so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got '{text}'") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}" if high is None
                                             else f"must be from {low} to {high}, got {value}")
        return value

    return parse


def check_lengths(audios, clusters: int) -> None:
    """Every file needs one 25 ms window; k-means needs at least as many frames as clusters."""
    window = round(WINDOW_SECONDS * SAMPLE_RATE)
    for audio in audios:
        if audio.num_samples < window:
            raise AudioError(f"{audio.path}: {audio.num_samples} samples is too short: one 25 ms MFCC window needs "
                             f"{window} samples at {SAMPLE_RATE} Hz; use a longer recording")
    frames = sum((audio.num_samples - window) // round(HOP_SECONDS * SAMPLE_RATE) + 1 for audio in audios)
    if frames < clusters:
        where = f"{audios[0].path}: {frames}" if len(audios) == 1 else f"{len(audios)} files: {frames} in all,"
        raise UserError(f"{where} MFCC frames, fewer than --clusters {clusters}; lower --clusters to {frames} or "
                        "less, or add audio")


def seconds(value: float) -> str:
    return f"{value + 1e-9:.2f}"  # 2.995 s prints as 3.00, not as 2.99 (2.995 is 2.99499... in binary)


def run_starts(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start frame, length) of each run of equal values."""
    runs, start = [], 0
    for _, length in run_lengths(mask.astype(int)):
        runs.append((start, length))
        start += length
    return runs


def runs_text(runs: list[tuple[int, int]], indent: str = "    ") -> str:
    """``4x3 1x2 14x1 ...`` wrapped at MAX_LINE characters; cut after MAX_UNIT_LINES lines with a count."""
    lines, line, shown = [], indent, 0
    for unit, count in runs:
        item = f"{unit}x{count}"
        if len(line) + len(item) + 1 > MAX_LINE and line.strip():
            lines.append(line.rstrip())
            line = indent
            if len(lines) == MAX_UNIT_LINES:
                break
        line += item + " "
        shown += 1
    else:
        lines.append(line.rstrip())
        return "\n".join(lines)
    rest = runs[shown:]
    lines.append(f"{indent}... {len(rest):,} more runs ({sum(n for _, n in rest):,} frames)")
    return "\n".join(lines)


def counts_text(counts: dict[int, int]) -> str:
    """{2: 59, 7: 2} -> 'unit 2 (59 frames), unit 7 (2 frames)', at most MAX_SILENT_UNITS of them."""
    items = [f"unit {unit} ({count} frame{'s' * (count != 1)})" for unit, count in counts.items()]
    extra = len(items) - MAX_SILENT_UNITS
    return ", ".join(items[:MAX_SILENT_UNITS]) + (f", and {extra} more units" if extra > 0 else "")


def plot(audio, units: np.ndarray, silent: np.ndarray, clusters: int, path) -> None:
    """Spectrogram on top, each frame's unit below (one row per unit id), silence shaded; first 30 s."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = audio.samples[: round((PLOT_SECONDS + WINDOW_SECONDS) * SAMPLE_RATE)]
    frames = min(len(units), round(PLOT_SECONDS / HOP_SECONDS))
    shown = f", the first {PLOT_SECONDS} s" if frames < len(units) else ""
    units, silent = units[:frames], silent[:frames]
    end = (frames - 1) * HOP_SECONDS + WINDOW_SECONDS  # the last window's end, in seconds
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, constrained_layout=True,
                                      gridspec_kw={"height_ratios": [1, 1]})
    power = np.abs(librosa.stft(samples, n_fft=400, hop_length=160, center=False)) ** 2  # [201, frames]
    db = librosa.power_to_db(power, ref=max(float(power.max()), 1e-10), top_db=80)
    image = top.imshow(db, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
                       extent=(0, end, 0, SAMPLE_RATE / 2))
    fig.colorbar(image, ax=top, label="dB")
    top.set(title=f"{audio.path.name}: spectrogram (25 ms windows every 10 ms{shown})", ylabel="frequency (Hz)")

    colours = plt.get_cmap("turbo")  # no greys: grey marks silence
    for ax in (top, bottom):
        for index, (start, length) in enumerate(s for s in run_starts(silent) if silent[s[0]]):
            ax.axvspan(start * HOP_SECONDS, (start + length - 1) * HOP_SECONDS + WINDOW_SECONDS, color="0.75",
                       alpha=0.4, linewidth=0, zorder=0,
                       label=f"silence ({SILENCE_DB} dB or more under the loudest)" if index == 0 else None)
    for start, length in run_starts(units):
        unit = int(units[start])
        bottom.hlines(unit, start * HOP_SECONDS, (start + length) * HOP_SECONDS, linewidth=5, zorder=2,
                      colors=[colours(0.05 + 0.9 * unit / clusters)])
    bottom.set(title=f"hidden units: the k-means cluster of each 10 ms frame ({clusters} clusters)",
               xlabel="time (s)", ylabel="unit id", ylim=(-1, clusters), xlim=(0, end))
    if silent.any():
        bottom.legend(loc="upper right", fontsize=8)
    save_figure(fig, path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    run(main)
