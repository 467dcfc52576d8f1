"""Helpers for the registry server's end-to-end tests: a `berth-registry serve` (or Debian's
`docker-registry`) on a free 127.0.0.1 port with a temporary root, OCI image layouts made from
random data, and a small raw-socket HTTP client for requests real clients will not send."""
import gzip
import hashlib
import io
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from berth_testlib import binary  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Server:
    """A registry process on 127.0.0.1:<free port> with its root under a fresh temp directory;
    `cleanup()` kills it and removes everything, whatever state the test left."""

    def __init__(self, htpasswd=None, tls=None, upload_timeout=None, root=None):
        self.base = tempfile.mkdtemp(prefix="brs-", dir="/tmp")
        self.root = root or os.path.join(self.base, "root")
        self.htpasswd, self.tls, self.upload_timeout = htpasswd, tls, upload_timeout
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.base, "server.log")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return ("https://" if self.tls else "http://") + self.address

    def command(self):
        cmd = [binary("berth-registry"), "serve", "--addr", self.address, "--root", self.root]
        if self.htpasswd:
            cmd += ["--htpasswd", self.htpasswd]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        if self.upload_timeout:
            cmd += ["--upload-timeout", str(self.upload_timeout)]
        return cmd

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"registry exited {self.proc.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("registry did not start: " + self.log())

    def log(self):
        return pathlib.Path(self.log_path).read_text(errors="replace") if os.path.exists(self.log_path) else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def cleanup(self):
        self.kill9()
        shutil.rmtree(self.base, ignore_errors=True)

    # Store inspection, for "nothing partial is visible" checks.
    def blob_files(self):
        d = os.path.join(self.root, "content", "blobs", "sha256")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def verify_store(self):
        """Every stored blob hashes to its name; returns their count."""
        d = os.path.join(self.root, "content", "blobs", "sha256")
        names = os.listdir(d) if os.path.isdir(d) else []
        for name in names:
            h = hashlib.sha256()
            with open(os.path.join(d, name), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            assert h.hexdigest() == name, f"blob {name} does not hash to its name"
        return len(names)


class DistributionRegistry(Server):
    """Debian's docker-registry (distribution) with a filesystem store, for comparisons."""

    def command(self):
        config = os.path.join(self.base, "config.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {self.root}
  delete:
    enabled: true
http:
  addr: {self.address}
""")
        return ["docker-registry", "serve", config]


def request(method, url, body=None, headers=None, timeout=30, context=None):
    """(status, headers, body) of one HTTP request; never raises for an HTTP error status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_codes(body):
    return [e["code"] for e in json.loads(body)["errors"]]


def raw(port, data, read=True, timeout=10):
    """Sends raw bytes on a fresh connection; returns (status, body bytes) of the response, or
    None when `read` is false (the connection is just closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return None
        received = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            received += chunk
            head, sep, rest = received.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
        status = int(received.split(b" ", 2)[1]) if received else 0
        return status, received.partition(b"\r\n\r\n")[2]


def random_bytes(n, compressible):
    if compressible:
        word = os.urandom(64)
        return (word * (n // 64 + 1))[:n]
    return os.urandom(n)


def make_layer(files):
    """A gzipped tar holding `files` ({name: bytes}); returns (blob, diff_id)."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    tar = tar_buf.getvalue()
    return gzip.compress(tar, compresslevel=1, mtime=0), sha256(tar)


def make_oci_layout(directory, layer_sizes=((64 << 10, False), (256 << 10, True)), tag="latest"):
    """An OCI image layout in `directory` with one manifest of random layers; returns the
    manifest's digest."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = sha256(data)
        with open(os.path.join(blobs, d.split(":")[1]), "wb") as f:
            f.write(data)
        return d

    layers, diff_ids = [], []
    for i, (size, compressible) in enumerate(layer_sizes):
        blob, diff_id = make_layer({f"file{i}": random_bytes(size, compressible)})
        layers.append({"mediaType": OCI_LAYER, "digest": put(blob), "size": len(blob)})
        diff_ids.append(diff_id)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": OCI_CONFIG, "digest": put(config), "size": len(config)},
                           "layers": layers}).encode()
    digest = put(manifest)
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": len(manifest),
                                                       "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return digest


def layout_blobs(directory):
    return sorted(os.listdir(os.path.join(directory, "blobs", "sha256")))


def skopeo(*args, check=True, timeout=300):
    r = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


class Postgres:
    """A throwaway PostgreSQL server from Debian's postgresql package on 127.0.0.1:<free port>,
    run as the `postgres` user with its cluster under a fresh temp directory (trust auth, so
    the URL needs no password); `cleanup()` stops it and removes the cluster."""

    BIN = "/usr/lib/postgresql"

    @staticmethod
    def available():
        return Postgres.bindir() is not None

    @staticmethod
    def bindir():
        versions = sorted(os.listdir(Postgres.BIN), key=lambda v: int(v) if v.isdigit() else 0) if os.path.isdir(Postgres.BIN) else []
        for v in reversed(versions):
            if os.path.exists(os.path.join(Postgres.BIN, v, "bin", "postgres")):
                return os.path.join(Postgres.BIN, v, "bin")
        return None

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="brs-pg-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.data = os.path.join(self.base, "data")
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.base, "postgres.log")

    @property
    def url(self):
        return f"postgres://berth@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *cmd):
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, user="postgres", group="postgres", cwd=self.base)

    def start(self):
        if not os.path.exists(self.data):
            shutil.chown(self.base, "postgres", "postgres")
            r = self._as_postgres(os.path.join(self.bindir(), "initdb"), "-D", self.data, "-U", "berth", "--auth=trust", "-E", "UTF8", "--no-instructions")
            if r.returncode != 0:
                raise RuntimeError(f"initdb failed: {r.stderr}")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(self.bindir(), "postgres"), "-D", self.data, "-p", str(self.port),
                                      "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.base}"],
                                     stdout=log, stderr=log, user="postgres", group="postgres", cwd=self.base)
        log.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited {self.proc.returncode}: {pathlib.Path(self.log_path).read_text(errors='replace')}")
            r = self._as_postgres(os.path.join(self.bindir(), "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port))
            if r.returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError("postgres did not start")

    def sql(self, statement):
        r = self._as_postgres(os.path.join(self.bindir(), "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "berth", "-d", "postgres",
                              "-At", "-v", "ON_ERROR_STOP=1", "-c", statement)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1:<free port> in front of `upstream` (a registry URL) that
    records every request as (method, path, start, end) and lets `rewrite(method, path, status,
    headers)` change the answer's headers, to play a destination that lies."""

    def __init__(self, upstream, rewrite=None):
        import http.server
        import threading
        self.upstream = upstream.split("://", 1)[1]
        self.rewrite = rewrite
        self.requests = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def relay(self):
                import http.client
                start = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                out = [(k, v) for k, v in answer.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
                if proxy.rewrite:
                    out = proxy.rewrite(self.command, self.path, answer.status, out)
                self.send_response(answer.status)
                for k, v in out:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()
                with proxy.lock:
                    proxy.requests.append((self.command, self.path.split("?")[0], start, time.monotonic()))

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def overlapping(self, methods=("PUT",)):
        """Pairs of requests with the same method and path that were in flight at once."""
        with self.lock:
            seen = sorted((r for r in self.requests if r[0] in methods), key=lambda r: (r[0], r[1], r[2]))
        return [(a, b) for a, b in zip(seen, seen[1:]) if a[:2] == b[:2] and b[2] < a[3]]

    def cleanup(self):
        self.server.shutdown()
        self.server.server_close()
