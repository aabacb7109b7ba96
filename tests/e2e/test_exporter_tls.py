# SPDX-License-Identifier: GPL-2.0
"""memscope exporter off loopback: --web-config in Prometheus exporters' format (TLS,
client certificates, basic auth), scraped by a real Prometheus, curl and Python's ssl;
SIGHUP rotates certificates without touching the collectors or their counters."""
import ctypes
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import MEMSCOPE, SLOWDOWN, run, wait_attached
from test_exporter import Prometheus, free_port, memcg_read, parse, value

PASSWORD = "s3cret-for-memscope"


def bcrypt(password, cost=10):
    """A bcrypt hash as htpasswd -nBC 10 makes it ($2y$), from libcrypt."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p,
                                  ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2y$", cost, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue(d, ca, name, cn, usage, san=None):
    """name.crt and name.key: an RSA key and a certificate signed by ca."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"extendedKeyUsage={usage}\n" + (f"subjectAltName={san}\n" if san else ""))
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d)


@pytest.fixture(scope="module")
def pki():
    """A server CA with two server certificates (a and b: a rotation), a client CA with a
    client certificate, and a rogue CA's client certificate."""
    d = tempfile.mkdtemp(prefix="memscope-tls-")
    for ca in ("ca", "client-ca", "rogue-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key",
                "-out", f"{ca}.crt", "-days", "2", "-subj", f"/CN=memscope test {ca}", cwd=d)
    for name in ("a", "b"):
        issue(d, "ca", f"server-{name}", f"memscope-{name}", "serverAuth",
              "IP:127.0.0.1,DNS:localhost")
    issue(d, "client-ca", "client", "prometheus", "clientAuth")
    issue(d, "rogue-ca", "rogue", "prometheus", "clientAuth")
    shutil.copy(os.path.join(d, "server-a.crt"), os.path.join(d, "server.crt"))
    shutil.copy(os.path.join(d, "server-a.key"), os.path.join(d, "server.key"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def der(d, name):
    with open(os.path.join(d, name)) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


HASH = bcrypt(PASSWORD)
HEADERS = "  headers:\n    X-Frame-Options: deny\n"


def web_config(d, tls="", users=HASH, http=HEADERS):
    """web.yml in d (relative file names are read beside it, as the toolkit reads them);
    tls None: no TLS; users: prometheus's bcrypt hash, or None."""
    text = ""
    if tls is not None:
        text += "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n" + tls
    if http:
        text += "http_server_config:\n" + http
    if users:
        text += f"basic_auth_users:\n  prometheus: {users}\n"
    path = os.path.join(d, "web.yml")
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)
    return path


class TLSExporter:
    """memscope exporter --web-config FILE; its stderr in a file, read as it grows."""

    def __init__(self, config, *args, listen="127.0.0.1"):
        self.port = free_port()
        self.errf = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen([MEMSCOPE, "exporter", "--listen", f"{listen}:{self.port}",
                                   "--web-config", config, *map(str, args)],
                                  stdout=subprocess.DEVNULL, stderr=self.errf, text=True)
        wait_attached(self.p)

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read()

    def reload(self, said):
        """SIGHUP, then wait until stderr has one more line containing said."""
        lines = len(self.stderr().splitlines())
        self.p.send_signal(signal.SIGHUP)
        end = time.time() + 30 * SLOWDOWN
        while time.time() < end:
            new = self.stderr().splitlines()[lines:]
            if new:
                assert len(new) == 1 and said in new[0], new
                return new[0]
            time.sleep(0.1)
        raise AssertionError("no word after SIGHUP")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=30 * SLOWDOWN)
        assert self.p.returncode == 0, self.stderr()


def context(pki, cert=None, tls_max=None, ciphers=None):
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    if cert:
        ctx.load_cert_chain(os.path.join(pki, f"{cert}.crt"), os.path.join(pki, f"{cert}.key"))
    if tls_max:
        ctx.maximum_version = tls_max
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def basic(user, password):
    import base64
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def get(port, ctx, path="/metrics", headers=None):
    """(status, headers, body, server certificate DER, cipher) of one request over a new
    connection; an ssl or connection error when the server refused."""
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30 * SLOWDOWN)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode()
        return r.status, dict(r.headers), body, c.sock.getpeercert(binary_form=True), \
            c.sock.cipher()[0]
    finally:
        c.close()


