"""The hub, against a stand-in on 127.0.0.1 (tests/stand_in_hub.py): cache first, bounded waits, resumable
downloads, and one line with a cause and a fitting fix for every failure.

Every test here runs with sockets guarded: a connection or name lookup for anything but the loopback address
fails the test (so neither huggingface.co nor transformers' safetensors conversion service can be reached).
The timeouts are shortened (`TEST_LIMITS`); `test_silent_hub_with_the_real_limits` checks the real ones once.
"""

from __future__ import annotations

import errno
import io
import json
import random
import socket
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import src.hub as hub_module
from conftest import ROOT, load_exercise
from src.errors import ModelNotFoundError, UserError, WeightsUnavailableError
from src.hub import (BinOnlyRepoError, DiskFullError, DownloadInterruptedError, HubAccessError, HubOfflineError,
                     HubRepoNotFoundError, HubServerError, HubTimeoutError, HubUnreachableError, Limits,
                     cached_model, fetch_config, fetch_model)
from src.presets import ENCODER_PRESETS, Preset
from stand_in_hub import StandInHub

# The model-loading entry points, in one place (they move to src.encoder / src.loading in the restructure).
from src.encoder import load_encoder
from src.loading import load_tokenizer

pytestmark = pytest.mark.hub  # all of this file uses the stand-in hub (deselect with -m 'not hub')
TEST_LIMITS = Limits(connect=2.0, answer=2.0, read=2.0, deadline=5.0, stall=5.0, attempts=3, first_wait=0.2)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
HUBERT, BIN_ONLY, SHARDED, QWEN, GATED, BIG = ("tiny/hubert", "tiny/hubert-bin", "tiny/hubert-sharded",
                                               "tiny/qwen3", "tiny/gated", "tiny/big")
TOKENIZER = "tiny/qwen3-tokenizer"


# ----- the stand-in hub and its tiny repositories -----------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_hubert():
    """A tiny HubertForCTC (the `tiny` encoder preset's architecture, seeded weights)."""
    import torch
    from transformers import HubertConfig, HubertForCTC

    values = dict(ENCODER_PRESETS["tiny"].config)
    values.pop("model_type")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        return HubertForCTC(HubertConfig(**values)).eval()


