"""Registry helpers for Berth's pull tests, all on 127.0.0.1 and all cleaned up by `close()`:

* `make_oci_layout` writes an OCI image layout by hand (single image or multi-platform index),
  with gzip, zstd or uncompressed layers, and says what it wrote (digests, diff IDs).
* `Registry` runs Debian's `docker-registry` (distribution 2.8) on a free port with its storage in
  a fresh temp dir, anonymous, with basic auth (htpasswd, bcrypt) or with bearer tokens from
  `TokenServer`, a small token server written here (RS256 JWTs with an `x5c` header); images are
  pushed into it from layouts with `skopeo copy`, and its stored blobs can be tampered with.
* `HostileRegistry` speaks just enough of the distribution API to misbehave on purpose: wrong
  bytes, bodies cut short, missing blobs, redirect loops, huge manifests, lying headers.
"""
import base64
import ctypes
import ctypes.util
import datetime
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse

INSTALL_HINT = "run scripts/install-deps.sh"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"

LAYER_TYPES = {"gzip": OCI_LAYER + "+gzip", "zstd": OCI_LAYER + "+zstd", "none": OCI_LAYER}

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CREATED = "2024-01-01T00:00:00Z"


def require(program):
    """The path of `program`, or a RuntimeError naming the install script."""
    path = shutil.which(program)
    if not path:
        raise RuntimeError(f"{program} is not installed: {INSTALL_HINT}")
    return path


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_request(url, method="GET", headers=None, body=None, timeout=10):
    """(status, headers, body) without following redirects; for checks and readiness probes."""
    import http.client
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, path or "/", body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read() if method != "HEAD" else b""
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Layers and OCI layouts


class File:
    def __init__(self, data, mode=0o644):
        self.data = data.encode() if isinstance(data, str) else data
        self.mode = mode


class Dir:
    def __init__(self, mode=0o755):
        self.mode = mode


class Symlink:
    def __init__(self, target):
        self.target = target


def whiteout(path):
    """The entry that deletes `path` of a lower layer: `dir/.wh.name` (an empty file)."""
    head, _, name = path.strip("/").rpartition("/")
    return (head + "/" if head else "") + ".wh." + name