def refused(port, ctx, headers=None):
    """The server ends the handshake: no HTTP answer at all (with TLS 1.3 the client
    learns it on its first read)."""
    try:
        got = get(port, ctx, headers=headers)
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected) as e:
        return repr(e)
    raise AssertionError(f"answered {got[0]}")


@pytest.fixture(scope="module")
def exporter(pki):
    e = TLSExporter(web_config(pki))
    yield e
    e.stop()


def test_bad_web_config_is_one_line_and_exit_2(pki):
    """Checked before anything is loaded: every problem one line, exit 2."""
    d = tempfile.mkdtemp(prefix="memscope-tls-bad-", dir=pki)
    with open(os.path.join(d, "garbage.key"), "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    certs = f"  cert_file: {pki}/server.crt\n"
    cases = {
        "unknown option": ("tls_server_config:\n" + certs + f"  key_file: {pki}/server.key\n"
                           "  cert_flie: x\n", "unknown option 'cert_flie'"),
        "unreadable key": ("tls_server_config:\n" + certs + "  key_file: missing.key\n",
                           "No such file"),
        "bad key": ("tls_server_config:\n" + certs + "  key_file: garbage.key\n",
                    "the certificate and key"),
        "key of another certificate": ("tls_server_config:\n" + certs +
                                       f"  key_file: {pki}/server-b.key\n",
                                       "the certificate and key"),
        "not bcrypt": ("basic_auth_users:\n  prometheus: s3cret\n", "not a bcrypt hash"),
        "not YAML": ("tls_server_config:\n  cert_file: [\n", "line "),
        "CA without policy": ("tls_server_config:\n" + certs + f"  key_file: {pki}/server.key"
                              f"\n  client_ca_file: {pki}/client-ca.crt\n",
                              "without a client_auth_type"),
        "suites GnuTLS cannot pair so": ("tls_server_config:\n" + certs +
                                         f"  key_file: {pki}/server.key\n  cipher_suites:\n"
                                         "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
                                         "    - TLS_RSA_WITH_AES_256_CBC_SHA\n",
                                         "would also offer"),
        "rate limit": ("rate_limit:\n  interval: 1s\n", "not supported"),
    }
    for what, (text, said) in cases.items():
        path = os.path.join(d, "web.yml")
        with open(path, "w") as f:
            f.write(text)
        p = run("exporter", "--web-config", path, "-d", 1)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1, (what, p.stderr)
        assert f"--web-config {path}: " in lines[0] and said in lines[0], (what, lines)
    p = run("exporter", "--web-config", os.path.join(d, "none.yml"), "-d", 1)
    assert p.returncode == 2 and "No such file" in p.stderr


def test_prometheus_scrapes_over_tls_with_basic_auth(pki, exporter):
    """Prometheus' own tls_config and basic_auth: the right password gets the data, a
    wrong one is down."""
    job = ("  - job_name: {name}\n    scheme: https\n    tls_config:\n"
           f"      ca_file: {pki}/ca.crt\n    basic_auth:\n      username: prometheus\n"
           "      password: {password}\n    static_configs:\n"
           f"      - targets: ['127.0.0.1:{exporter.port}']\n")
    prom = Prometheus(None, jobs=job.format(name="memscope", password=PASSWORD) +
                      job.format(name="wrong", password="not-" + PASSWORD))
    try:
        prom.wait(lambda: prom.query('up{job="memscope"} == 1'), 60 * SLOWDOWN)
        avail = prom.wait(lambda: prom.query('memscope_system_available_bytes{job="memscope"}'),
                          30 * SLOWDOWN)
        assert list(avail.values())[0] > 0
        prom.wait(lambda: prom.query('memscope_exporter_scrapes_total{job="memscope"} >= 2'),
                  30 * SLOWDOWN)
        prom.wait(lambda: prom.query('up{job="wrong"} == 0'), 30 * SLOWDOWN)
        assert not prom.query('memscope_build_info{job="wrong"}')
    finally:
        prom.stop()


def test_wrong_password_is_401(pki, exporter):
    ctx = context(pki)
    for headers in ({}, basic("prometheus", "wrong"), basic("nobody", PASSWORD),
                    basic("prometheus", PASSWORD + "x")):
        status, h, body, _, _ = get(exporter.port, ctx, headers=headers)
        assert status == 401 and h.get("WWW-Authenticate", "").startswith("Basic"), headers
        assert "memscope_" not in body
        assert h.get("X-Frame-Options") == "deny"  # http_server_config's headers, always
    status, h, body, _, _ = get(exporter.port, ctx, headers=basic("prometheus", PASSWORD))
    assert status == 200 and h["X-Frame-Options"] == "deny"
    assert value(parse(body)[0], "memscope_build_info") == 1


def test_curl_with_the_right_credentials(pki, exporter):
    url = f"https://127.0.0.1:{exporter.port}/metrics"
    ca = os.path.join(pki, "ca.crt")
    p = subprocess.run(["curl", "-sS", "--cacert", ca, "-u", f"prometheus:{PASSWORD}", url],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "memscope_system_available_bytes" in p.stdout, p.stderr
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                        ca, "-u", "prometheus:wrong", url], capture_output=True, text=True,
                       timeout=60)
    assert p.stdout == "401"
    # a client that does not trust the server's CA never gets to send the password
    p = subprocess.run(["curl", "-sS", "-u", f"prometheus:{PASSWORD}", url],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 60, p.stderr  # CURLE_PEER_FAILED_VERIFICATION


def test_plain_http_to_the_tls_port_is_refused(exporter):
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=30 * SLOWDOWN) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        try:
            while chunk := s.recv(4096):
                got += chunk
        except ConnectionError:
            pass
    assert not got.startswith(b"HTTP/") and b"memscope_" not in got, got[:200]
    c = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=30 * SLOWDOWN)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        c.request("GET", "/metrics")
        c.getresponse()
    c.close()