@pytest.fixture(scope="session")
def tiny_repos(tiny_hubert, tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """Repositories in the layouts the hub serves: safetensors, sharded safetensors, pickle only, a Qwen3."""
    import torch

    from src.presets import DECODER_PRESETS

    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    from src.loading import build_tiny_tokenizer

    single, sharded = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("sharded")
    tokenizer = tmp_path_factory.mktemp("tokenizer")
    build_tiny_tokenizer().save_pretrained(tokenizer)
    tiny_hubert.save_pretrained(single)
    tiny_hubert.save_pretrained(sharded, max_shard_size="100KB")
    pickled = io.BytesIO()
    torch.save(tiny_hubert.state_dict(), pickled)
    config = files(single)["config.json"]
    return {
        HUBERT: files(single),
        SHARDED: files(sharded),
        BIN_ONLY: {"config.json": config, "pytorch_model.bin": pickled.getvalue(), "README.md": b"# bin only\n"},
        QWEN: {"config.json": json.dumps(DECODER_PRESETS["tiny"].config).encode(),
               "model.safetensors": b"never fetched"},
        GATED: files(single),
        BIG: {"config.json": config, "model.safetensors": random.Random(0).randbytes(3_000_000)},
        TOKENIZER: {**files(tokenizer), "config.json": json.dumps(DECODER_PRESETS["tiny"].config).encode(),
                    "model.safetensors": b"never fetched"},
    }


@pytest.fixture
def stand_in_hub(monkeypatch, tmp_path, tiny_repos):
    """The stand-in hub as HF_ENDPOINT, a fresh empty Hugging Face cache, HF_HUB_OFFLINE cleared, short
    timeouts, and sockets that may only reach the loopback address. Restored afterwards."""
    from huggingface_hub import close_session, constants
    from huggingface_hub.utils import detect_agent

    outside: list[str] = []
    _guard_sockets(monkeypatch, outside)
    hub = StandInHub()
    for repo_id, files in tiny_repos.items():
        hub.add_repo(repo_id, files, gated=repo_id == GATED)
    home = tmp_path / "hf-home"
    for name, value in {"HF_HOME": home, "HF_HUB_CACHE": home / "hub", "HF_ENDPOINT": hub.endpoint}.items():
        monkeypatch.setenv(name, str(value))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub reads these at import; every function looks them up in `constants` when called.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(hub_module, "LIMITS", TEST_LIMITS)
    monkeypatch.chdir(tmp_path)  # so that no "tiny/..." folder is ever mistaken for a model directory
    close_session()
    detect_agent()  # huggingface_hub's once-a-process look-up for its user agent, out of the way
    hub.requests.clear()
    try:
        yield hub
    finally:
        hub.stop()
        close_session()
    assert outside == [], f"requests left 127.0.0.1: {outside}"


def _guard_sockets(monkeypatch, outside: list[str]) -> None:
    """Fail loudly (and record) any name lookup or connection for a host other than the loopback address."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def check(host) -> None:
        host = host.decode() if isinstance(host, bytes) else str(host)
        if host not in LOOPBACK:
            outside.append(host)
            raise OSError(errno.ENETUNREACH, f"test: no request may leave 127.0.0.1 (tried {host})")

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0])
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None:
            check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def tiny_hub_preset(monkeypatch):
    """A preset whose pretrained weights live on the (stand-in) hub: the student's case, where the
    architecture is known without the hub and only the weights need it."""
    preset = Preset("tiny-hub", HUBERT, ENCODER_PRESETS["tiny"].config, "tiny HuBERT with weights on the hub")
    monkeypatch.setitem(ENCODER_PRESETS, preset.name, preset)
    return preset.name


def resolve(repo_id: str) -> list[str]:
    return [f"/api/models/{repo_id}/revision/main"]


def same_weights(encoder, reference) -> bool:
    import torch

    ours, theirs = encoder.hubert.state_dict(), reference.hubert.state_dict()
    return all(torch.equal(ours[key], theirs[key]) for key in theirs)


def run_main(script: str, *args: str) -> tuple[str, object]:
    module = load_exercise(script) if not script.startswith("tools/") else _load_tool(script)
    with redirect_stdout(io.StringIO()) as out:
        result = module.main(list(args))
    return out.getvalue(), result


def _load_tool(path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----- first download, then offline ------------------------------------------------------------------------
def test_first_download_then_offline_reuse(stand_in_hub, tiny_hubert, capsys, monkeypatch):
    hub = stand_in_hub
    started = time.monotonic()
    out, _ = run_main("explore_hubert", "--model", HUBERT, "--weights", "pretrained")
    assert f"Weights:  pretrained weights from {HUBERT}" in out
    sha = hub.repos[HUBERT].sha
    # Exactly config.json and model.safetensors: for each, the file list, a HEAD, then the download (config.json
    # from the hub, the weights from the CDN). transformers asks for nothing: it only ever gets a local folder.
    assert hub.paths("hub") == [*resolve(HUBERT), f"/{HUBERT}/resolve/{sha}/config.json",  # fetch_config
                                f"/{HUBERT}/resolve/{sha}/config.json",
                                *resolve(HUBERT), f"/{HUBERT}/resolve/{sha}/model.safetensors"]  # fetch_model
    assert [r.method for r in hub.requests if r.server == "hub"] == ["GET", "HEAD", "GET", "GET", "HEAD"]
    assert len(hub.paths("cdn")) == 1
    snapshot = cached_model(HUBERT)
    assert snapshot is not None and sorted(p.name for p in snapshot.iterdir()) == ["config.json", "model.safetensors"]

    # Offline, with the stand-in gone: the same weights from the cache, without a single request.
    hub.stop()
    hub.requests.clear()
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    encoder, info = load_encoder(HUBERT, weights="pretrained")
    assert not info.is_random and same_weights(encoder, tiny_hubert)
    out, _ = run_main("explore_hubert", "--model", HUBERT, "--weights", "pretrained")
    assert f"Weights:  pretrained weights from {HUBERT}" in out
    assert hub.requests == []
    assert "warning" not in capsys.readouterr().err
    assert time.monotonic() - started < 30


def test_cached_weights_with_a_silent_hub(stand_in_hub, tiny_hubert, tiny_hub_preset, capsys):
    """Problem 1: the weights are in the cache and the hub accepts connections but never answers."""
    hub = stand_in_hub
    fetch_model(HUBERT, on_progress=lambda line: None)
    hub.silent = True
    hub.requests.clear()
    started = time.monotonic()
    encoder, info = load_encoder(tiny_hub_preset, weights="auto")
    out, _ = run_main("explore_hubert", "--model", HUBERT)  # a hub id: its config.json is cached too
    assert time.monotonic() - started < 10  # no waiting on the hub at all (the cache is used first)
    assert info.description == f"pretrained weights from {HUBERT}" and same_weights(encoder, tiny_hubert)
    assert f"Weights:  pretrained weights from {HUBERT}" in out
    assert hub.requests == []
    assert "warning" not in capsys.readouterr().err


# ----- a silent hub, nothing cached ------------------------------------------------------------------------
def test_silent_hub_without_cache_falls_back_or_fails_in_bounded_time(stand_in_hub, tiny_hub_preset, capsys):
    hub = stand_in_hub
    hub.silent = True
    warnings: list[str] = []
    started = time.monotonic()
    _, info = load_encoder(tiny_hub_preset, weights="auto", on_warning=warnings.append)
    auto_seconds = time.monotonic() - started
    assert info.is_random
    [warning] = warnings
    assert "accepted the connection but did not answer within 2 s" in warning
    assert "RANDOM weights (seed 0)" in warning and "open any web page to log in" in warning
    assert "internet access" not in warning  # the fix fits the cause
    assert auto_seconds < TEST_LIMITS.answer + 5
    assert capsys.readouterr().err == ""  # silence is not retried: no retry line either

    started = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as caught:
        load_encoder(tiny_hub_preset, weights="pretrained")
    assert time.monotonic() - started < TEST_LIMITS.answer + 5
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"pretrained weights for {HUBERT} are unavailable (the ")
    assert "did not answer within 2 s" in message and "open any web page to log in" in message


@pytest.mark.slow  # a whole process that imports torch: seconds
def test_silent_hub_with_the_real_limits(stand_in_hub, monkeypatch):
    """The default limits: a silent hub is given up on after one 10-second wait (with huggingface_hub's
    once-a-day agent look-up already done; it would add 3 s)."""
    monkeypatch.setattr(hub_module, "LIMITS", Limits())
    stand_in_hub.silent = True
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(HubTimeoutError) as caught:
        fetch_model(HUBERT, on_progress=lines.append)
    elapsed = time.monotonic() - started
    assert elapsed < 30, elapsed
    assert "did not answer within 10 s" in caught.value.cause
    assert lines == []


def test_count_params_with_a_silent_hub_is_bounded(stand_in_hub):
    """count_params --encoder <hub id> needs the config.json: a silent hub is one clear error, in time."""
    stand_in_hub.silent = True
    started = time.monotonic()
    with pytest.raises(ModelNotFoundError) as caught:
        run_main("count_params", "--encoder", HUBERT, "--decoder", "tiny")
    assert time.monotonic() - started < TEST_LIMITS.deadline + 5
    message = str(caught.value)
    assert message.startswith(f"cannot get the configuration of encoder '{HUBERT}': the Hugging Face hub at ")
    assert "did not answer" in message and "\n" not in message


def test_count_params_fetches_only_the_config(stand_in_hub):
    out, _ = run_main("count_params", "--encoder", HUBERT, "--decoder", "tiny")
    assert f"Encoder:   {HUBERT}" in out
    assert "no weights (only config.json, from your Hugging Face cache or the hub)" in out
    sha = stand_in_hub.repos[HUBERT].sha
    assert stand_in_hub.paths() == [*resolve(HUBERT), f"/{HUBERT}/resolve/{sha}/config.json",
                                    f"/{HUBERT}/resolve/{sha}/config.json"]


def test_unreachable_hub_fails_fast(stand_in_hub, capsys):
    stand_in_hub.stop()  # connections are refused now
    started = time.monotonic()
    with pytest.raises(HubUnreachableError) as caught:
        fetch_model(HUBERT)
    assert time.monotonic() - started < 5
    assert "cannot connect to the Hugging Face hub at 127.0.0.1:" in caught.value.cause
    assert caught.value.fix.startswith("check your internet connection")
    assert capsys.readouterr().err == ""  # no retries when nothing answers at all


def test_offline_mode_without_cache(stand_in_hub, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubOfflineError) as caught:
        fetch_model(HUBERT)
    assert caught.value.cause.startswith("offline: HF_HUB_OFFLINE is set")
    assert "run once with internet access" in caught.value.fix
    assert stand_in_hub.requests == []


# ----- server errors ---------------------------------------------------------------------------------------
def test_server_errors_give_up_in_bounded_time_with_short_retry_lines(stand_in_hub, tiny_hub_preset, capsys):
    hub = stand_in_hub
    hub.server_errors = 1000
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(HubServerError) as caught:
        fetch_model(HUBERT, on_progress=lines.append)
    assert time.monotonic() - started < TEST_LIMITS.deadline + 5
    assert "server error (HTTP 500)" in caught.value.cause and caught.value.cause.endswith(", 3 times")
    assert caught.value.fix.startswith("the problem is on the hub's side: wait a few minutes")
    assert len(lines) == TEST_LIMITS.attempts - 1
    assert all("server error (HTTP 500); trying again in" in line and len(line) < 100 for line in lines)
    assert len(hub.paths()) == TEST_LIMITS.attempts  # the file list, asked 3 times; nothing else

    warnings: list[str] = []
    _, info = load_encoder(tiny_hub_preset, weights="auto", on_warning=warnings.append)
    assert info.is_random and len(warnings) == 1 and "HTTP 500" in warnings[0] and "wait a few minutes" in warnings[0]
    err = capsys.readouterr().err
    assert "Retrying in" not in err and "HTTP Error" not in err  # huggingface_hub's own retry lines stay out
    assert err.count("trying again in") == TEST_LIMITS.attempts - 1


def test_one_server_error_is_retried(stand_in_hub):
    stand_in_hub.server_errors = 1
    lines: list[str] = []
    snapshot = fetch_model(HUBERT, on_progress=lines.append)
    assert (snapshot / "model.safetensors").is_file()
    assert len(lines) == 1 and "HTTP 500" in lines[0]


# ----- interrupted downloads -------------------------------------------------------------------------------
def test_download_cut_short_is_resumed(stand_in_hub, tiny_hubert):
    hub = stand_in_hub
    size = len(hub.repos[HUBERT].files["model.safetensors"])
    hub.cut_after, hub.cut_times = size // 2, 1
    lines: list[str] = []
    fetch_model(HUBERT, on_progress=lines.append)
    cdn = [r for r in hub.requests if r.server == "cdn"]
    assert [r.range for r in cdn] == [None, f"bytes={size // 2}-"]  # the second request continues
    assert len(lines) == 1 and "the connection broke; resuming at" in lines[0]
    encoder, info = load_encoder(HUBERT, weights="pretrained")
    assert same_weights(encoder, tiny_hubert)


def test_interrupted_download_continues_next_time(stand_in_hub, tiny_hubert):
    hub = stand_in_hub
    size = len(hub.repos[HUBERT].files["model.safetensors"])
    hub.cut_after, hub.cut_times = size // 2, 1000  # every try ends at the same byte: no progress
    started = time.monotonic()
    with pytest.raises(DownloadInterruptedError) as caught:
        fetch_model(HUBERT, on_progress=lambda line: None)
    assert time.monotonic() - started < TEST_LIMITS.stall + 5
    have = hub_module.human_size(size // 2)
    assert f"the download of model.safetensors stopped at {have} of " in caught.value.cause
    assert caught.value.fix.startswith(f"run the same command again: it continues from {have}")
    [partial] = (Path(hub_module.cache_dir()) / "models--tiny--hubert" / "blobs").glob("*.incomplete")
    assert partial.stat().st_size == size // 2

    hub.cut_times = 0  # the next run
    hub.requests.clear()
    fetch_model(HUBERT, on_progress=lambda line: None)
    assert [r.range for r in hub.requests if r.server == "cdn"] == [f"bytes={size // 2}-"]
    assert not partial.exists()
    encoder, _ = load_encoder(HUBERT, weights="pretrained")
    assert same_weights(encoder, tiny_hubert)  # the sha256 of the joined parts was checked too


def test_stalled_download_gives_up_and_continues_next_time(stand_in_hub, monkeypatch):
    """The download server stops answering: give up after `stall` seconds without a byte, keep the part."""
    hub = stand_in_hub
    monkeypatch.setattr(hub_module, "LIMITS", Limits(connect=2, answer=2, read=1, deadline=5, stall=2.5,
                                                     attempts=3, first_wait=0.2))
    hub.silent = "cdn"
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(HubTimeoutError) as caught:  # nothing downloaded yet: the cause as it is
        fetch_model(HUBERT, on_progress=lines.append)
    assert time.monotonic() - started < 2.5 + 3
    assert caught.value.cause.startswith("the download of model.safetensors got no data for 2 s, in ")
    assert 1 <= len(lines) <= 2 and all("no data for 1 s; trying again in 0." in line for line in lines)
    hub.silent = False
    fetch_model(HUBERT, on_progress=lines.append)
    assert cached_model(HUBERT) is not None


def test_progress_lines_without_a_terminal(stand_in_hub):
    lines: list[str] = []
    fetch_model(BIG, on_progress=lines.append)
    assert lines[0].startswith(f"Downloading model.safetensors of {BIG} (3.0 MB) into ")
    steps = [line for line in lines if line.startswith("  model.safetensors: ") and "%" in line]
    assert 3 <= len(steps) <= 12 and steps[-1].endswith("3.0 MB of 3.0 MB (100 %)")
    assert lines[-1].startswith("  model.safetensors: done (3.0 MB in ")


# ----- what the repository holds ---------------------------------------------------------------------------
def test_bin_only_repository(stand_in_hub):
    """Problem 2: reported from the file list, before any download; no request goes anywhere else (the
    socket guard would fail the test if transformers' conversion service were called)."""
    hub = stand_in_hub
    with pytest.raises(BinOnlyRepoError) as caught:
        fetch_model(BIN_ONLY)
    message = str(caught.value)
    assert f"{BIN_ONLY} has no model.safetensors here, only pytorch_model.bin" in message
    assert f"`python tools/convert_to_safetensors.py {BIN_ONLY} hubert-bin-safetensors`" in message
    assert hub.paths() == resolve(BIN_ONLY)

    warnings: list[str] = []
    _, info = load_encoder(BIN_ONLY, weights="auto", on_warning=warnings.append)
    assert info.is_random and len(warnings) == 1
    assert "only pytorch_model.bin" in warnings[0] and "convert_to_safetensors.py" in warnings[0]
    assert "internet access" not in warnings[0]
    assert not any("pytorch_model.bin" in path for path in hub.paths())  # never downloaded


def test_a_preset_reads_the_safetensors_of_a_pull_request_ref(stand_in_hub, tiny_repos, tiny_hubert):
    """hubert-large-ls960-ft and hubert-base-ls960 keep only pytorch_model.bin on main; the hub's safetensors
    conversion waits in a pull request. A preset naming that ref ("refs/pr/1") loads its safetensors."""
    from transformers import HubertModel

    from src.encoder import AudioEncoder
    from src.loading import ModelSource, load_model, resolve_encoder

    stand_in_hub.add_repo(BIN_ONLY, tiny_repos[HUBERT], revision="refs/pr/1")  # main stays pickle-only
    base = resolve_encoder("tiny")
    preset = Preset("pr-preset", BIN_ONLY, base.preset.config, revision="refs/pr/1")
    model, info = load_model(ModelSource("pr-preset", base.config, BIN_ONLY, preset), HubertModel,
                             weights="pretrained")
    assert info.kind == "pretrained" and same_weights(AudioEncoder(model), tiny_hubert)
    assert not any("pytorch_model.bin" in path for path in stand_in_hub.paths())
    assert (ENCODER_PRESETS["hubert-large-ls960-ft"].revision, ENCODER_PRESETS["hubert-base-ls960"].revision,
            ENCODER_PRESETS["hubert-xlarge-ls960-ft"].revision) == ("refs/pr/1", "refs/pr/2", "main")


def test_converting_a_bin_only_repository(stand_in_hub, tiny_hubert, tmp_path):
    out, folder = run_main("tools/convert_to_safetensors.py", BIN_ONLY, str(tmp_path / "converted"))
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    assert out.startswith(f"Wrote {folder / 'model.safetensors'} (")
    encoder, info = load_encoder(str(folder), weights="pretrained")
    assert info.description == f"pretrained weights from {folder}" and same_weights(encoder, tiny_hubert)


def test_converter_refuses_pickles_that_hold_more_than_tensors(tmp_path):
    import torch

    (tmp_path / "config.json").write_text("{}")
    torch.save({"weight": torch.zeros(2), "extra": Unexpected()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(UserError, match=r"pytorch_model.bin: refused, it holds more than tensors"):
        run_main("tools/convert_to_safetensors.py", str(tmp_path), str(tmp_path / "out"))
    assert not (tmp_path / "out" / "model.safetensors").exists()


class Unexpected:
    pass


def test_unknown_repository(stand_in_hub):
    with pytest.raises(HubRepoNotFoundError) as caught:
        fetch_model("nobody/nothing")
    assert caught.value.cause == "the hub has no model repository nobody/nothing (or it is private)"
    with pytest.raises(ModelNotFoundError, match=r"^unknown encoder 'nobody/nothing' \(the hub has no model "):
        load_encoder("nobody/nothing")
    assert stand_in_hub.paths() == resolve("nobody/nothing") * 2


def test_non_hubert_repository(stand_in_hub):
    with pytest.raises(ModelNotFoundError, match=f"encoder '{QWEN}' is a qwen3 model; give a HuBERT model"):
        load_encoder(QWEN)
    sha = stand_in_hub.repos[QWEN].sha
    assert stand_in_hub.paths() == [*resolve(QWEN), f"/{QWEN}/resolve/{sha}/config.json",
                                    f"/{QWEN}/resolve/{sha}/config.json"]  # HEAD, GET: no weights


def test_gated_repository(stand_in_hub):
    with pytest.raises(HubAccessError) as caught:
        fetch_model(GATED)
    assert caught.value.cause.startswith(f"{GATED} is a gated repository")
    assert "hf auth login" in caught.value.fix


def test_sharded_safetensors(stand_in_hub, tiny_hubert):
    snapshot = fetch_model(SHARDED, on_progress=lambda line: None)
    shards = sorted(p.name for p in snapshot.glob("model-*.safetensors"))
    assert len(shards) >= 2 and (snapshot / "model.safetensors.index.json").is_file()
    encoder, _ = load_encoder(SHARDED, weights="pretrained")
    assert same_weights(encoder, tiny_hubert)


def test_disk_full(stand_in_hub, monkeypatch):
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    real_disk_usage = hub_module.shutil.disk_usage
    monkeypatch.setattr(hub_module.shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
    with pytest.raises(DiskFullError) as caught:
        fetch_config(HUBERT)  # config.json is small, but 100 bytes are not enough
    assert "not enough disk space for config.json" in caught.value.cause
    assert caught.value.fix.startswith("free some space, or set HF_HOME to a folder on a larger disk")
    assert stand_in_hub.paths("hub", "GET") == resolve(HUBERT)  # nothing was downloaded

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(hub_module.shutil, "disk_usage", real_disk_usage)
    monkeypatch.setattr(hub_module._Fetch, "_get", no_space)
    with pytest.raises(DiskFullError, match="the disk filled up while downloading"):
        fetch_config(HUBERT)


def test_tokenizer_from_the_hub(stand_in_hub):
    from src.loading import build_tiny_tokenizer

    tokenizer = load_tokenizer(TOKENIZER)
    assert tokenizer("hub").input_ids == build_tiny_tokenizer()("hub").input_ids
    assert not any(path.endswith("model.safetensors") for path in stand_in_hub.paths())
    stand_in_hub.silent = True  # from the cache now
    assert load_tokenizer(TOKENIZER)("hub").input_ids == tokenizer("hub").input_ids
