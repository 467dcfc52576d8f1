#!/usr/bin/env python3
"""Cold pull of a multi-layer image from a registry on 127.0.0.1, timed for Berth and, in the
same run, for skopeo, docker and podman (whichever are installed or asked for):

    python3 benchmarks/pull.py [--runs N] [--bin DIR] [--with-docker] [--debootstrap]

The image: a busybox base, then a layer of many small files, one large compressible file and
one random file (about 200 MB uncompressed; with --debootstrap a Debian minbase root is the base
and the other layers shrink to keep the size), gzip-compressed, served by Debian's
docker-registry. Each run starts cold, on a fresh ext4 file system (a loop device) holding the
puller's whole store: on one reused file system, ext4 slows every new inode while it remembers many recently deleted ones
(`recently_deleted` in its inode allocator; seen here at 15 s for 20 000 files), which would
measure the previous run's clean-up instead of the pull. Prints wall seconds (median), MB/s of
compressed and uncompressed data, and CPU seconds of the engine's processes; plus the one-core
floors for decompressing and hashing the same blobs (zlib and ISA-L's igzip). Timing
assertions are not tests: this only prints numbers."""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
from registry_testlib import free_port  # noqa: E402


def cpu_seconds(pids):
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
        except OSError:
            pass
    return total


def sh(command, **kw):
    return subprocess.run(command, shell=True, check=True, **kw)


def make_layers(work, debootstrap):
    """Directories for each layer, base first: busybox (or, with `debootstrap`, a Debian minbase
    root without apt's downloaded packages), many small files, a large compressible text file,
    a random file. With a minbase base the other three shrink, so the image stays near 200 MB."""
    from berth_testlib import make_busybox_tar
    layers = []
    base = os.path.join(work, "l0")
    if debootstrap:
        apt_install("debootstrap", "debootstrap")
        sh(f"debootstrap --variant=minbase bookworm {base} http://deb.debian.org/debian >/dev/null")
        sh(f"rm -f {base}/var/cache/apt/archives/*.deb")
        directories, lines, random_mib = 20, 150_000, 10
    else:
        os.makedirs(base)
        sh(f"tar -xf {make_busybox_tar(work)} -C {base}")
        directories, lines, random_mib = 200, 1_400_000, 30
    layers.append(base)
    small = os.path.join(work, "l1")
    os.makedirs(small)
    for d in range(directories):
        sub = os.path.join(small, "usr/share/many", f"d{d:03}")
        os.makedirs(sub)
        for i in range(100):
            with open(os.path.join(sub, f"f{i:03}.txt"), "w") as f:
                f.write((f"file {d}/{i} " * 40 + "\n") * 8)
    layers.append(small)
    text = os.path.join(work, "l2")
    os.makedirs(os.path.join(text, "data"))
    words = [("%x" % (i * 2654435761 % 4294967296))[:6] for i in range(4000)]
    with open(os.path.join(text, "data", "corpus.txt"), "w") as f:
        for i in range(lines):
            f.write(" ".join(words[(i * 7 + k * 13) % 4000] for k in range(10)) + "\n")
    layers.append(text)
    noise = os.path.join(work, "l3")
    os.makedirs(os.path.join(noise, "data"))
    with open(os.path.join(noise, "data", "random.bin"), "wb") as f:
        f.write(os.urandom(random_mib << 20))
    layers.append(noise)
    return layers