def layer_tar(entries):
    """An uncompressed layer tar from {path: bytes | str | File | Dir | Symlink}, in order.
    Parents are not added implicitly: list a `Dir()` for every directory the lower layers lack."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, value in entries.items():
            name = path.strip("/")
            if not isinstance(value, (File, Dir, Symlink)):
                value = File(value)
            info = tarfile.TarInfo(name)
            info.mtime = 1704067200
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            data = None
            if isinstance(value, Dir):
                info.type, info.mode = tarfile.DIRTYPE, value.mode
            elif isinstance(value, Symlink):
                info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, value.target
            else:
                info.mode, info.size, data = value.mode, len(value.data), io.BytesIO(value.data)
            t.addfile(info, data)
    return buf.getvalue()


_zstd = None


def zstd_compress(data, level=3):
    """zstd through libzstd (ctypes), or the zstd CLI when the library cannot be loaded."""
    global _zstd
    if _zstd is None:
        name = ctypes.util.find_library("zstd") or "libzstd.so.1"
        try:
            lib = ctypes.CDLL(name)
            lib.ZSTD_compressBound.restype = ctypes.c_size_t
            lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
            lib.ZSTD_compress.restype = ctypes.c_size_t
            lib.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
            lib.ZSTD_isError.restype = ctypes.c_uint
            lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
            _zstd = lib
        except OSError:
            _zstd = False
    if _zstd:
        bound = _zstd.ZSTD_compressBound(len(data))
        out = ctypes.create_string_buffer(bound)
        n = _zstd.ZSTD_compress(out, bound, data, len(data), level)
        if _zstd.ZSTD_isError(n):
            raise RuntimeError("ZSTD_compress failed")
        return out.raw[:n]
    r = subprocess.run([require("zstd"), "-q", "-c", f"-{level}"], input=data, capture_output=True, check=True)
    return r.stdout


def compress(data, compression, gzip_level=6):
    if compression == "gzip":
        return gzip.compress(data, compresslevel=gzip_level, mtime=0)
    if compression == "zstd":
        return zstd_compress(data)
    if compression == "none":
        return data
    raise ValueError(f"unknown compression {compression!r}")


class Image:
    """One image manifest of a layout: what a pull of it must produce."""

    def __init__(self, platform, manifest, config, layer_digests, diff_ids, layer_media_types):
        self.platform = platform
        self.manifest_bytes = manifest
        self.manifest_digest = sha256_digest(manifest)
        self.config_bytes = config
        self.config_digest = sha256_digest(config)
        self.layer_digests = layer_digests
        self.diff_ids = diff_ids
        self.layer_media_types = layer_media_types

    @property
    def image_id(self):
        return self.config_digest

    @property
    def config(self):
        return json.loads(self.config_bytes)

    def __repr__(self):
        return f"Image({self.platform}, manifest={self.manifest_digest}, config={self.config_digest})"


class Layout:
    """What `make_oci_layout` wrote. `digest`/`media_type` are the tagged top-level document (the
    index for multi-platform layouts); `manifest_digest`, `config_digest`, `layer_digests` and
    `diff_ids` are those of the single image, or of the linux/amd64 one."""

    def __init__(self, path, tag, digest, media_type, document, images):
        self.path = str(path)
        self.tag = tag
        self.digest = digest
        self.media_type = media_type
        self.document = document
        self.images = images  # {(os, arch): Image}
        self.image = images.get(("linux", "amd64")) or next(iter(images.values()))
        self.index_digest = digest if media_type == OCI_INDEX else None

    manifest_digest = property(lambda self: self.image.manifest_digest)
    config_digest = property(lambda self: self.image.config_digest)
    image_id = property(lambda self: self.image.config_digest)
    layer_digests = property(lambda self: self.image.layer_digests)
    diff_ids = property(lambda self: self.image.diff_ids)

    def blob(self, digest):
        with open(os.path.join(self.path, "blobs", *digest.split(":", 1)), "rb") as f:
            return f.read()

    def blob_digests(self):
        """Every blob of the layout: index, manifests, configs, layers."""
        digests = [self.digest] if self.index_digest else []
        for image in self.images.values():
            digests += [image.manifest_digest, image.config_digest, *image.layer_digests]
        return list(dict.fromkeys(digests))

    def __repr__(self):
        return f"Layout({self.path}:{self.tag} {self.media_type} {self.digest})"


def _write_blob(directory, data):
    digest = sha256_digest(data)
    path = os.path.join(directory, "blobs", "sha256", digest.split(":", 1)[1])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return digest


def _layer_bytes(layer):
    if isinstance(layer, dict):
        return layer_tar(layer)
    if isinstance(layer, (bytes, bytearray)):
        return bytes(layer)
    with open(layer, "rb") as f:  # a path to an uncompressed tarball
        return f.read()


def _merge_config(config, overrides):
    for key, value in (overrides or {}).items():
        if key == "config" and isinstance(value, dict):
            config.setdefault("config", {}).update(value)
        else:
            config[key] = value
    return config


def make_oci_layout(directory, layers, config_overrides=None, tag="1", compression="gzip", platforms=None,
                    gzip_level=6):
    """Writes an OCI image layout in `directory` (created if needed; an existing layout gets one
    more tag) and returns a `Layout`.

    `layers`: each a dict {path_in_image: bytes | str | File | Dir | Symlink} (insertion order is
    tar order; `whiteout(path)` names the deletion of a lower file), raw tar bytes, or the path of
    an uncompressed tarball. `compression`: "gzip", "zstd" or "none", or a list with one per layer.
    The config has architecture amd64, os linux, rootfs.diff_ids (sha256 of each uncompressed
    tar), a PATH Env and `Cmd ["sh"]`; `config_overrides` replaces top-level keys and merges
    into "config".

    With `platforms=[("linux", "amd64"), ("linux", "arm64"), ...]` the tag names an image index
    with one manifest per platform: all share `layers`, and each gets a config of its own
    (its architecture, `variant` v8 for arm64, Env `BERTH_TEST_PLATFORM=os/arch`) and one more
    layer holding `/platform` (the text "os/arch\\n"), so a test sees which one it got."""
    directory = str(directory)
    os.makedirs(os.path.join(directory, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    compressions = compression if isinstance(compression, (list, tuple)) else [compression] * len(layers)
    if len(compressions) != len(layers):
        raise ValueError("one compression per layer")

    def write_layer(raw, how):
        blob = compress(raw, how, gzip_level)
        return {"mediaType": LAYER_TYPES[how], "digest": _write_blob(directory, blob), "size": len(blob)}, \
            sha256_digest(raw)

    shared = [write_layer(_layer_bytes(layer), how) for layer, how in zip(layers, compressions)]

    def write_image(os_name, arch, extra=None, marker=False):
        descs = [d for d, _ in shared]
        diff_ids = [i for _, i in shared]
        if extra is not None:
            d, i = write_layer(layer_tar(extra), compressions[-1] if compressions else "gzip")
            descs.append(d)
            diff_ids.append(i)
        config = {
            "created": CREATED,
            "architecture": arch,
            "os": os_name,
            "config": {"Env": [DEFAULT_PATH], "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": CREATED, "created_by": f"berth-test layer {n}"} for n in range(len(descs))],
        }
        if arch == "arm64":
            config["variant"] = "v8"
        if marker:
            config["config"]["Env"].append(f"BERTH_TEST_PLATFORM={os_name}/{arch}")
        _merge_config(config, config_overrides)
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_desc = {"mediaType": OCI_CONFIG, "digest": _write_blob(directory, config_bytes), "size": len(config_bytes)}
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc, "layers": descs}
        manifest_bytes = json.dumps(manifest, indent=3).encode()
        _write_blob(directory, manifest_bytes)
        return Image((os_name, arch), manifest_bytes, config_bytes, [d["digest"] for d in descs], diff_ids,
                     [d["mediaType"] for d in descs])

    if platforms:
        images = {}
        entries = []
        for os_name, arch in platforms:
            image = write_image(os_name, arch, extra={"platform": f"{os_name}/{arch}\n"}, marker=True)
            images[(os_name, arch)] = image
            platform = {"architecture": arch, "os": os_name}
            if arch == "arm64":
                platform["variant"] = "v8"
            entries.append({"mediaType": OCI_MANIFEST, "digest": image.manifest_digest,
                            "size": len(image.manifest_bytes), "platform": platform})
        document = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, indent=3).encode()
        digest, media_type = _write_blob(directory, document), OCI_INDEX
    else:
        image = write_image("linux", "amd64")
        images = {("linux", "amd64"): image}
        document, digest, media_type = image.manifest_bytes, image.manifest_digest, OCI_MANIFEST

    index_path = os.path.join(directory, "index.json")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        index["manifests"] = [m for m in index["manifests"]
                              if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": media_type, "digest": digest, "size": len(document),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(index_path, "w") as f:
        json.dump(index, f, indent=3)
    return Layout(directory, tag, digest, media_type, document, images)


# --------------------------------------------------------------------------------------------
# Bearer tokens


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _QuietServer(http.server.ThreadingHTTPServer):
    """Threaded, silent about clients that hang up, and able to cut every open connection."""
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def get_request(self):
        conn, address = super().get_request()
        with self.connections_lock:
            self.connections.add(conn)
        return conn, address

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # a client hanging up mid-response is expected here

    def stop(self):
        """Stops accepting, then closes every connection still open (idle keep-alives too)."""
        self.shutdown()
        self.server_close()
        with self.connections_lock:
            open_connections = list(self.connections)
        for conn in open_connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _start_server(handler_class, owner):
    server = _QuietServer(("127.0.0.1", 0), handler_class)
    server.owner = owner
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return server, thread


class TokenServer:
    """The docker token protocol (distribution's `docs/spec/auth/token.md`) for `Registry`.

    GET /token?service=S&scope=repository:NAME:pull,push[&scope=…][&account=U], with or without
    `Authorization: Basic`: wrong credentials → 401; anonymous requests get `pull` on public
    repositories only (names starting with one of `public` prefixes, or listed in
    `public_repos`); authenticated users get `pull` and `push` on every repository. POST /token
    (OAuth2 `grant_type=password`, or `refresh_token` when `refresh_tokens=True`) is accepted
    too. Tokens are RS256 JWTs with an `x5c` header holding the self-signed certificate that the
    registry's `rootcertbundle` trusts."""

    def __init__(self, directory, users, service, issuer="berth-test-token-issuer", public=("public/",),
                 refresh_tokens=False):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        self.users = dict(users or {})
        self.service = service
        self.issuer = issuer
        self.public_prefixes = tuple(public or ())
        self.public_repos = set()
        self.refresh_tokens = refresh_tokens
        self._refresh = {}
        self.requests = []  # (method, query dict, user or None, status)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth test token issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=7))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        self.cert_path = os.path.join(directory, "token-signer.crt")
        with open(self.cert_path, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        self._hashes = hashes
        self.server, self.thread = _start_server(_TokenHandler, self)
        self.port = self.server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"

    def is_public(self, repo):
        return repo in self.public_repos or repo.startswith(self.public_prefixes)

    def check(self, username, password):
        return username in self.users and self.users[username] == password

    def grant(self, user, scopes):
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            kind, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            if kind != "repository":
                continue
            allowed = {"pull", "push"} if user else ({"pull"} if self.is_public(name) else set())
            granted = [a for a in actions if a in allowed]
            if granted:
                access.append({"type": kind, "name": name, "actions": granted})
        return access

    def issue(self, user, access, lifetime=300):
        from cryptography.hazmat.primitives.asymmetric import padding
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + lifetime,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(16), "access": access}
        signing_input = _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), self._hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def refresh_token_for(self, user):
        token = secrets.token_urlsafe(24)
        self._refresh[token] = user
        return token

    def close(self):
        self.server.stop()
        self.thread.join(timeout=5)


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, query, user, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.server.owner.requests.append((self.command, query, user, status))

    def deny(self, query, user):
        return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password",
                                            "detail": None}], "details": "incorrect username or password"},
                          query, user, {"WWW-Authenticate": 'Basic realm="berth-test-token"'})

    def answer(self, query, user, scopes, offline=False):
        owner = self.server.owner
        if query.get("service", [owner.service])[0] != owner.service:
            return self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]}, query, user)
        token = owner.issue(user, owner.grant(user, scopes))
        body = {"token": token, "access_token": token, "expires_in": 300,
                "issued_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if user and offline and owner.refresh_tokens:
            body["refresh_token"] = owner.refresh_token_for(user)
        return self.reply(200, body, query, user)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]}, query, None)
        user = None
        header = self.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                username, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except Exception:
                return self.deny(query, None)
            if not self.server.owner.check(username, password):
                return self.deny(query, username)
            user = username
        scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
        return self.answer(query, user, scopes, offline=query.get("offline_token", ["false"])[0] == "true")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        owner = self.server.owner
        grant = form.get("grant_type", [""])[0]
        if grant == "password":
            user = form.get("username", [""])[0]
            if not owner.check(user, form.get("password", [""])[0]):
                return self.deny(form, user)
        elif grant == "refresh_token" and form.get("refresh_token", [""])[0] in owner._refresh:
            user = owner._refresh[form["refresh_token"][0]]
        else:
            return self.deny(form, None)
        scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
        return self.answer(form, user, scopes, offline=form.get("access_type", [""])[0] == "offline")


