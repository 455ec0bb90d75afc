"""Fixtures: small data trees, manifests and a local HTTP server made by the tests."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import utils.fetch as fetch
from utils.fetch import FileEntry, fingerprint


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


def make_folder(root: Path, classes=("cat", "dog"), per_class: int = 5) -> Path:
    """A folder of class sub-folders holding small JPEGs."""
    write_tree(root, {f"{c}/{i}.jpg": jpeg_bytes(10 * k + i, size=(40, 30))
                      for k, c in enumerate(classes) for i in range(per_class)})
    return root


def small_data(seed: int, n: int):
    """``n`` random 8x8 RGB images and 0/1 labels."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 3), dtype=np.float32), (rng.random(n) > 0.5).astype("float32")


def small_model():
    """A compiled batch-norm network small enough to train in a second."""
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.ReLU(),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"],
                  steps_per_execution=4)
    return model


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
    monkeypatch.setattr(fetch, "MANIFEST_PATH", manifest)
    target = tmp_path / "data"
    target.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(target))
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    return {"mirror": mirror, "data": target, "files": files | single, "manifest": manifest}


SLOW_SECONDS = 3.0  # how long a /slow/ download stalls half way


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; paths under /cut/ stop half way, under /wrong/ send other bytes,
    under /slow/ stall half way for SLOW_SECONDS (time to kill the fetch) and then finish."""

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):  # noqa: N802 (name fixed by the base class)
        for prefix in ("/cut/", "/wrong/", "/slow/"):
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
                elif prefix == "/slow/":
                    self.close_connection = True
                    self.wfile.write(content[: len(content) // 2])
                    time.sleep(SLOW_SECONDS)
                    try:
                        self.wfile.write(content[len(content) // 2:])
                    except OSError:  # the client was killed meanwhile
                        pass
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
