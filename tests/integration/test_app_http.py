"""A real app binary over real HTTP with real clients (curl, Python
requests): a 100 MiB multipart upload streamed to a temp file, range
requests, 304s, path traversal, response splitting, streamed and gzipped
bodies, JSON errors, and the body limit."""
import gzip
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import unittest

import requests

sys.path.insert(0, os.path.dirname(__file__))
from app_harness import App, SANITIZE  # noqa: E402


def raw(port, request, timeout=10):
    """Sends request bytes as is (no client-side path normalization); returns the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker_of(pid):
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                return int(name)
    return None


class AppHTTP(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.TemporaryDirectory(prefix="vial-app-http-")
        data = os.path.join(cls.root.name, "data")
        os.makedirs(data)
        with open(os.path.join(data, "hello.txt"), "wb") as f:
            f.write(b"hello world\n")
        with open(os.path.join(data, "\u4e2d\u6587\u62a5\u544a.txt"), "wb") as f:
            f.write(b"x")
        with open(os.path.join(cls.root.name, "secret.txt"), "wb") as f:
            f.write(b"top secret\n")
        os.symlink(os.path.join(cls.root.name, "secret.txt"), os.path.join(data, "link.txt"))
        cls.uploads = os.path.join(cls.root.name, "uploads")
        os.makedirs(cls.uploads)
        cls.app = App("--port", "0", "--workers", "1", cwd=cls.root.name,
                      env={"VIAL_MAX_CONTENT_LENGTH": str(200 * 1024 * 1024), "VIAL_UPLOAD_TEMP_DIR": cls.uploads})
        cls.base = cls.app.url

    @classmethod
    def tearDownClass(cls):
        cls.app.stop()
        cls.root.cleanup()

    def test_large_multipart_upload_streams_to_disk(self):
        size = (20 if SANITIZE else 100) * 1024 * 1024
        path = os.path.join(self.root.name, "big.bin")
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            block = bytes(range(256)) * 4096
            for _ in range(size // len(block)):
                f.write(block)
                digest.update(block)
        worker = worker_of(self.app.proc.pid)
        before = rss_kib(worker)
        out = subprocess.run(["curl", "-sS", "--max-time", "300", "-F", f"file=@{path};filename=big.bin",
                              f"{self.base}/upload"], capture_output=True, text=True, check=True)
        after = rss_kib(worker)
        os.unlink(path)
        import json
        got = json.loads(out.stdout)
        self.assertEqual(got["size"], size)
        self.assertEqual(got["sha256"], digest.hexdigest())
        self.assertTrue(got["on_disk"], "a large file part goes to a temporary file")
        if not SANITIZE:
            self.assertLess(after - before, 64 * 1024, f"worker RSS grew {after - before} KiB for {size >> 20} MiB")
        self.assertEqual(os.listdir(self.uploads), [], "the temp file is removed after the request")

    def test_ranges_and_conditional_requests(self):
        r = requests.get(f"{self.base}/files/hello.txt")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Type"], "text/plain; charset=utf-8")
        etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
        self.assertEqual(requests.get(f"{self.base}/files/hello.txt", headers={"If-None-Match": etag}).status_code, 304)
        self.assertEqual(requests.get(f"{self.base}/files/hello.txt", headers={"If-Modified-Since": modified}).status_code, 304)
        r = requests.get(f"{self.base}/files/hello.txt", headers={"Range": "bytes=6-10"})
        self.assertEqual((r.status_code, r.content, r.headers["Content-Range"]), (206, b"world", "bytes 6-10/12"))
        r = requests.get(f"{self.base}/files/hello.txt", headers={"Range": "bytes=0-0,-1"})
        self.assertEqual(r.status_code, 206)
        self.assertTrue(r.headers["Content-Type"].startswith("multipart/byteranges; boundary="))
        self.assertIn(b"Content-Range: bytes 0-0/12\r\n\r\nh\r\n", r.content)
        self.assertIn(b"Content-Range: bytes 11-11/12\r\n\r\n\n\r\n", r.content)
        r = requests.get(f"{self.base}/files/hello.txt", headers={"Range": "bytes=50-60"})
        self.assertEqual((r.status_code, r.headers["Content-Range"]), (416, "bytes */12"))
        out = subprocess.run(["curl", "-sS", "-r", "0-4", f"{self.base}/files/hello.txt"], capture_output=True, check=True)
        self.assertEqual(out.stdout, b"hello")

    def test_attachment_with_a_chinese_name(self):
        r = requests.get(f"{self.base}/download/\u4e2d\u6587\u62a5\u544a.txt")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Disposition"],
                         "attachment; filename=.txt; filename*=UTF-8''%E4%B8%AD%E6%96%87%E6%8A%A5%E5%91%8A.txt")

    def test_traversal_never_leaves_the_folder(self):
        port = self.app.port
        for target in [b"/files/../secret.txt", b"/files/%2e%2e/secret.txt", b"/files/..%2fsecret.txt",
                       b"/files/%2e%2e%2fsecret.txt", b"/files/link.txt", b"/files/hello.txt%00.png",
                       b"/files//etc/passwd", b"/files/%2fetc%2fpasswd", b"/files/..%5csecret.txt",
                       b"/static/../../etc/passwd", b"/files/data/../../secret.txt"]:
            answer = raw(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status = answer.split(b" ", 2)[1]
            self.assertIn(status, (b"404", b"308", b"400"), target)
            self.assertNotIn(b"top secret", answer, target)
            self.assertNotIn(b"root:", answer, target)

    def test_response_splitting_is_refused(self):
        for value in ["a%0d%0aSet-Cookie:%20pwned=1", "a%0aX-Injected:%201", "a%0d%0a%0d%0a<script>", "a%0db"]:
            answer = raw(self.app.port, f"GET /echo_header?v={value} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head, _, body = answer.partition(b"\r\n\r\n")
            self.assertEqual(body, b"set=-1", value)
            self.assertNotIn(b"pwned", head)
            self.assertNotIn(b"X-Injected", head)
            self.assertNotIn(b"X-Echo", head)

    def test_streamed_and_gzipped_bodies(self):
        answer = raw(self.app.port, b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertEqual(requests.get(f"{self.base}/stream").text, "".join(f"chunk {i}\n" for i in range(5, 0, -1)))
        r = requests.get(f"{self.base}/big", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.headers.get("Content-Encoding"), "gzip")
        self.assertEqual(r.headers.get("Vary"), "Accept-Encoding")
        self.assertTrue(r.text.startswith("line 0 of a compressible body\n"))
        raw_answer = raw(self.app.port, b"GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        head, _, body = raw_answer.partition(b"\r\n\r\n")
        self.assertEqual(gzip.decompress(body).count(b"\n"), 2000)
        r = requests.get(f"{self.base}/big", headers={"Accept-Encoding": "identity"})
        self.assertNotIn("Content-Encoding", r.headers)
        r = requests.get(f"{self.base}/big", headers={"Accept-Encoding": "gzip;q=0"})
        self.assertNotIn("Content-Encoding", r.headers)

    def test_json_bodies(self):
        r = requests.post(f"{self.base}/json", json={"name": "\u4e2d", "n": [1, 2.5, None]})
        self.assertEqual(r.json(), {"name": "\u4e2d", "n": [1, 2.5, None]})
        r = requests.post(f"{self.base}/json", data='{"a": }', headers={"Content-Type": "application/json"})
        self.assertEqual(r.status_code, 400)
        self.assertIn("Failed to decode JSON object", r.text)
        self.assertIn("offset 6", r.text)
        r = requests.post(f"{self.base}/json", data="{}", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status_code, 415)

    def test_body_over_max_content_length_is_413(self):
        answer = raw(self.app.port, b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 999999999999\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer[:60])


if __name__ == "__main__":
    unittest.main(verbosity=2)