# --------------------------------------------------------------------------------------------
# docker-registry

# skopeo (as root) keeps a blob-info cache here, with no option to move it: note whether it was
# there before the tests ran skopeo, and remove what they created when a Registry closes.
SKOPEO_CACHE_PATHS = ("/var/lib/containers", "/var/lib/containers/cache",
                      "/var/lib/containers/cache/blob-info-cache-v1.boltdb")
_skopeo_cache_before = None


def _before_skopeo():
    global _skopeo_cache_before
    if _skopeo_cache_before is None:
        _skopeo_cache_before = {p: os.path.exists(p) for p in SKOPEO_CACHE_PATHS}


def _remove_skopeo_cache():
    if _skopeo_cache_before is None:
        return
    for path in reversed(SKOPEO_CACHE_PATHS):
        if _skopeo_cache_before[path] or not os.path.exists(path):
            continue
        try:
            os.rmdir(path) if os.path.isdir(path) else os.unlink(path)
        except OSError:
            pass


class Registry:
    """Debian's docker-registry on 127.0.0.1:<free port>, storage in a fresh temp dir.

    `htpasswd={"user": "password"}`: basic auth (bcrypt htpasswd file). With `token_auth=True`
    the same users authenticate at a `TokenServer` and the registry wants bearer tokens;
    `public` lists repository-name prefixes anonymous users may pull; `refresh_tokens=True` makes
    the token server issue OAuth refresh tokens (identity tokens) to logins that ask for them."""

    SERVICE = "berth-test-registry"

    def __init__(self, htpasswd=None, token_auth=False, public=("public/",), refresh_tokens=False):
        self.binary = require("docker-registry")
        self.users = dict(htpasswd or {})
        self.token_auth = token_auth
        self.base = tempfile.mkdtemp(prefix="bt-registry-", dir="/tmp")
        self.storage = os.path.join(self.base, "storage")
        self.config_path = os.path.join(self.base, "config.yml")
        self.log_path = os.path.join(self.base, "registry.log")
        self.authfile = os.path.join(self.base, "no-auth.json")  # skopeo must not read ~/.docker
        self.proc = None
        self.token_server = None
        self._backups = {}
        try:
            if token_auth:
                if not self.users:
                    raise ValueError("token_auth needs users (htpasswd=…)")
                self.token_server = TokenServer(self.base, self.users, self.SERVICE, public=public,
                                                refresh_tokens=refresh_tokens)
            self._start()
        except BaseException:
            self.close()
            raise

    # -- lifecycle

    def _config(self):
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}, "fields": {"service": "registry"}},
            "storage": {"filesystem": {"rootdirectory": self.storage}, "delete": {"enabled": True},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": secrets.token_hex(16),
                     "headers": {"X-Content-Type-Options": ["nosniff"]}},
        }
        if self.token_server:
            config["auth"] = {"token": {"realm": self.token_server.realm, "service": self.SERVICE,
                                        "issuer": self.token_server.issuer,
                                        "rootcertbundle": self.token_server.cert_path}}
        elif self.users:
            import bcrypt
            path = os.path.join(self.base, "htpasswd")
            with open(path, "w") as f:
                for user, password in self.users.items():
                    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
                    f.write(f"{user}:{hashed}\n")
            config["auth"] = {"htpasswd": {"realm": "berth-test-registry", "path": path}}
        return config

    def _start(self):
        for _ in range(5):
            self.port = free_port()
            with open(self.config_path, "w") as f:
                json.dump(self._config(), f, indent=2)  # YAML is a superset of JSON
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([self.binary, "serve", self.config_path], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            deadline = time.time() + 20
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    status, _, _ = http_request(self.url + "/v2/", timeout=2)
                    if status in (200, 401):
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                self._stop()
                raise RuntimeError("docker-registry did not answer: " + self.log())
            if "address already in use" not in self.log():
                raise RuntimeError("docker-registry exited: " + self.log())
        raise RuntimeError("docker-registry found no free port: " + self.log())

    def _stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def close(self):
        self._stop()
        if self.token_server:
            self.token_server.close()
        shutil.rmtree(self.base, ignore_errors=True)
        _remove_skopeo_cache()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    @property
    def credentials(self):
        """(user, password) of the first user, or None for an anonymous registry."""
        return next(iter(self.users.items()), None)

    def ref(self, repo, tag="1"):
        return f"{self.host}/{repo}{'@' if tag.startswith('sha256:') else ':'}{tag}"

    # -- content

    def _skopeo_env(self):
        _before_skopeo()
        return dict(os.environ, REGISTRY_AUTH_FILE=self.authfile)

    def push_layout(self, layout, repo, tag=None, format=None, all=None, creds=True):
        """Pushes tag `layout.tag` of an OCI layout (a `Layout` or a directory + `tag=`) to
        `repo:tag` with skopeo and returns the digest the registry now has for it. `format="v2s2"`
        converts to Docker schema 2 (the digest then differs from the layout's); multi-platform
        layouts are pushed whole (`--all`)."""
        skopeo = require("skopeo")
        path = layout.path if isinstance(layout, Layout) else str(layout)
        src_tag = layout.tag if isinstance(layout, Layout) else tag
        tag = tag or src_tag
        if all is None:
            all = isinstance(layout, Layout) and layout.index_digest is not None
        digestfile = os.path.join(self.base, f"digest-{secrets.token_hex(4)}")
        cmd = [skopeo, "copy", "--insecure-policy", "--quiet", "--retry-times", "0", "--dest-tls-verify=false",
               "--digestfile", digestfile]
        if creds and self.credentials:
            cmd += ["--dest-creds", "%s:%s" % self.credentials]
        else:
            cmd += ["--dest-no-creds"]
        if format:
            cmd += ["--format", format]
        else:
            cmd += ["--preserve-digests"]  # no recompression of uncompressed layers, no conversion
        if all:
            cmd += ["--all"]
        cmd += [f"oci:{path}:{src_tag}", f"docker://{self.host}/{repo}:{tag}"]
        r = subprocess.run(cmd, capture_output=True, timeout=120, env=self._skopeo_env())
        if r.returncode != 0:
            raise RuntimeError(f"skopeo copy failed: {r.stderr.decode(errors='replace')}\n{self.log()}")
        with open(digestfile) as f:
            digest = f.read().strip()
        os.unlink(digestfile)
        return digest

    def inspect(self, repo, tag="1", raw=False, config=False):
        """`skopeo inspect` of repo:tag (JSON, or the raw manifest bytes with raw=True)."""
        cmd = [require("skopeo"), "inspect", "--retry-times", "0", "--tls-verify=false"]
        if self.credentials:
            cmd += ["--creds", "%s:%s" % self.credentials]
        else:
            cmd += ["--no-creds"]
        if raw:
            cmd += ["--raw"]
        if config:
            cmd += ["--config"]
        r = subprocess.run(cmd + [f"docker://{self.ref(repo, tag)}"], capture_output=True, timeout=60,
                           env=self._skopeo_env())
        if r.returncode != 0:
            raise RuntimeError(f"skopeo inspect failed: {r.stderr.decode(errors='replace')}")
        return r.stdout if raw else json.loads(r.stdout)

    def blob_path(self, digest):
        """Where docker-registry keeps a blob's bytes (shared by every repository)."""
        algorithm, hexpart = digest.split(":", 1)
        return os.path.join(self.storage, "docker", "registry", "v2", "blobs", algorithm, hexpart[:2], hexpart, "data")

    def _backup(self, digest):
        path = self.blob_path(digest)
        if digest not in self._backups:
            with open(path, "rb") as f:
                self._backups[digest] = f.read()
        return path

    def corrupt_blob(self, digest):
        """Replaces the stored bytes with other bytes of the same length (a digest mismatch)."""
        path = self._backup(digest)
        data = self._backups[digest]
        with open(path, "wb") as f:
            f.write(bytes(b ^ 0xFF for b in data[:4096]) + data[4096:])

    def truncate_blob(self, digest, size=None):
        """Cuts the stored blob short (a size mismatch); half its size by default."""
        path = self._backup(digest)
        with open(path, "r+b") as f:
            f.truncate(len(self._backups[digest]) // 2 if size is None else size)

    def restore_blob(self, digest):
        data = self._backups.pop(digest)
        with open(self.blob_path(digest), "wb") as f:
            f.write(data)


# --------------------------------------------------------------------------------------------
# A registry that misbehaves on purpose


MANIFEST_PATH = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
BLOB_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[a-z0-9]+:[a-zA-Z0-9=_-]+)$")
HOP_PATH = re.compile(r"^/hop/(?P<name>.+)/blobs/(?P<digest>[a-z0-9]+:[a-zA-Z0-9=_-]+)$")
REFERRERS_PATH = re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>[a-z0-9]+:[a-zA-Z0-9=_-]+)$")


