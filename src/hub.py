"""Model files from the Hugging Face hub: the cache first, then the hub with bounded waits.

`fetch_model` returns a local folder (a snapshot in the Hugging Face cache) holding ``config.json`` and the
safetensors weights, so that ``from_pretrained(folder)`` never goes online:

1. **Cache first.** Files already in the cache are used at once, without asking the hub anything.
2. **Bounded look-ups.** Otherwise the repository's file list and each file's metadata are asked for, every
   request with a connect and an answer timeout, and all of them together, retries included, within
   ``LIMITS.deadline`` seconds (see `Limits`). A repository with only pickled ``pytorch_model.bin`` weights is
   reported here, before anything is downloaded.
3. **Resumable downloads.** Weights are downloaded into ``blobs/<etag>.incomplete`` in the cache and
   continue from there after a dropped connection, in this run or the next; a download gives up after
   ``LIMITS.stall`` seconds without a byte. The sha256 of LFS files is checked.
4. **One line per failure.** Every failure is a `HubError` whose ``cause`` says what happened and whose
   ``fix`` says what to do about that cause (``str(error)`` is both, on one line); retries print one short
   line each.

Requests go only to the configured endpoint (``HF_ENDPOINT``, default https://huggingface.co) and, for file
contents, to where it redirects them (its CDN). Progress: the hub's progress bar on a terminal; otherwise
(IDE consoles, Jupyter ``!python``, logs) a line every 10 % or 10 s.

Stdlib and huggingface_hub only (no torch), so importing this module is cheap.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit

from src.errors import ModelNotFoundError, UserError

CONFIG = "config.json"
SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PICKLE = "pytorch_model.bin"
PICKLE_INDEX = "pytorch_model.bin.index.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.json", "vocab.txt", "merges.txt", "tokenizer.model", "chat_template.jinja",
                   "chat_template.json", CONFIG)
CONVERT_COMMAND = "python tools/convert_to_safetensors.py"
STATUS_PAGE = "https://status.huggingface.co"

_PICKLED_WEIGHTS = re.compile(r"pytorch_model(-\d+-of-\d+)?\.bin(\.index\.json)?")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BIG = 1_000_000  # files from this size on are announced and show progress
T = TypeVar("T")


def _env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """How long the hub may take. With the defaults, a hub that does not answer is given up on after 10 s
    (``answer``; silence is not retried), one that fails (5xx, broken connections) within 20 s
    (``deadline``, retries included), a download after 25 s without a byte (``stall``). Add, once per
    process and only when huggingface_hub has not done it in the last day, its own 3-second look-up of a
    list of AI agents (for its user agent, `build_hf_headers`): at most 23 s in all."""

    connect: float = 5.0  # seconds to open a connection
    answer: float = _env_seconds("HF_HUB_ETAG_TIMEOUT", 10.0)  # seconds to wait for an answer (look-ups)
    read: float = _env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10.0)  # seconds without a byte (downloads)
    deadline: float = max(20.0, 2 * answer)  # all look-ups of one fetch together, retries included
    stall: float = 25.0  # seconds without a byte before a download gives up (it resumes next time)
    attempts: int = 3  # tries per request on server errors and broken connections (downloads: on silence too)
    first_wait: float = 1.0  # seconds before the first retry, doubled for each next one


LIMITS = Limits()


# ----- errors -------------------------------------------------------------------------------------------
class HubError(UserError):
    """The hub could not supply a model's files. ``cause``: what happened; ``fix``: what to do about it.

    ``str(error)`` is ``"<cause>; <fix>"`` on one line. ``short`` is a few words for a retry line;
    ``transient`` says whether trying again soon may help.
    """

    transient = False

    def __init__(self, cause: str, fix: str, short: str | None = None, transient: bool | None = None):
        super().__init__(f"{cause}; {fix}")
        self.cause, self.fix, self.short = cause, fix, short or cause
        if transient is not None:
            self.transient = transient


class HubOfflineError(HubError):
    """HF_HUB_OFFLINE is set and the files are not in the cache."""


class HubUnreachableError(HubError):
    """No connection to the hub (no network, DNS failure, refused, proxy error), or it broke."""


class HubTimeoutError(HubError):
    """The hub accepted the connection but did not answer in time (captive portal, stuck proxy)."""

    transient = True


class HubServerError(HubError):
    """The hub answered with a server error (5xx) or a rate limit (429)."""

    transient = True


class HubProtocolError(HubError):
    """Something answered, but not the way the hub does (a Wi-Fi login page, a misconfigured HF_ENDPOINT)."""


class HubRepoNotFoundError(HubError, ModelNotFoundError):
    """No such repository (or revision), or a private one without a token."""


class HubAccessError(HubError):
    """The repository exists but the hub refuses access: gated, or the token may not read it."""


class HubMissingFilesError(HubError, ModelNotFoundError):
    """The repository lacks a file the model needs (config.json, any weights)."""


class BinOnlyRepoError(HubError):
    """The repository has only pickled ``pytorch_model.bin`` weights, no safetensors."""


class DiskFullError(HubError):
    """Not enough disk space for a download (checked before, and on a full disk while writing)."""


class CacheNotWritableError(HubError):
    """The Hugging Face cache cannot be written."""


class DownloadInterruptedError(HubError):
    """A download stopped part way; what was downloaded is kept and the next run continues from there."""

    transient = True


# ----- public functions ---------------------------------------------------------------------------------
def cache_dir() -> Path:
    """The Hugging Face hub cache in use (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def cached_model(repo_id: str, revision: str = "main") -> Path | None:
    """The cached snapshot folder holding config.json and complete safetensors weights, or None. No network."""
    snapshot = _Repo(repo_id, revision).snapshot()
    return snapshot if snapshot is not None and _has_model(snapshot) else None


def fetch_model(repo_id: str, *, revision: str = "main", on_progress: Callable[[str], None] | None = None) -> Path:
    """A local folder with ``config.json`` and safetensors weights (single file or shards) for ``repo_id``.

    From the cache without any request when they are there; otherwise downloaded (bounded, resumable).
    ``on_progress`` hears download progress and retry lines (default: printed to stderr).
    Raises a `HubError` subclass: `HubOfflineError`, `HubUnreachableError`, `HubTimeoutError`,
    `HubServerError`, `HubProtocolError`, `HubRepoNotFoundError`, `HubAccessError`, `HubMissingFilesError`,
    `BinOnlyRepoError`, `DiskFullError`, `CacheNotWritableError`, `DownloadInterruptedError`.
    """
    return _Fetch(repo_id, revision, on_progress).run(_model_files, _has_model, "the model")


def fetch_config(repo_id: str, *, revision: str = "main", on_progress: Callable[[str], None] | None = None) -> Path:
    """The path of ``config.json`` for ``repo_id`` (cache first, bounded look-ups; no weights). Raises `HubError`."""
    snapshot = _Fetch(repo_id, revision, on_progress).run(
        lambda repo, names: _require(repo, names, CONFIG), lambda folder: (folder / CONFIG).is_file(),
        "its configuration")
    return snapshot / CONFIG


def download_size(repo_id: str, *, revision: str = "main", on_progress: Callable[[str], None] | None = None) -> int:
    """The bytes `fetch_model` would download for ``repo_id`` (config.json and the safetensors weights),
    asked of the hub and never of the cache: the file list, then one look-up per file, bounded as a fetch is.

    For checking that the hub answers before a download. Raises what `fetch_model` raises before it downloads
    anything (`HubOfflineError` when HF_HUB_OFFLINE is set, `BinOnlyRepoError`, ...)."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        raise HubOfflineError("offline: HF_HUB_OFFLINE is set, so the hub is not asked",
                              "unset HF_HUB_OFFLINE to reach the hub")
    fetch = _Fetch(repo_id, revision, on_progress)
    fetch.deadline = time.monotonic() + fetch.limits.deadline
    commit, names = fetch._retrying("the file list", fetch._list_files)
    wanted = _model_files(repo_id, names)
    if SAFETENSORS_INDEX in wanted:  # the shards, as the hub names them beside their index
        wanted += [name for name in names if name.endswith(".safetensors")]
    sizes = [fetch._retrying(name, lambda timeout, n=name: fetch._metadata(n, commit, timeout)).size
             for name in wanted]
    return sum(size or 0 for size in sizes)


def fetch_files(repo_id: str, patterns: Iterable[str], *, required: Iterable[str] = (), revision: str = "main",
                on_progress: Callable[[str], None] | None = None) -> Path:
    """A local folder with every file of ``repo_id`` whose name matches one of ``patterns`` (fnmatch style).

    The cache counts as complete when it holds all ``required`` files (and, for a ``*.index.json``, the
    shards it lists). Raises `HubMissingFilesError` when the repository lacks a required file.
    """
    patterns, required = tuple(patterns), tuple(required)

    def choose(repo: str, names: list[str]) -> list[str]:
        _require(repo, names, *required)
        return [name for name in names if any(fnmatch(name, pattern) for pattern in patterns)]

    def complete(folder: Path) -> bool:
        return all((folder / name).is_file() and (not name.endswith(".index.json") or _has_shards(folder / name))
                   for name in required)

    return _Fetch(repo_id, revision, on_progress).run(choose, complete, "the files needed")


def fetch_tokenizer(repo_id: str, *, revision: str = "main", on_progress: Callable[[str], None] | None = None) -> Path:
    """A local folder with the tokenizer files of ``repo_id`` (and its config.json). Raises `HubError`."""
    return fetch_files(repo_id, TOKENIZER_FILES, required=("tokenizer_config.json",), revision=revision,
                       on_progress=on_progress)


def fetch_pickled_model(repo_id: str, *, revision: str = "main",
                        on_progress: Callable[[str], None] | None = None) -> Path:
    """A local folder with config.json and the pickled ``pytorch_model*.bin`` weights of ``repo_id``, for
    ``tools/convert_to_safetensors.py`` (nothing else reads them). Raises `HubError`."""

    def choose(repo: str, names: list[str]) -> list[str]:
        _require(repo, names, CONFIG)
        weights = [PICKLE] if PICKLE in names else [PICKLE_INDEX] if PICKLE_INDEX in names else []
        if not weights:
            raise HubMissingFilesError(f"{repo} has no pytorch_model.bin to convert",
                                       "check the name; if it has model.safetensors, it needs no conversion")
        extra = [name for name in ("preprocessor_config.json", "generation_config.json") if name in names]
        return [CONFIG, *extra, *weights]

    def complete(folder: Path) -> bool:
        return (folder / CONFIG).is_file() and ((folder / PICKLE).is_file() or _has_shards(folder / PICKLE_INDEX))

    return _Fetch(repo_id, revision, on_progress).run(choose, complete, "the pickled weights")


def offline_error(repo_id: str, what: str = "the model") -> HubOfflineError:
    """The error for HF_HUB_OFFLINE with ``what`` of ``repo_id`` missing from the cache (nothing is checked)."""
    return HubOfflineError(
        f"offline: HF_HUB_OFFLINE is set, and your Hugging Face cache ({cache_dir()}) does not hold {what} of "
        f"{repo_id}",
        f"run once with internet access to download {repo_id} (with HF_HUB_OFFLINE unset), or pass a local "
        "directory that holds config.json and model.safetensors")


def human_size(count: float) -> str:
    """Bytes in decimal units, as the hub shows them: 3.9 GB, 512 kB."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"  # pragma: no cover


def print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----- which files a model needs ------------------------------------------------------------------------
def _require(repo_id: str, names: list[str], *required: str) -> list[str]:
    for name in required:
        if name not in names:
            what = "so it is not a transformers model" if name == CONFIG else "which is needed here"
            raise HubMissingFilesError(f"the hub repository {repo_id} has no {name}, {what}",
                                       "check the model name, or give a local directory that holds it")
    return list(required)


def _model_files(repo_id: str, names: list[str]) -> list[str]:
    _require(repo_id, names, CONFIG)
    if SAFETENSORS in names:
        return [CONFIG, SAFETENSORS]
    if SAFETENSORS_INDEX in names:
        return [CONFIG, SAFETENSORS_INDEX]  # the shards it lists follow
    pickled = sorted(name for name in names if _PICKLED_WEIGHTS.fullmatch(name))
    if pickled:
        only = PICKLE if PICKLE in pickled else f"pickled shards ({', '.join(pickled[:2])}{', ...' * (len(pickled) > 2)})"
        folder = repo_id.split("/")[-1] + "-safetensors"
        raise BinOnlyRepoError(
            f"{repo_id} has no model.safetensors here, only {only}: pickled PyTorch weights, which this course "
            "does not load (unpickling a file can run code)",
            f"convert them on your machine with `{CONVERT_COMMAND} {repo_id} {folder}` (it reads them with "
            f"torch.load(weights_only=True)) and give the folder {folder} as the model")
    raise HubMissingFilesError(f"the hub repository {repo_id} has no model weights (no model.safetensors)",
                               "check the model name, or give a local directory with config.json and "
                               "model.safetensors")


def _shards(index: Path) -> set[str] | None:
    try:
        shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return shards if shards and all(isinstance(s, str) and ".." not in s for s in shards) else None


def _has_shards(index: Path) -> bool:
    shards = _shards(index) if index.is_file() else None
    return shards is not None and all((index.parent / shard).is_file() for shard in shards)


def _has_model(folder: Path) -> bool:
    return (folder / CONFIG).is_file() and ((folder / SAFETENSORS).is_file() or _has_shards(folder / SAFETENSORS_INDEX))


# ----- the cache ----------------------------------------------------------------------------------------
class _Repo:
    """One repository in the Hugging Face cache, in the hub's documented layout:
    ``models--org--name/{blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>, refs/<revision>}``."""

    def __init__(self, repo_id: str, revision: str):
        self.repo_id, self.revision = repo_id, revision
        self.cache = cache_dir()
        self.folder = self.cache / ("models--" + repo_id.replace("/", "--"))

    def snapshot(self, commit: str | None = None) -> Path | None:
        if commit is None:
            if _COMMIT.fullmatch(self.revision):
                commit = self.revision
            else:
                try:
                    commit = (self.folder / "refs" / self.revision).read_text().strip()
                except (OSError, ValueError):
                    return None
        folder = self.folder / "snapshots" / commit
        return folder if folder.is_dir() else None

    def write_ref(self, commit: str) -> None:
        if self.revision == commit:
            return
        ref = self.folder / "refs" / self.revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        tmp = ref.with_name(f"{ref.name}.{os.getpid()}.tmp")
        tmp.write_text(commit)
        os.replace(tmp, ref)

    def link(self, blob: Path, pointer: Path, new_blob: bool) -> None:
        """Make ``pointer`` (in a snapshot) show ``blob``: a relative symlink, else a move or copy (Windows
        without symlink rights), as huggingface_hub does."""
        from huggingface_hub import constants

        pointer.parent.mkdir(parents=True, exist_ok=True)
        if pointer.is_symlink() or pointer.exists():
            pointer.unlink()
        if not constants.HF_HUB_DISABLE_SYMLINKS:
            try:
                os.symlink(os.path.relpath(blob, pointer.parent), pointer)
                return
            except OSError:
                pass
        if new_blob:
            shutil.move(blob, pointer)
        else:
            shutil.copyfile(blob, pointer)


# ----- progress -----------------------------------------------------------------------------------------
class _Progress:
    """The hub's progress bar on a terminal; otherwise a line every 10 % or 10 s (IDE consoles, Jupyter)."""

    LINE_EVERY_S = 10.0

    def __init__(self, name: str, total: int | None, done: int, say: Callable[[str], None]):
        from huggingface_hub.utils import are_progress_bars_disabled

        self.name, self.total, self.done, self.say = name, total, done, say
        self.start_done = done
        self.started = self.last_line = self.last_byte = time.monotonic()
        self.next_tenth = (done * 10 // total + 1) if total else 0
        self.bar = None
        self.lines = bool(total and total >= _BIG)
        stream = sys.stderr
        if self.lines and getattr(stream, "isatty", lambda: False)() and not are_progress_bars_disabled():
            from huggingface_hub.utils import tqdm

            self.bar = tqdm(total=total, initial=done, unit="B", unit_scale=True, unit_divisor=1000, desc=name,
                            file=stream, leave=True)
            self.lines = False

    def restart(self) -> None:
        """The server ignored our Range request: the count starts again from zero."""
        if self.bar is not None:
            self.bar.reset(total=self.total)
        self.done = self.start_done = 0
        self.next_tenth = 1

    def update(self, count: int) -> None:
        now = time.monotonic()
        self.done += count
        self.last_byte = now
        if self.bar is not None:
            self.bar.update(count)
        elif self.lines and (self.done * 10 // self.total >= self.next_tenth or now - self.last_line >= self.LINE_EVERY_S):
            self.next_tenth = self.done * 10 // self.total + 1
            self.last_line = now
            self.say(f"  {self.name}: {self.summary(now)}")

    def summary(self, now: float) -> str:
        rate = (self.done - self.start_done) / max(now - self.started, 1e-3)
        text = f"{human_size(self.done)} of {human_size(self.total)} ({100 * self.done / self.total:.0f} %)"
        if self.total - self.done > rate > 0:
            left = (self.total - self.done) / rate
            text += f", {human_size(rate)}/s, about {left / 60:.0f} min left" if left >= 90 else \
                f", {human_size(rate)}/s, about {left:.0f} s left"
        return text

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----- the network --------------------------------------------------------------------------------------
def _httpx():
    """The HTTP library huggingface_hub uses (httpx2 in 2.x, httpx before), under its stable alias."""
    from huggingface_hub.utils import httpx

    return httpx


class _Partial:
    """A download in progress: ``blobs/<etag>.incomplete``, its size, and the running sha256 of its bytes."""

    def __init__(self, path: Path, expected_sha256: str | None):
        self.path, self.expected = path, expected_sha256
        self.size = path.stat().st_size if path.is_file() else 0
        self.sha = hashlib.sha256() if expected_sha256 else None
        if self.sha is not None and self.size:
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    self.sha.update(block)

    def restart(self) -> None:
        self.path.write_bytes(b"")
        self.size = 0
        self.sha = hashlib.sha256() if self.expected else None


class _Fetch:
    """One fetch: the cache, then bounded look-ups (file list, file metadata), then resumable downloads."""

    def __init__(self, repo_id: str, revision: str, on_progress: Callable[[str], None] | None):
        from huggingface_hub import constants

        self.repo = _Repo(repo_id, revision)
        self.repo_id, self.revision = repo_id, revision
        self.say = on_progress or print_progress
        self.endpoint = constants.ENDPOINT.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc or self.endpoint
        self.limits = LIMITS
        self.deadline = 0.0
        self._headers: dict[str, str] | None = None

    # -- the whole fetch --
    def run(self, choose: Callable[[str, list[str]], list[str]], complete: Callable[[Path], bool], what: str) -> Path:
        from huggingface_hub import constants

        snapshot = self.repo.snapshot()
        if snapshot is not None and complete(snapshot):
            return snapshot  # cache first: no request at all
        if constants.is_offline_mode():
            raise offline_error(self.repo_id, what)
        try:
            self.deadline = time.monotonic() + self.limits.deadline
            commit, names = self._retrying("the file list", self._list_files)
            wanted = choose(self.repo_id, names)
            snapshot = self.repo.folder / "snapshots" / commit
            self._get_files(wanted, commit, snapshot)
            for index in [name for name in wanted if name.endswith(".index.json")]:
                shards = _shards(snapshot / index)
                if shards is None:
                    raise HubProtocolError(f"{index} in {self.repo_id} does not list its shards",
                                           "report this to the repository's authors")
                self.deadline = time.monotonic() + self.limits.deadline  # a second round of look-ups
                self._get_files(sorted(shards), commit, snapshot)
            self.repo.write_ref(commit)
        except HubError:
            raise
        except OSError as err:  # the cache itself (mkdir, symlink, rename)
            raise self._explain_os_error(err) from err
        if not complete(snapshot):
            raise HubProtocolError(f"the files of {self.repo_id} are incomplete after the download",
                                   "run again; if this repeats, delete the folder "
                                   f"{self.repo.folder} and run again")
        return snapshot

    def _get_files(self, names: list[str], commit: str, snapshot: Path) -> None:
        """Look up every missing file first (bounded), then download them, smallest first."""
        missing = [name for name in names if not (snapshot / name).is_file()]
        metadata = [(name, self._retrying(name, lambda timeout, n=name: self._metadata(n, commit, timeout)))
                    for name in missing]
        for name, meta in sorted(metadata, key=lambda item: item[1].size or 0):
            etag = (meta.etag or "").strip('"')
            if not etag or "/" in etag or etag.startswith("."):
                raise HubProtocolError(f"{self.host} sent no usable ETag for {name}", _PROTOCOL_FIX)
            blob = self.repo.folder / "blobs" / etag
            new_blob = not blob.is_file()
            if new_blob:
                self._download(name, meta.location, blob, meta.size, etag)
            self.repo.link(blob, snapshot / name, new_blob)

    # -- look-ups: each request bounded, retries within the deadline --
    def _retrying(self, what: str, call: Callable[[object], T]) -> T:
        httpx = _httpx()
        attempt, wait = 1, self.limits.first_wait
        while True:
            remaining = self.deadline - time.monotonic()
            answer = min(self.limits.answer, max(remaining, 0.1))
            timeout = httpx.Timeout(answer, connect=min(self.limits.connect, answer))
            try:
                return call(timeout)
            except Exception as raw:  # noqa: BLE001 - anything not explained below is re-raised
                err = self._explain(raw, what, answer)
                if err is None:
                    raise
                # Silence is not retried: a hub that accepted the connection and said nothing for `answer`
                # seconds is a captive portal or a stuck proxy far more often than a passing hiccup.
                tries = 1 if isinstance(err, HubTimeoutError) else self.limits.attempts
                wait = max(wait, _retry_after(raw) or 0)
                if not err.transient or attempt >= tries or time.monotonic() + wait + 0.5 >= self.deadline:
                    if isinstance(err, HubServerError) and attempt > 1:
                        err = HubServerError(f"{err.cause}, {attempt} times", err.fix, err.short)
                    raise err from raw
                self.say(f"  {self.host}: {err.short}; trying again in {wait:g} s (try {attempt + 1} of {tries})")
                time.sleep(wait)
                attempt, wait = attempt + 1, wait * 2

    def _list_files(self, timeout) -> tuple[str, list[str]]:
        from huggingface_hub import HfApi

        info = HfApi(endpoint=self.endpoint).model_info(self.repo_id, revision=self.revision, timeout=timeout)
        if not info.sha or not _COMMIT.fullmatch(info.sha):
            raise HubProtocolError(f"{self.host} sent a file list without a commit id", _PROTOCOL_FIX)
        return info.sha, [sibling.rfilename for sibling in info.siblings or []]

    def _metadata(self, name: str, commit: str, timeout):
        from huggingface_hub import get_hf_file_metadata

        url = f"{self.endpoint}/{self.repo_id}/resolve/{commit}/{quote(name)}"
        return get_hf_file_metadata(url, timeout=timeout, headers=dict(self.headers()), endpoint=self.endpoint)

    def headers(self) -> dict[str, str]:
        if self._headers is None:
            from huggingface_hub.utils import build_hf_headers

            self._headers = build_hf_headers()
        return self._headers

    # -- downloads: resumable, bounded by time without progress --
    def _download(self, name: str, url: str, blob: Path, size: int | None, etag: str) -> None:
        from huggingface_hub.utils import WeakFileLock

        blob.parent.mkdir(parents=True, exist_ok=True)
        lock = self.repo.cache / ".locks" / self.repo.folder.name / f"{etag}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with WeakFileLock(str(lock)):
            if blob.is_file():
                return
            partial = _Partial(blob.with_name(blob.name + ".incomplete"), etag if _SHA256.fullmatch(etag) else None)
            if size is not None and partial.size > size:
                partial.restart()
            self._check_space(name, blob.parent, (size or 0) - partial.size)
            if size is not None and size >= _BIG:
                self.say(f"{'Resuming' if partial.size else 'Downloading'} {name} of {self.repo_id} "
                         f"({human_size(size)}{f', from {human_size(partial.size)}' if partial.size else ''}) "
                         f"into {self.repo.cache} ...")
            progress = _Progress(name, size, partial.size, self.say)
            try:
                self._download_with_retries(name, url, partial, size, progress)
            finally:
                progress.close()
            if size is not None and partial.size != size:
                raise DownloadInterruptedError(
                    f"the download of {name} came out at {human_size(partial.size)} instead of {human_size(size)}",
                    "run the same command again to continue it", transient=False)
            if partial.sha is not None and partial.sha.hexdigest() != partial.expected:
                partial.path.unlink()
                raise DownloadInterruptedError(f"the downloaded {name} is damaged (its sha256 does not match)",
                                               "run the same command again to download it afresh", transient=False)
            os.replace(partial.path, blob)
            if size is not None and size >= _BIG:
                self.say(f"  {name}: done ({human_size(size)} in {time.monotonic() - progress.started:.0f} s)")

    def _download_with_retries(self, name: str, url: str, partial: _Partial, size: int | None,
                               progress: _Progress) -> None:
        httpx = _httpx()
        attempt, wait = 1, self.limits.first_wait
        while True:
            before = partial.size
            stalled = time.monotonic() - progress.last_byte
            read = max(min(self.limits.read, self.limits.stall - stalled), 0.1)
            try:
                self._get(url, partial, size, progress, httpx.Timeout(read, connect=min(self.limits.connect, read)))
                return
            except Exception as raw:  # noqa: BLE001 - anything not explained below is re-raised
                err = self._explain(raw, name, read, partial=partial, size=size)
                if err is None:
                    raise
                # While downloading, a refused or broken connection is worth another try (a Wi-Fi blip).
                network = isinstance(err, (HubUnreachableError, HubTimeoutError, HubServerError))
                if partial.size > before:
                    attempt, wait = 1, self.limits.first_wait  # progress was made: a fresh retry budget
                stalled = time.monotonic() - progress.last_byte
                if not network or attempt >= self.limits.attempts or stalled + wait >= self.limits.stall:
                    if isinstance(err, HubTimeoutError):  # say how long it waited in all, not in the last try
                        err = HubTimeoutError(f"the download of {name} got no data for {stalled:.0f} s, in "
                                              f"{attempt} tries", err.fix, f"no data for {stalled:.0f} s")
                    if partial.size == 0 or not network:
                        raise err from raw
                    raise DownloadInterruptedError(
                        f"the download of {name} stopped at {human_size(partial.size)} of "
                        f"{human_size(size) if size else '?'} ({err.short})",
                        f"run the same command again: it continues from {human_size(partial.size)} (the part "
                        "already downloaded is kept in the Hugging Face cache)", err.short) from raw
                again = f"resuming at {human_size(partial.size)}" if partial.size else "trying again"
                self.say(f"  {name}: {err.short}; {again} in {wait:g} s")
                time.sleep(wait)
                attempt, wait = attempt + 1, wait * 2

    def _get(self, url: str, partial: _Partial, size: int | None, progress: _Progress, timeout) -> None:
        from huggingface_hub import get_session
        from huggingface_hub.utils import hf_raise_for_status

        headers = dict(self.headers())
        if urlsplit(url).netloc != urlsplit(self.endpoint).netloc:
            headers.pop("authorization", None)  # a signed CDN address: the token stays with the hub
        headers["Accept-Encoding"] = "identity"
        if partial.size:
            if size is not None and partial.size >= size:
                return
            headers["Range"] = f"bytes={partial.size}-"
        with get_session().stream("GET", url, headers=headers, timeout=timeout) as response:
            hf_raise_for_status(response)
            if partial.size and response.status_code != 206:  # the server ignored Range: start again
                partial.restart()
                progress.restart()
            with partial.path.open("ab") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    partial.size += len(chunk)
                    if partial.sha is not None:
                        partial.sha.update(chunk)
                    progress.update(len(chunk))
        if size is not None and partial.size < size:
            raise _httpx().RemoteProtocolError(f"the connection closed at {partial.size} of {size} bytes")

    def _check_space(self, name: str, folder: Path, needed: int) -> None:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return
        if needed > free:
            raise DiskFullError(
                f"not enough disk space for {name} of {self.repo_id}: {human_size(needed)} needed, "
                f"{human_size(free)} free in {self.repo.cache}", _DISK_FIX)

    # -- what went wrong, in words --
    def _explain(self, err: BaseException, what: str, waited: float, partial: _Partial | None = None,
                 size: int | None = None) -> HubError | None:
        from huggingface_hub.errors import (FileMetadataError, GatedRepoError, HfHubHTTPError, HFValidationError,
                                            OfflineModeIsEnabled, RemoteEntryNotFoundError, RepositoryNotFoundError,
                                            RevisionNotFoundError)

        httpx = _httpx()
        repo = self.repo_id
        if isinstance(err, HubError):
            return err
        if isinstance(err, OfflineModeIsEnabled):
            return HubOfflineError("offline: HF_HUB_OFFLINE is set", "unset HF_HUB_OFFLINE and run again")
        if isinstance(err, HFValidationError):
            return HubRepoNotFoundError(f"'{repo}' is not a valid hub id ({_first_line(err)})",
                                        "give a name like facebook/hubert-xlarge-ls960-ft")
        if isinstance(err, RevisionNotFoundError):
            return HubRepoNotFoundError(f"the hub repository {repo} has no revision '{self.revision}'",
                                        "check the revision (branch, tag or commit)")
        if isinstance(err, GatedRepoError):
            return HubAccessError(
                f"{repo} is a gated repository: the hub wants you to accept its terms first "
                f"(HTTP {_status(err)})",
                f"accept them at {self.endpoint}/{repo} while logged in, run `hf auth login` on this machine, "
                "and run again")
        if isinstance(err, RepositoryNotFoundError):
            return HubRepoNotFoundError(
                f"the hub has no model repository {repo} (or it is private)",
                "check the name (for example facebook/hubert-xlarge-ls960-ft); for a private repository, "
                "log in with `hf auth login`")
        if isinstance(err, RemoteEntryNotFoundError):
            return HubMissingFilesError(f"the hub repository {repo} has no {what}", "check the model name")
        if isinstance(err, HfHubHTTPError):
            status = _status(err)
            if status in (401, 403):
                return HubAccessError(f"the hub refused access to {repo} (HTTP {status})",
                                      "check that you are logged in (`hf auth login`) with a token that may read it")
            if status == 429:
                return HubServerError(
                    "the hub is limiting the number of requests (HTTP 429)",
                    "wait a few minutes and run again (logged-in users, `hf auth login`, get a higher limit)",
                    "rate limited (HTTP 429)")
            if status is not None and status >= 500:
                return HubServerError(
                    f"the Hugging Face hub at {self.host} answered with a server error (HTTP {status})",
                    f"the problem is on the hub's side: wait a few minutes and run again (status: {STATUS_PAGE})",
                    f"server error (HTTP {status})")
            return HubProtocolError(f"{self.host} answered HTTP {status} for {what} of {repo}", _PROTOCOL_FIX)
        if isinstance(err, httpx.ProxyError):
            return HubUnreachableError(f"the proxy refused the connection to {self.host} ({_first_line(err)})",
                                       "check your proxy settings (HTTPS_PROXY) and run again")
        if isinstance(err, httpx.ConnectTimeout):
            return HubUnreachableError(f"no connection to the Hugging Face hub at {self.host} within "
                                       f"{min(waited, self.limits.connect):.0f} s", _CONNECT_FIX, "no connection")
        if isinstance(err, httpx.ConnectError):
            return HubUnreachableError(f"cannot connect to the Hugging Face hub at {self.host} "
                                       f"({_first_line(err)})", _CONNECT_FIX, "cannot connect")
        if isinstance(err, httpx.TimeoutException):
            if partial is not None:
                return HubTimeoutError(f"the download of {what} got no data for {waited:.0f} s", _SILENT_FIX,
                                       f"no data for {waited:.0f} s")
            return HubTimeoutError(
                f"the Hugging Face hub at {self.host} accepted the connection but did not answer within {waited:.0f} s",
                _SILENT_FIX, f"no answer within {waited:.0f} s")
        if isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError)):
            return HubUnreachableError(f"the connection to {self.host} broke ({_first_line(err)})", _CONNECT_FIX,
                                       "the connection broke", transient=True)
        if isinstance(err, FileMetadataError) or (isinstance(err, ValueError) and partial is None):
            return HubProtocolError(f"{self.host} answered, but not the way the Hugging Face hub does "
                                    f"({_first_line(err)[:120]})", _PROTOCOL_FIX)
        if isinstance(err, OSError):
            return self._explain_os_error(err, what if partial is not None else None, partial, size)
        return None

    def _explain_os_error(self, err: OSError, name: str | None = None, partial: _Partial | None = None,
                          size: int | None = None) -> HubError:
        where = self.repo.cache
        if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            at = f" at {human_size(partial.size)} of {human_size(size)}" if partial is not None and size else ""
            return DiskFullError(f"the disk filled up while downloading {name or 'the model'}{at} into {where}",
                                 _DISK_FIX)
        if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return CacheNotWritableError(f"cannot write to the Hugging Face cache at {where} ({err.strerror})",
                                         "set HF_HOME to a folder you can write to (or fix this folder's "
                                         "permissions) and run again")
        return CacheNotWritableError(f"cannot use the Hugging Face cache at {where} "
                                     f"({err.strerror or _first_line(err)})",
                                     "check that folder, or set HF_HOME to another one, and run again")


_CONNECT_FIX = ("check your internet connection (and proxy settings, if you use one) and run again; once "
                "downloaded, the files are used from the cache without the hub")
_SILENT_FIX = ("if this network has a login page (hotel, campus or café Wi-Fi), open any web page to log in; "
               "otherwise check your proxy settings; then run again")
_PROTOCOL_FIX = ("if this network has a login page, open any web page to log in; otherwise check HF_ENDPOINT and "
                 "your proxy settings; then run again")
_DISK_FIX = ("free some space, or set HF_HOME to a folder on a larger disk, then run again (a partial download "
             "is kept and continues where it stopped)")


def _first_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    text = re.sub(r"^\[Errno -?\d+\] ", "", text)
    return text or type(err).__name__


def _status(err: BaseException) -> int | None:
    response = getattr(err, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(err: BaseException) -> float | None:
    response = getattr(err, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    return float(value) if value and value.strip().isdigit() else None
