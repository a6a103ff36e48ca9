"""The lecture's figures (classes/make_figures.py) state true numbers.

For each figure the numbers it shows are recomputed with the same functions, without drawing, and compared
with the committed classes/figures/<name>.json (ints and strings exactly, floats to the 4 decimals kept there);
each PNG must exist at its fixed pixel size. The physics each figure illustrates is also checked on its own,
without make_figures' helpers where that is easy. A slow test redraws every figure into a temporary folder and
compares the bytes with the committed ones: that holds on the locked environment only (matplotlib and the
FreeType it bundles decide the pixels), so after re-locking, run `poetry run python classes/make_figures.py`
and commit what changed.
"""

import importlib.util
import json
import struct

import numpy as np
import pytest

from src.audio import energy_share_above, through_rate

from conftest import ROOT

FIGURES = ROOT / "classes" / "figures"


def _load_make_figures():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "classes" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mf = _load_make_figures()
_COMPUTED: dict[str, tuple[dict, dict]] = {}


def computed(name: str) -> tuple[dict, dict]:
    """(numbers, data) of one figure, computed once per session, the way make_figure seeds it."""
    if name not in _COMPUTED:
        np.random.seed(mf.SEED)
        numbers, data = getattr(mf, f"compute_{name}")()
        _COMPUTED[name] = json.loads(json.dumps(numbers)), data  # as the JSON file holds them (tuples -> lists)
    return _COMPUTED[name]


def committed(name: str) -> dict:
    path = FIGURES / f"{name}.json"
    assert path.is_file(), f"{path.name} is missing: run `poetry run python classes/make_figures.py`"
    return json.loads(path.read_text(encoding="utf-8"))


def assert_same(actual, expected, where: str = "") -> None:
    """Exact for ints, bools and strings; floats within the rounding of the JSON (4 decimals)."""
    assert type(actual) is type(expected) or {type(actual), type(expected)} == {int, float}, where
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), f"{where}: keys differ"
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: {len(actual)} items, committed {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) or isinstance(actual, float):
        assert actual == pytest.approx(expected, rel=1e-4, abs=2e-4), f"{where}: {actual} vs committed {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} vs committed {expected!r}"


