"""A stand-in for the Hugging Face hub on 127.0.0.1, for tests that must not touch the internet.

It answers the requests huggingface_hub 2.4.0 and src/hub.py make, the way huggingface.co does:

- ``GET /api/models/{repo}/revision/{rev}``: the model info (commit ``sha`` and ``siblings``, the file list);
- ``HEAD``/``GET /{repo}/resolve/{rev}/{file}``: a small (git) file directly, with ``ETag`` (its git blob id),
  ``X-Repo-Commit`` and ``Content-Length``; an LFS file (weights) as a 302 redirect to a second server, the
  "CDN", with ``X-Linked-Etag`` (its sha256), ``X-Linked-Size`` and ``X-Repo-Commit``;
- ``GET /cdn/{sha256}`` on the CDN server, with ``Range: bytes=N-`` answered by 206 and ``Content-Range``;
- ``GET /api/agent-harnesses``: huggingface_hub's list of AI agents (asked once a day, for its user agent);
- errors as the hub sends them: ``X-Error-Code`` RepoNotFound (401, as for anonymous users), GatedRepo,
  RevisionNotFound, EntryNotFound (404).

Fault switches: ``silent`` (accept connections, never answer; True for both servers, or "cdn" for the
downloads only), ``server_errors`` (answer the next N requests
with HTTP 500), ``cut_after``/``cut_times`` (end CDN downloads after N bytes), ``bytes_per_second`` (slow
CDN). Every request is logged in ``requests``.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

LFS_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class Request:
    server: str  # "hub" or "cdn"
    method: str
    path: str
    range: str | None = None


@dataclass
class Repo:
    repo_id: str
    files: dict[str, bytes]
    gated: bool = False
    sha: str = ""

    def __post_init__(self):
        digest = hashlib.sha1(self.repo_id.encode())
        for name in sorted(self.files):
            digest.update(name.encode() + hashlib.sha256(self.files[name]).digest())
        self.sha = digest.hexdigest()

    @staticmethod
    def is_lfs(name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StandInHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    other_revisions: dict[tuple[str, str], Repo] = field(default_factory=dict)  # (repo id, ref) -> files
    requests: list[Request] = field(default_factory=list)
    silent: bool | str = False
    server_errors: int = 0
    cut_after: int | None = None
    cut_times: int = 0
    bytes_per_second: float | None = None

    def __post_init__(self):
        self.lock = threading.Lock()
        self.connections: set = set()  # open (keep-alive) connections, closed by stop()
        self.release = threading.Event()  # set on stop: silent handlers give up
        self.hub = self._serve("hub")
        self.cdn = self._serve("cdn")
        self.endpoint = f"http://127.0.0.1:{self.hub.server_address[1]}"
        self.cdn_url = f"http://127.0.0.1:{self.cdn.server_address[1]}"

    # -- set-up --
    def add_repo(self, repo_id: str, files: dict[str, bytes], gated: bool = False, revision: str = "main") -> Repo:
        """Serve ``files`` as ``repo_id`` at ``revision``: "main", or another ref such as a pull request's
        "refs/pr/1" (the hub keeps a pull request's files apart from main's)."""
        repo = Repo(repo_id, dict(files), gated)
        if revision == "main":
            self.repos[repo_id] = repo
        else:
            self.other_revisions[(repo_id, revision)] = repo
        return repo

    def stop(self) -> None:
        """Stop both servers and drop their open connections: from now on, connections are refused."""
        self.release.set()
        for server in (self.hub, self.cdn):
            server.shutdown()
            server.server_close()
        with self.lock:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def paths(self, server: str | None = None, method: str | None = None) -> list[str]:
        """The logged request paths (huggingface_hub's agent list left out), optionally by server/method."""
        return [r.path for r in self.requests if (server is None or r.server == server)
                and (method is None or r.method == method) and r.path != "/api/agent-harnesses"]

    def _serve(self, role: str) -> ThreadingHTTPServer:
        hub = self

        class Handler(_Handler):
            stand_in, server_role = hub, role

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name=f"stand-in-{role}").start()
        return server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stand_in: StandInHub
    server_role: str

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def setup(self):
        super().setup()
        with self.stand_in.lock:
            self.stand_in.connections.add(self.connection)

    def finish(self):
        with self.stand_in.lock:
            self.stand_in.connections.discard(self.connection)
        super().finish()

    def do_HEAD(self):
        self._handle(body=False)

    def do_GET(self):
        self._handle(body=True)

    # -- dispatch --
    def _handle(self, body: bool) -> None:
        hub = self.stand_in
        path = unquote(self.path.split("?")[0])
        with hub.lock:
            hub.requests.append(Request(self.server_role, self.command, path, self.headers.get("Range")))
            fail = hub.server_errors > 0 and path != "/api/agent-harnesses"
            if fail:
                hub.server_errors -= 1
        if hub.silent is True or hub.silent == self.server_role:
            hub.release.wait(60)  # accept, read the request, never answer
            self.close_connection = True
            return
        if fail:
            return self._send(500, b"Internal Server Error", {"Content-Type": "text/plain"}, body)
        if self.server_role == "cdn":
            return self._cdn(path, body)
        if path == "/api/agent-harnesses":
            return self._json({"standardEnvVars": [], "harnesses": {}}, body)
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/revision/(.+)", path):  # a ref may hold "/"
            return self._model_info(match[1], match[2], body)
        if match := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            return self._resolve(match[1], match[2], match[3], body)
        self._error(404, None, "Not found", body)

    def _repo(self, repo_id: str, revision: str, body: bool) -> Repo | None:
        revision = unquote(revision)  # "refs%2Fpr%2F1" -> "refs/pr/1"
        others = self.stand_in.other_revisions
        other = others.get((repo_id, revision)) or next(
            (repo for (name, _), repo in others.items() if name == repo_id and repo.sha == revision), None)
        if other is not None:
            return other
        repo = self.stand_in.repos.get(repo_id)
        if repo is None:
            self._error(401, "RepoNotFound", "Repository not found", body)
        elif revision not in ("main", repo.sha):
            self._error(404, "RevisionNotFound", "Invalid rev id", body)
        else:
            return repo
        return None

    def _model_info(self, repo_id: str, revision: str, body: bool) -> None:
        if (repo := self._repo(repo_id, revision, body)) is None:
            return
        self._json({"_id": "0" * 24, "id": repo_id, "modelId": repo_id, "sha": repo.sha, "private": False,
                    "gated": "manual" if repo.gated else False, "disabled": False, "downloads": 0, "likes": 0,
                    "tags": [], "library_name": "transformers", "lastModified": "2024-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": name} for name in sorted(repo.files)]}, body)

    def _resolve(self, repo_id: str, revision: str, name: str, body: bool) -> None:
        if (repo := self._repo(repo_id, revision, body)) is None:
            return
        if repo.gated and "authorization" not in {k.lower() for k in self.headers}:
            return self._error(401, "GatedRepo", "Access to model is restricted. You must be authenticated.", body)
        if name not in repo.files:
            return self._error(404, "EntryNotFound", "Entry not found", body, {"X-Repo-Commit": repo.sha})
        data = repo.files[name]
        headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{git_blob_id(data)}"'}
        if repo.is_lfs(name):
            sha256 = hashlib.sha256(data).hexdigest()
            headers.update({"X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(len(data)),
                            "Location": f"{self.stand_in.cdn_url}/cdn/{sha256}"})
            return self._send(302, b"", headers, body)
        self._send(200, data, {**headers, "Content-Type": "application/octet-stream"}, body)

    def _cdn(self, path: str, body: bool) -> None:
        hub = self.stand_in
        blobs = {hashlib.sha256(data).hexdigest(): data for repo in hub.repos.values() for data in repo.files.values()}
        match = re.fullmatch(r"/cdn/([0-9a-f]{64})", path)
        if not match or match[1] not in blobs:
            return self._error(404, None, "Not found", body)
        data = blobs[match[1]]
        start = 0
        if (wanted := self.headers.get("Range")) and (m := re.fullmatch(r"bytes=(\d+)-", wanted)):
            start = int(m[1])
            if start >= len(data):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"}, body)
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        payload = data[start:]
        with hub.lock:
            cut = hub.cut_after if body and hub.cut_times > 0 and hub.cut_after is not None else None
            if cut is not None:
                hub.cut_times -= 1
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(key, value)
        self.end_headers()
        if not body:
            return
        sent = payload if cut is None else payload[:max(cut - start, 0)]
        step = 8192
        for offset in range(0, len(sent), step):
            self.wfile.write(sent[offset:offset + step])
            if hub.bytes_per_second:
                self.wfile.flush()
                time.sleep(step / hub.bytes_per_second)
        self.wfile.flush()
        if cut is not None:
            self.close_connection = True  # the rest never comes: the client sees a short body

    # -- answers --
    def _json(self, value, body: bool) -> None:
        self._send(200, json.dumps(value).encode(), {"Content-Type": "application/json"}, body)

    def _error(self, status: int, code: str | None, message: str, body: bool, extra: dict | None = None) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message, **(extra or {})}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers, body)

    def _send(self, status: int, data: bytes, headers: dict[str, str], body: bool) -> None:
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(key, value)
        self.end_headers()
        if body and data:
            self.wfile.write(data)