class _Entry:
    def __init__(self, body, content_type, digest_header=None, **behaviour):
        self.body = body
        self.content_type = content_type
        self.digest_header = digest_header
        self.behaviour = behaviour  # corrupt, cut, redirect, huge, rate


class HostileRegistry:
    """A distribution-API server on 127.0.0.1 (`GET /v2/`, GET/HEAD manifests, GET/HEAD blobs with
    Range) serving what tests put in it, well or badly. Good content comes from layouts
    (`serve_layout`) or raw documents (`put_manifest`, `put_blob`); misbehaviours are switched on
    per repository and manifest/blob (`corrupt_blob`, `cut_blob`, `remove_blob`, `redirect_loop`,
    `huge_manifest`, …) and off again by serving the layout anew. Every request is logged in
    `requests` as dicts {method, path, status, sent, headers}."""

    def __init__(self):
        self.manifests = {}  # (repo, tag or digest) -> _Entry
        self.blobs = {}  # (repo, digest) -> _Entry
        self.referrers = {}  # (repo, subject digest) -> _Entry: the referrers API's answer
        self.requests = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.server, self.thread = _start_server(_HostileHandler, self)
        self.port = self.server.server_address[1]

    host = property(lambda self: f"127.0.0.1:{self.port}")
    url = property(lambda self: f"http://127.0.0.1:{self.port}")

    def ref(self, repo, tag="1"):
        return f"{self.host}/{repo}{'@' if tag.startswith('sha256:') else ':'}{tag}"

    def close(self):
        self.closing.set()
        self.server.stop()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- good content

    def serve_layout(self, layout, repo, tag=None):
        """Serves a `Layout` as repo:tag (default: its own tag): the tagged document under the
        tag and its digest, every manifest under its digest, every blob. Clears misbehaviours
        set earlier on these references."""
        tag = tag or layout.tag
        with self.lock:
            for digest in layout.blob_digests():
                self.blobs[(repo, digest)] = _Entry(layout.blob(digest), "application/octet-stream")
            for image in layout.images.values():
                self.manifests[(repo, image.manifest_digest)] = _Entry(image.manifest_bytes, OCI_MANIFEST)
            top = _Entry(layout.document, layout.media_type)
            self.manifests[(repo, tag)] = top
            self.manifests[(repo, layout.digest)] = top
        return layout.digest

    def put_manifest(self, repo, reference, body, content_type, digest_header=None, also_by_digest=True, **behaviour):
        """Serves `body` as manifest `reference` (and under its own digest unless told not to).
        `digest_header` overrides Docker-Content-Digest (default: the body's real digest)."""
        entry = _Entry(body, content_type, digest_header, **behaviour)
        with self.lock:
            self.manifests[(repo, reference)] = entry
            if also_by_digest and isinstance(body, bytes):
                self.manifests[(repo, sha256_digest(body))] = entry
            if digest_header:
                # A client that HEADs the tag and then GETs what the header names gets the same
                # (mismatching) bytes, so it fails on the digest, not on a 404.
                self.manifests[(repo, digest_header)] = entry
        return entry

    def put_referrers(self, repo, subject, body, content_type=OCI_INDEX):
        """Answers GET /v2/<repo>/referrers/<subject> with `body` (without this: 404, as from a
        registry that lacks the referrers API)."""
        with self.lock:
            self.referrers[(repo, subject)] = _Entry(body, content_type)

    def put_blob(self, repo, digest, body, **behaviour):
        with self.lock:
            self.blobs[(repo, digest)] = _Entry(body, "application/octet-stream", **behaviour)

    # -- misbehaviours

    def _blob(self, repo, digest):
        with self.lock:
            return self.blobs[(repo, digest)]

    def corrupt_blob(self, repo, digest):
        """Serves other bytes of the same length under the digest."""
        entry = self._blob(repo, digest)
        entry.behaviour = {"corrupt": True}

    def cut_blob(self, repo, digest, send=None):
        """Announces the full Content-Length, sends `send` bytes (half by default), closes."""
        entry = self._blob(repo, digest)
        entry.behaviour = {"cut": len(entry.body) // 2 if send is None else send}

    def remove_blob(self, repo, digest):
        """The blob answers 404 BLOB_UNKNOWN."""
        with self.lock:
            self.blobs.pop((repo, digest), None)

    def redirect_loop(self, repo, digest, via_other=False):
        """GET of the blob answers 302 to itself, or (via_other) to /hop/… which answers 302 back."""
        entry = self._blob(repo, digest)
        entry.behaviour = {"redirect": "pingpong" if via_other else "self"}

    def throttle_blob(self, repo, digest, bytes_per_second):
        """Sends the blob at most this fast (None: full speed again)."""
        entry = self._blob(repo, digest)
        entry.behaviour = {"rate": bytes_per_second} if bytes_per_second else {}

    def huge_manifest(self, repo, tag, size, chunked=False, content_type=OCI_MANIFEST):
        """A syntactically plausible manifest of `size` bytes, generated while it is sent; with
        `chunked` it has no Content-Length (the client must count). Returns its digest."""
        head = b'{"schemaVersion":2,"mediaType":"' + content_type.encode() + b'","annotations":{"filler":"'
        tail = b'"}}'
        if size < len(head) + len(tail):
            raise ValueError("size too small")
        digest = hashlib.sha256(head)
        filler = b"A" * (1 << 20)
        left = size - len(head) - len(tail)
        while left:
            n = min(left, len(filler))
            digest.update(filler[:n])
            left -= n
        digest.update(tail)
        entry = _Entry(None, content_type, None, huge=(head, size, tail), chunked=chunked)
        entry.huge_digest = "sha256:" + digest.hexdigest()
        with self.lock:
            self.manifests[(repo, tag)] = entry
            self.manifests[(repo, entry.huge_digest)] = entry
        return entry.huge_digest

    # -- what happened

    def requests_for(self, path_part, method=None):
        with self.lock:
            return [r for r in self.requests if path_part in r["path"] and (method is None or r["method"] == method)]

    def bytes_sent(self, path_part):
        return sum(r["sent"] for r in self.requests_for(path_part))


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    @property
    def owner(self):
        return self.server.owner

    def record(self, status, sent):
        with self.owner.lock:
            self.owner.requests.append({"method": self.command, "path": self.path, "status": status, "sent": sent,
                                        "headers": dict(self.headers.items())})

    def head_only(self):
        return self.command == "HEAD"

    def error(self, status, code, message):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if not self.head_only():
            self.wfile.write(body)
        self.record(status, 0)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.record(302, 0)

    def write_body(self, data, rate=None):
        """Writes `data`, returns how much went out before the client hung up."""
        sent = 0
        step = 65536
        try:
            while sent < len(data):
                if self.owner.closing.is_set():
                    break
                chunk = data[sent:sent + step]
                self.wfile.write(chunk)
                sent += len(chunk)
                if rate:
                    time.sleep(len(chunk) / rate)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.close_connection = True
        return sent

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/v2", "/v2/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", "2")
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.end_headers()
            if not self.head_only():
                self.wfile.write(b"{}")
            return self.record(200, 0)
        m = MANIFEST_PATH.match(path)
        if m:
            return self.manifest(m["name"], m["ref"])
        m = BLOB_PATH.match(path)
        if m:
            return self.blob(m["name"], m["digest"])
        m = HOP_PATH.match(path)
        if m:
            return self.redirect(f"{self.owner.url}/v2/{m['name']}/blobs/{m['digest']}")
        m = REFERRERS_PATH.match(path)
        if m:
            with self.owner.lock:
                entry = self.owner.referrers.get((m["name"], m["digest"]))
            if entry is not None:
                self.send_response(200)
                self.send_header("Content-Type", entry.content_type)
                self.send_header("Content-Length", str(len(entry.body)))
                self.end_headers()
                return self.record(200, 0 if self.head_only() else self.write_body(entry.body))
        return self.error(404, "NOT_FOUND", "not found")

    def manifest(self, name, ref):
        with self.owner.lock:
            entry = self.owner.manifests.get((name, ref))
        if entry is None:
            return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        if "huge" in entry.behaviour:
            return self.huge(entry)
        body = entry.body
        self.send_response(200)
        self.send_header("Content-Type", entry.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Content-Digest", entry.digest_header or sha256_digest(body))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        sent = 0 if self.head_only() else self.write_body(body)
        self.record(200, sent)

    def huge(self, entry):
        head, size, tail = entry.behaviour["huge"]
        chunked = entry.behaviour.get("chunked")
        self.send_response(200)
        self.send_header("Content-Type", entry.content_type)
        if chunked and not self.head_only():
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.send_header("Docker-Content-Digest", entry.huge_digest)
        self.end_headers()
        if self.head_only():
            return self.record(200, 0)
        sent = 0
        filler = b"A" * 65536
        left = size - len(head) - len(tail)
        try:
            def out(data):
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                else:
                    self.wfile.write(data)
            out(head)
            sent += len(head)
            while left and not self.owner.closing.is_set():
                n = min(left, len(filler))
                out(filler[:n])
                sent += n
                left -= n
            out(tail)
            sent += len(tail)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.close_connection = True
        self.record(200, sent)

    def blob(self, name, digest):
        with self.owner.lock:
            entry = self.owner.blobs.get((name, digest))
        if entry is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        behaviour = entry.behaviour
        if behaviour.get("redirect") and not self.head_only():
            if behaviour["redirect"] == "self":
                return self.redirect(f"{self.owner.url}/v2/{name}/blobs/{digest}")
            return self.redirect(f"{self.owner.url}/hop/{name}/blobs/{digest}")
        body = entry.body
        if behaviour.get("corrupt"):
            body = bytes(b ^ 0xFF for b in body[:4096]) + body[4096:]
        status, start, end = 200, 0, len(body)
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if wanted and "cut" not in behaviour:
            start = int(wanted[1])
            end = min(len(body), int(wanted[2]) + 1) if wanted[2] else len(body)
            if start >= len(body) or start >= end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return self.record(416, 0)
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start))
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
        if "cut" in behaviour:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.head_only():
            return self.record(status, 0)
        if "cut" in behaviour:
            sent = self.write_body(body[:behaviour["cut"]])
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return self.record(status, sent)
        sent = self.write_body(body[start:end], rate=behaviour.get("rate"))
        self.record(status, sent)