def png_chunks(path) -> dict[bytes, bytes]:
    """The PNG's chunks, type -> data (the last of each type; IDAT is not needed here)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    chunks, i = {}, 8
    while i < len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        chunks[kind] = data[i + 8:i + 8 + length]
        i += 12 + length  # length, type, data, CRC
    return chunks


# ----- every figure: committed numbers = recomputed numbers; PNG present at its size --------------------------------

@pytest.mark.parametrize("name", mf.FIGURE_NAMES)
def test_figure_numbers_match_the_committed_json(name):
    numbers, _ = computed(name)
    if name == "hidden_units":  # k-means on float features: cluster ids may differ on another CPU/BLAS
        numbers, expected = dict(numbers), dict(committed(name))
        units, committed_units = numbers.pop("units_50hz"), expected.pop("units_50hz")
        assert len(units) == len(committed_units)
        assert np.mean(np.equal(units, committed_units)) >= 0.9, "hidden units drifted: regenerate the figure"
        numbers.pop("distinct_units"), numbers.pop("unit_runs_50hz")
        expected.pop("distinct_units"), expected.pop("unit_runs_50hz")
        assert_same(numbers, expected, name)
    else:
        assert_same(numbers, committed(name), name)


@pytest.mark.parametrize("name", mf.FIGURE_NAMES)
def test_figure_png_exists_at_its_fixed_size(name):
    path = FIGURES / f"{name}.png"
    assert path.is_file(), f"{path.name} is missing: run `poetry run python classes/make_figures.py`"
    chunks = png_chunks(path)
    width, height = mf.FIGSIZE
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (round(width * mf.DPI), round(height * mf.DPI))
    # No text chunks: a "Software" or date entry would change with every matplotlib version or run.
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(chunks), f"{path.name} carries text or a timestamp"


def test_at_least_six_figures():
    assert len(mf.FIGURE_NAMES) >= 6
    assert sorted(p.stem for p in FIGURES.glob("*.png")) == sorted(mf.FIGURE_NAMES)


# ----- the physics, checked on its own ------------------------------------------------------------------------------

def test_quantising_to_4_bits_leaves_at_most_16_levels(test_wav):
    import soundfile as sf

    samples, _ = sf.read(test_wav, dtype="float32")
    four_bit = mf.quantise(samples, 4)
    assert len(np.unique(four_bit)) <= 16
    assert np.all(np.abs(samples - four_bit) <= 1 / 16 + 1e-12)  # half a step (2 / 16 / 2), no clipping here
    assert np.array_equal(mf.quantise(samples, 16), samples)  # a 16-bit file is already on the 16-bit grid
    numbers, _ = computed("sampling")
    assert numbers["levels_used"] <= numbers["levels"] == 16 and numbers["samples_shown"] == 320


def test_6_and_10_khz_alias_to_the_same_frequency_at_16_khz():
    assert mf.aliased_frequency(6_000, 16_000) == mf.aliased_frequency(10_000, 16_000) == 6_000
    assert mf.aliased_frequency(17_000, 16_000) == 1_000 and mf.aliased_frequency(8_000, 16_000) == 8_000
    n = np.arange(160)
    np.testing.assert_allclose(np.cos(2 * np.pi * 10_000 * n / 16_000), np.cos(2 * np.pi * 6_000 * n / 16_000),
                               atol=1e-9)
    numbers, _ = computed("aliasing")
    assert numbers["fft_peak_hz"] == [6000.0, 6000.0] and numbers["same_samples"] is True


def test_energy_share_above_a_cutoff_agrees_two_ways(test_wav):
    from scipy.signal import welch

    from src.audio import load_audio

    # A tone of amplitude 1 at 1 kHz and one of 0.5 at 5 kHz: 0.25 / 1.25 = 20 % of the energy is above 4 kHz.
    t = np.arange(16_000) / 16_000
    tones = np.sin(2 * np.pi * 1_000 * t) + 0.5 * np.sin(2 * np.pi * 5_000 * t)
    assert energy_share_above(tones, 16_000, 4_000) == pytest.approx(0.2, abs=1e-9)

    samples = load_audio(test_wav).samples
    frequencies, psd = welch(samples.astype(np.float64), fs=16_000, nperseg=512)  # averaged short spectra
    by_welch = psd[frequencies > 4_000].sum() / psd.sum()
    by_fft = energy_share_above(samples, 16_000, 4_000)
    assert by_fft == pytest.approx(by_welch, abs=0.002)
    assert 100 * by_fft == pytest.approx(committed("telephone")["percent_above_4khz"], abs=2e-4)


def test_through_8_khz_removes_what_lies_above_4_khz():
    t = np.arange(16_000) / 16_000
    low, high = np.sin(2 * np.pi * 1_000 * t), np.sin(2 * np.pi * 5_000 * t)
    phone = through_rate((low + high).astype(np.float32), 16_000, 8_000)
    assert phone.shape == (16_000,)
    inner = slice(1_000, -1_000)  # away from the resampler's edges
    np.testing.assert_allclose(phone[inner], low[inner], atol=0.01)  # 1 kHz kept, 5 kHz gone (not aliased to 3)
    numbers, _ = computed("telephone")
    assert numbers["percent_above_4khz_after"] < 0.001
    assert numbers["percent_energy_removed"] >= numbers["percent_above_4khz"]


def test_normalisation_is_the_z_score_formula(test_wav):
    from src.audio import load_audio

    x = load_audio(test_wav).samples.astype(np.float64)
    numbers, data = computed("normalisation")
    np.testing.assert_allclose(data["normalised"], (x - x.mean()) / np.sqrt(x.var() + 1e-7), atol=1e-4)
    assert numbers["normalised"]["mean"] == pytest.approx(0, abs=1e-4)
    assert numbers["normalised"]["std"] == pytest.approx(1, abs=1e-4)


def test_attention_mask_sums_equal_the_clip_lengths():
    numbers, data = computed("padding")
    assert numbers["clip_lengths"] == [48_000, 72_000]  # assets/README.md: test_44k_stereo.wav -> 72,000 at 16 kHz
    assert numbers["mask_sums"] == numbers["clip_lengths"] == data["mask"].sum(axis=1).tolist()
    assert numbers["batch_shape"] == [2, 72_000]
    assert np.all(data["values"][0, 48_000:] == 0.0) and np.all(data["mask"][0, 48_000:] == 0)


def test_frame_count_is_the_formula_and_the_convolutions():
    from src.audio import conv_output_frames, predicted_frames

    numbers, _ = computed("framing")
    assert numbers["frames"] == predicted_frames(48_000) == conv_output_frames(48_000) == (48_000 - 400) // 320 + 1
    assert numbers["frames"] == 149
    assert numbers["last_frame_window"] == [148 * 320, 148 * 320 + 400]
    assert numbers["time_reduction"] == pytest.approx(322.1, abs=0.05)
    assert numbers["ms_per_frame"] == pytest.approx(20.1, abs=0.05)


def test_mask_is_transformers_own_and_covers_overlapping_spans():
    numbers, data = computed("hidden_units")
    mask = data["mask"]
    assert mask.shape == (numbers["hubert_frames"],) == (149,)
    assert numbers["masked_frames"] == np.flatnonzero(mask).tolist()
    assert numbers["masked_share"] == pytest.approx(mask.mean(), abs=1e-4)
    # Each span is 10 frames, spans overlap: the share lies below 8 % x 10 = 80 %, and every masked stretch is
    # at least one span long.
    assert numbers["masked_share"] < 0.8
    starts = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]) == -1)
    assert len(starts) == numbers["masked_stretches"] and np.all(ends - starts >= 10)
    assert numbers["labels_50hz"] == numbers["hubert_frames"] and numbers["mfcc_frames"] == 298


def test_parameter_budget_is_the_specified_one():
    numbers, _ = computed("parameter_budget")
    expected = {"encoder": (964_463_488, 1_966_080), "projector": (138_422_528, 138_422_528),
                "decoder": (8_194_569_216, 3_833_856), "overall": (9_297_455_232, 144_222_464)}
    for name, (total, trainable) in expected.items():
        assert (numbers[name]["total"], numbers[name]["trainable"]) == (total, trainable), name
        assert numbers[name]["frozen"] == total - trainable
    assert round(numbers["overall"]["trainable_percent"], 2) == 1.55


# ----- regeneration is byte-identical --------------------------------------------------------------------------------

@pytest.mark.slow
def test_regenerating_gives_the_committed_files(tmp_path):
    """Depends on the locked matplotlib/FreeType/NumPy: after re-locking, regenerate and commit the figures."""
    mf.main(["--out", str(tmp_path)])
    for name in mf.FIGURE_NAMES:
        for suffix in (".json", ".png"):
            fresh, kept = tmp_path / f"{name}{suffix}", FIGURES / f"{name}{suffix}"
            assert fresh.read_bytes() == kept.read_bytes(), (
                f"{kept.name} differs from a fresh run: run `poetry run python classes/make_figures.py`")