def test_client_certificates(pki, exporter):
    """Each client_auth_type as Go's crypto/tls means it, switched by SIGHUP; under TLS
    1.2 (where the refusal is the handshake's) and 1.3."""
    auth = basic("prometheus", PASSWORD)
    ca = f"  client_ca_file: {pki}/client-ca.crt\n"
    try:
        for tls_max in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            exporter.reload("reloaded")
            none, good, rogue = (context(pki, c, tls_max) for c in (None, "client", "rogue"))
            web_config(pki, "  client_auth_type: RequireAndVerifyClientCert\n" + ca)
            assert "client certificates required and verified" in exporter.reload("reloaded")
            refused(exporter.port, none, auth)
            refused(exporter.port, rogue, auth)
            assert get(exporter.port, good, headers=auth)[0] == 200
            p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                "--cacert", f"{pki}/ca.crt", "--cert", f"{pki}/client.crt",
                                "--key", f"{pki}/client.key", "-u", f"prometheus:{PASSWORD}",
                                f"https://127.0.0.1:{exporter.port}/metrics"],
                               capture_output=True, text=True, timeout=60)
            assert p.stdout == "200", p.stderr
            # the certificate is no password: without one, 401 all the same
            assert get(exporter.port, good)[0] == 401

            web_config(pki, "  client_auth_type: VerifyClientCertIfGiven\n" + ca)
            exporter.reload("client certificates verified when given")
            assert get(exporter.port, none, headers=auth)[0] == 200
            assert get(exporter.port, good, headers=auth)[0] == 200
            refused(exporter.port, rogue, auth)

            web_config(pki, "  client_auth_type: RequireAnyClientCert\n")
            exporter.reload("client certificates required, not verified")
            refused(exporter.port, none, auth)
            assert get(exporter.port, rogue, headers=auth)[0] == 200

            web_config(pki, "  client_auth_type: RequestClientCert\n")
            exporter.reload("client certificates requested, not verified")
            assert get(exporter.port, none, headers=auth)[0] == 200
            assert get(exporter.port, rogue, headers=auth)[0] == 200
            web_config(pki)
    finally:
        web_config(pki)
        exporter.reload("reloaded")


