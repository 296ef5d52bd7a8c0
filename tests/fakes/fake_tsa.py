#!/usr/bin/env python3
"""A fake RFC 3161 timestamp authority for the signing tests (Python standard library and the openssl command).

It makes its own throwaway TSA key and certificate (extendedKeyUsage critical timeStamping) in --dir, answers every
POSTed TimeStampReq (application/timestamp-query) with `openssl ts -reply`, and counts the requests it answered.
Nothing of the module is shared with it: it is the server a signing tool's timestamp option talks to.

    python3 fake_tsa.py --dir /tmp/tsa
        prints "listening on http://127.0.0.1:<port>/" then serves until killed; --dir/tsa.pem is the certificate a
        verifier trusts for the timestamps (osslsigncode verify -TSA-CAfile), --dir/requests.log one line per answer.
"""
import argparse
import http.server
import os
import subprocess
import sys
import tempfile

CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {serial}
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha1, sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def make_authority(folder):
    key = os.path.join(folder, "tsa.key")
    cert = os.path.join(folder, "tsa.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-subj", "/CN=NenAi fake timestamp authority", "-days", "2",
                    "-addext", "extendedKeyUsage=critical,timeStamping",
                    "-addext", "keyUsage=critical,digitalSignature"], check=True, capture_output=True)
    with open(os.path.join(folder, "serial"), "w") as f:
        f.write("01\n")
    config = os.path.join(folder, "tsa.cnf")
    with open(config, "w") as f:
        f.write(CONFIG.format(serial=os.path.join(folder, "serial")))
    return key, cert, config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    key, cert, config = make_authority(args.dir)
    log = os.path.join(args.dir, "requests.log")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with tempfile.TemporaryDirectory() as work:
                query, reply = os.path.join(work, "q.tsq"), os.path.join(work, "r.tsr")
                with open(query, "wb") as f:
                    f.write(body)
                done = subprocess.run(["openssl", "ts", "-reply", "-config", config, "-queryfile", query,
                                       "-inkey", key, "-signer", cert, "-out", reply], capture_output=True)
                if done.returncode != 0:
                    self.send_error(400, "not a timestamp request")
                    return
                with open(reply, "rb") as f:
                    data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with open(log, "a") as f:
                f.write("%s %s %d bytes\n" % (self.path, self.headers.get("Content-Type", ""), len(body)))

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening on http://127.0.0.1:%d/" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