def make_layout(work, layer_dirs):
    """An OCI layout (gzip level 6 layers) and the sizes of its blobs."""
    layout = os.path.join(work, "layout")
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)
    descriptors, diff_ids, compressed, uncompressed = [], [], 0, 0
    for i, d in enumerate(layer_dirs):
        tar = os.path.join(work, f"layer{i}.tar")
        sh(f"tar --sort=name --owner=0 --group=0 --numeric-owner -C {d} -cf {tar} .")
        sh(f"gzip -6 -n -k {tar}")
        diff_ids.append("sha256:" + file_sha256(tar))
        digest = file_sha256(tar + ".gz")
        shutil.move(tar + ".gz", os.path.join(blobs, digest))
        size = os.path.getsize(os.path.join(blobs, digest))
        uncompressed += os.path.getsize(tar)
        compressed += size
        os.unlink(tar)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + digest, "size": size})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": write_blob(blobs, config), "size": len(config)},
                           "layers": descriptors}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": write_blob(blobs, manifest),
                                                  "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "1"}}]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return layout, compressed, uncompressed, [os.path.join(blobs, x["digest"].split(":")[1]) for x in descriptors]


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_blob(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest


def floors(blob_paths):
    """One-core seconds to hash the compressed blobs, decompress them and hash the result."""
    out = {}
    for name, tool in [("zlib (gzip -dc)", "gzip -dc"), ("ISA-L (igzip -dc)", "igzip -dc")]:
        if not shutil.which(tool.split()[0]):
            continue
        start = time.perf_counter()
        for blob in blob_paths:
            sh(f"sha256sum {blob} >/dev/null; {tool} {blob} | sha256sum >/dev/null")
        out[name] = time.perf_counter() - start
    return out


class FreshFS:
    """A new ext4 file system on a sparse loop file, mounted at `path` until `close`."""

    def __init__(self, work, name, size="8G"):
        self.image = os.path.join(work, name + ".img")
        self.path = os.path.join(work, name)
        os.makedirs(self.path, exist_ok=True)
        sh(f"truncate -s {size} {self.image} && mkfs.ext4 -q -F {self.image} && mount -o loop {self.image} {self.path}")

    def close(self):
        subprocess.run(["umount", self.path], capture_output=True)
        if os.path.ismount(self.path):
            subprocess.run(["umount", "-l", self.path], capture_output=True)
        os.unlink(self.image)


def berth_pull(work, image, runs, binary):
    """Cold `berth pull`: per run a fresh file system, a berthd on it, the pull, teardown."""
    times, cpus = [], []
    for i in range(runs):
        fs = FreshFS(work, f"berth-{i}")
        sock = os.path.join(work, f"berth-{i}.sock")
        exec_root = os.path.join(work, f"berth-run-{i}")
        proc = subprocess.Popen([binary("berthd"), "--root", fs.path + "/root", "--exec-root", exec_root, "--host", "unix://" + sock],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            berth = [binary("berth"), "-H", "unix://" + sock]
            for _ in range(100):
                if subprocess.run(berth + ["version"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            before = cpu_seconds([proc.pid])
            times.append(timed(lambda: checked(berth + ["pull", "-q", image])))
            cpus.append(cpu_seconds([proc.pid]) - before)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            fs.close()
            shutil.rmtree(exec_root, ignore_errors=True)
    return statistics.median(times), statistics.median(cpus)


def checked(command):
    r = subprocess.run(command, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {(r.stdout + r.stderr).decode(errors='replace')}")


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    parser.add_argument("--with-docker", action="store_true", help="install docker.io if needed and pull with a private dockerd")
    parser.add_argument("--debootstrap", action="store_true", help="a Debian minbase root (debootstrap, installed if needed) as the base layer")
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import binary

    work = tempfile.mkdtemp(prefix="bp-", dir="/tmp")
    registry = None
    try:
        layout, compressed, uncompressed, blob_paths = make_layout(work, make_layers(work, args.debootstrap))
        port = free_port()
        config = os.path.join(work, "registry.yml")
        with open(config, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {work}/registry\n"
                    f"http:\n  addr: 127.0.0.1:{port}\n")
        registry = subprocess.Popen(["docker-registry", "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        image = f"127.0.0.1:{port}/bench/pull:1"
        sh(f"skopeo copy -q --dest-tls-verify=false oci:{layout}:1 docker://{image}")
        print(f"# image: {len(blob_paths)} layers, {compressed / 1e6:.1f} MB compressed, {uncompressed / 1e6:.1f} MB uncompressed")

        results = {"berth pull": berth_pull(work, image, args.runs, binary)}

        if shutil.which("skopeo"):
            times = []
            for i in range(args.runs):
                fs = FreshFS(work, f"skopeo-{i}")
                try:
                    times.append(timed(lambda: sh(f"skopeo copy -q --src-tls-verify=false docker://{image} oci:{fs.path}/layout:1")))
                finally:
                    fs.close()
            results["skopeo copy to an OCI layout (no unpack)"] = (statistics.median(times), None)

        if args.with_docker:
            results.update(docker_pull(work, image, args.runs))
        if shutil.which("podman"):
            results.update(podman_pull(work, image, args.runs))

        base = results["berth pull"][0]
        print(f"{'what':44s} {'s':>7s} {'MB/s in':>8s} {'MB/s out':>9s} {'CPU s':>7s} {'vs berth':>9s}")
        for name, (seconds, cpu) in results.items():
            cpu_text = f"{cpu:7.2f}" if cpu is not None else "      -"
            print(f"{name:44s} {seconds:7.2f} {compressed / 1e6 / seconds:8.1f} {uncompressed / 1e6 / seconds:9.1f} {cpu_text} {seconds / base:8.2f}x")
        print("\n# one-core floors: sha256 of the blobs + decompress + sha256 of the output")
        for name, seconds in floors(blob_paths).items():
            print(f"{name:44s} {seconds:7.2f}   (two cores, perfectly split: {seconds / 2:.2f})")
    finally:
        if registry:
            registry.terminate()
            registry.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def podman_pull(work, image, runs):
    """Cold `podman pull` (it pulls in-process: its CPU is the child's), store on a fresh file
    system, overlay driver as podman's default."""
    import resource
    times, cpus = [], []
    for i in range(runs):
        fs = FreshFS(work, f"podman-{i}")
        command = ["podman", "--root", fs.path + "/root", "--runroot", os.path.join(work, f"podman-run-{i}"),
                   "--storage-driver", "overlay", "--events-backend", "none", "pull", "-q", "--tls-verify=false", image]
        try:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append(timed(lambda: subprocess.run(command, check=True, capture_output=True)))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        finally:
            subprocess.run(["podman", "--root", fs.path + "/root", "--runroot", os.path.join(work, f"podman-run-{i}"),
                            "--storage-driver", "overlay", "system", "reset", "--force"], capture_output=True)
            fs.close()
            shutil.rmtree(os.path.join(work, f"podman-run-{i}"), ignore_errors=True)
    return {f"podman pull ({subprocess.run(['podman', '--version'], capture_output=True, text=True).stdout.split()[-1]})":
            (statistics.median(times), statistics.median(cpus))}


def apt_install(program, package):
    """Installs Debian's `package` unless `program` is on PATH already."""
    if not shutil.which(program):
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def docker_pull(work, image, runs):
    """Cold `docker pull` through a private dockerd (Debian's docker.io)."""
    apt_install("dockerd", "docker.io")
    times, cpus = [], []
    for i in range(runs):
        fs = FreshFS(work, f"docker-{i}")
        sock = os.path.join(work, "docker.sock")
        proc = subprocess.Popen(["dockerd", "--host", "unix://" + sock, "--data-root", fs.path,
                                 "--exec-root", os.path.join(work, f"docker-exec-{i}"), "--pidfile", os.path.join(work, "docker.pid"),
                                 "--bridge", "none", "--iptables=false"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = dict(os.environ, DOCKER_HOST="unix://" + sock)
        try:
            for _ in range(100):
                if subprocess.run(["docker", "version"], env=env, capture_output=True).returncode == 0:
                    break
                time.sleep(0.2)
            before = cpu_seconds([proc.pid])
            times.append(timed(lambda: subprocess.run(["docker", "pull", "-q", image], env=env, check=True, capture_output=True)))
            cpus.append(cpu_seconds([proc.pid]) - before)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            fs.close()
    return {"docker pull (dockerd 20.10)": (statistics.median(times), statistics.median(cpus))}


if __name__ == "__main__":
    main()