def test_versions_and_cipher_suites(pki, exporter):
    auth = basic("prometheus", PASSWORD)
    try:
        web_config(pki, "  min_version: TLS13\n")
        assert "TLS 1.3," in exporter.reload("reloaded")
        refused(exporter.port, context(pki, tls_max=ssl.TLSVersion.TLSv1_2), auth)
        assert get(exporter.port, context(pki), headers=auth)[0] == 200

        web_config(pki, "  max_version: TLS12\n  cipher_suites:\n"
                   "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                   "  curve_preferences: [CurveP384]\n")
        exporter.reload("TLS 1.2,")
        ctx12 = context(pki, tls_max=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-AES128-GCM-SHA256")
        refused(exporter.port, ctx12, auth)
        ctx12 = context(pki, tls_max=ssl.TLSVersion.TLSv1_2,
                        ciphers="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")
        status, _, _, _, cipher = get(exporter.port, ctx12, headers=auth)
        assert status == 200 and cipher == "ECDHE-RSA-AES256-GCM-SHA384"
        ctx12.set_ecdh_curve("prime256v1")  # only P-256 offered: no common group
        refused(exporter.port, ctx12, auth)
    finally:
        web_config(pki)
        exporter.reload("reloaded")


def prog_ids(pid):
    """The BPF programs a process holds, from its file descriptors' fdinfo."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^prog_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m[1]))
    return ids


def test_sighup_rotates_the_certificate_and_keeps_the_counters(pki, exporter, data_file):
    auth = basic("prometheus", PASSWORD)
    ctx = context(pki)
    progs = prog_ids(exporter.p.pid)
    assert progs
    memcg_read(data_file)  # memcg reclaim: kernel counters above zero, which a reset would lose
    status, _, body, cert, _ = get(exporter.port, ctx, headers=auth)
    assert status == 200 and cert == der(pki, "server-a.crt")
    before, types = parse(body)
    assert value(before, "memscope_reclaim_stall_seconds_count", reclaimer="memcg") > 0
    try:
        for name in ("crt", "key"):  # the certificate rotates under the same names
            shutil.copy(os.path.join(pki, f"server-b.{name}"), os.path.join(pki, f"server.{name}"))
        # until the reload, new connections still get the old certificate
        assert get(exporter.port, ctx, headers=auth)[3] == der(pki, "server-a.crt")
        exporter.reload("reloaded")
        status, _, body, cert, _ = get(exporter.port, ctx, headers=auth)
        assert status == 200 and cert == der(pki, "server-b.crt")
        after, _ = parse(body)
        assert prog_ids(exporter.p.pid) == progs, "the collectors were opened again"
        assert value(after, "memscope_exporter_scrapes_total") == \
            value(before, "memscope_exporter_scrapes_total") + 2
        for name in [n for n, t in types.items() if t in ("counter", "histogram")]:
            for series in [n for n in before if n == name or n.startswith(name + "_")]:
                for labels, v in before[series]:
                    later = [w for l, w in after[series] if l == labels]
                    assert later and later[0] >= v, (series, labels, v, later)

        # a bad new file: the one in force stays, and memscope says so
        with open(os.path.join(pki, "web.yml"), "a") as f:
            f.write("rate_limit:\n  interval: 1s\n")
        line = exporter.reload("kept the configuration in force")
        assert "rate_limit" in line
        status, _, _, cert, _ = get(exporter.port, ctx, headers=auth)
        assert status == 200 and cert == der(pki, "server-b.crt")
        # and a password change applies to the next request
        web_config(pki, users=bcrypt("another-" + PASSWORD))
        exporter.reload("reloaded")
        assert get(exporter.port, ctx, headers=auth)[0] == 401
        assert get(exporter.port, ctx, headers=basic("prometheus", "another-" + PASSWORD))[0] \
            == 200
    finally:
        for name in ("crt", "key"):
            shutil.copy(os.path.join(pki, f"server-a.{name}"), os.path.join(pki, f"server.{name}"))
        web_config(pki)
        exporter.reload("reloaded")
    assert exporter.p.poll() is None


def test_the_protections_are_said(pki):
    """Off loopback: which protections are on, or today's warning when there are none."""
    port = free_port()
    p = run("exporter", "--listen", f"0.0.0.0:{port}", "--web-config", web_config(pki), "-d", 1,
            timeout=120 * SLOWDOWN)
    assert p.returncode == 0, p.stderr
    assert "TLS 1.2-1.3, no client certificates, basic auth (1 user)" in p.stderr
    assert "reachable from other machines" not in p.stderr
    p = run("exporter", "--listen", f"0.0.0.0:{port}", "--web-config",
            web_config(pki, tls=None, users=None, http="  http2: false\n"), "-d", 1,
            timeout=120 * SLOWDOWN)
    assert p.returncode == 0, p.stderr
    assert "no TLS (plain HTTP), no basic auth" in p.stderr
    assert "reachable from other machines" in p.stderr
    web_config(pki)
