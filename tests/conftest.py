"""Fixtures: small data trees, manifests and a local HTTP server made by the tests."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import utils.data as data
from utils.data import FileEntry, fingerprint


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (32, 24), mode: str = "RGB") -> bytes:
    """A small real JPEG with random content."""
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(buffer, "JPEG")
    return buffer.getvalue()


def write_manifest(folder: Path, datasets: dict[str, dict[str, tuple[bytes, str | None]]],
                   url_base: str | None = None) -> Path:
    """Write manifest.json + file lists for ``{dataset: {path: (content, source)}}``."""
    (folder / "manifest").mkdir(parents=True, exist_ok=True)
    index = {"format": 1, "datasets": {}}
    for name, files in datasets.items():
        lines, entries = [], []
        for path, (content, source) in sorted(files.items()):
            sha = hashlib.sha256(content).hexdigest()
            lines.append(f"{path}\t{len(content)}\t{sha}\t{source or '-'}")
            entries.append(FileEntry(path, len(content), sha, None))
        (folder / "manifest" / f"{name}.tsv").write_text("\n".join(lines) + "\n")
        index["datasets"][name] = {"file_list": f"manifest/{name}.tsv", "count": len(entries),
                                   "url_base": url_base, "fingerprint": fingerprint(entries)}
    path = folder / "manifest.json"
    path.write_text(json.dumps(index))
    return path


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A mirror folder with a 2-class image dataset and one single file, its manifest
    installed as the project's manifest, and an empty data directory."""
    files = {f"pets/cat/{i}.jpg": jpeg_bytes(i) for i in range(6)}
    files |= {f"pets/dog/{i}.jpg": jpeg_bytes(100 + i) for i in range(6)}
    single = {"blob/data.bin": bytes(range(256)) * 40}
    mirror = tmp_path / "mirror"
    write_tree(mirror, files | single)
    manifest = write_manifest(tmp_path / "meta", {
        "pets": {p: (c, None) for p, c in files.items()},
        "blob": {p: (c, None) for p, c in single.items()},
    })
    monkeypatch.setattr(data, "MANIFEST_PATH", manifest)
    target = tmp_path / "data"
    target.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(target))
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    return {"mirror": mirror, "data": target, "files": files | single, "manifest": manifest}


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; paths under /cut/ stop half way, under /wrong/ send other bytes."""

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):  # noqa: N802 (name fixed by the base class)
        for prefix in ("/cut/", "/wrong/"):
            if self.path.startswith(prefix):
                real = Path(self.directory) / self.path[len(prefix):].split("?")[0]
                content = real.read_bytes() if real.is_file() else b""
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if prefix == "/cut/":
                    self.wfile.write(content[: len(content) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # hang up mid-file
                else:
                    self.wfile.write(bytes(b ^ 0xFF for b in content))
                return
        super().do_GET()


@pytest.fixture
def http_server():
    """Start an HTTP server on 127.0.0.1 that serves a folder; yields a function
    ``serve(folder) -> base_url``. The server is shut down after the test."""
    servers = []

    def serve(folder: Path) -> str:
        handler = lambda *a, **k: _Handler(*a, directory=str(folder), **k)  # noqa: E731
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
