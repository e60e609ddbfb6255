"""Helpers for interop scripts that run `bulwark` themselves: the CLI, `operator init` with a
Shamir seal, a self-signed TLS certificate, and server processes on a store (started, waited for,
stopped with SIGTERM). Only loopback addresses are used."""
import base64
import os
import signal
import subprocess
import time

from policy_oracle import Server, check, free_port

ROOT = "root-token-for-the-seal-test"


class Bulwark:
    """The `bulwark` binary with an environment free of configured master keys and tokens."""

    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("BULWARK_MASTER_KEY", "BULWARK_MASTER_KEY_FILE", "BULWARK_PASSPHRASE", "BULWARK_TOKEN")}
        self.env["BULWARK_HOME"] = os.path.join(work, "home")
        self.certs = os.path.join(work, "tls")
        os.makedirs(self.certs, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             self.certs + "/key.pem", "-out", self.certs + "/cert.pem", "-days", "2", "-subj", "/CN=localhost", "-addext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
        self.ca = self.certs + "/cert.pem"

    def run(self, args, stdin=None, extra=None):
        return subprocess.run([self.binary] + args, env=dict(self.env, **(extra or {})), input=stdin, capture_output=True,
                              text=True, timeout=300)

    def init(self, database, extra_args=()):
        """`operator init` with a Shamir seal: (output, shares as bytes, seal id)."""
        result = self.run(["operator", "init", "--storage", "sqlite:" + database, "--root-token", ROOT] + list(extra_args))
        check(result.returncode == 0, f"operator init: {result.stderr}")
        shares = [base64.b64decode(line.split(": ", 1)[1]) for line in result.stdout.splitlines()
                  if line.startswith("Unseal Key ") and ": " in line]
        ids = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("Seal ID: ")]
        return result.stdout, shares, ids[0] if ids else None


class Node:
    """`bulwark server` on a SQLite store, on a free loopback port, its output in `log`."""

    def __init__(self, bulwark, database, seal_id, log, extra_env=None):
        self.bulwark, self.database, self.seal_id, self.log_path = bulwark, database, seal_id, log
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.bulwark.binary, "server", "--storage", "sqlite:" + self.database, "--listen", f"127.0.0.1:{self.port}",
             "--tls-cert", self.bulwark.certs + "/cert.pem", "--tls-key", self.bulwark.certs + "/key.pem", "--seal-id", self.seal_id],
            env=dict(self.bulwark.env, **self.extra_env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        probe = Server("bulwark", self.url, ROOT, ca=self.bulwark.ca)
        deadline = time.time() + 60
        while time.time() < deadline:
            check(self.process.poll() is None, "the server exited: " + open(self.log_path, errors="replace").read()[-2000:])
            try:
                if probe.call("GET", "sys/health")[0] in (200, 503):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return "killed"


def wait_until(predicate, what, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.05)
    check(False, what)
