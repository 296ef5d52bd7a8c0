#!/usr/bin/env python3
"""An independent webhook sender (spec section 6), Python standard library only.

It shares no code with the module or the emulator: it signs deliveries as spec 6.4 says (header X-Hmac-Signature:
"sha256=" + lowercase hex HMAC-SHA256 of the raw body, keyed with the UTF-8 bytes of the secret) and posts them as
a Nen sender would, each with the sender's 5-second budget (spec 6.2). It can also be the hostile client: many
connections that send a request's headers (declaring a body) and then nothing, re-opened as the receiver closes them.

    python3 tests/fakes/webhook_sender.py selftest
        prints the signature of the spec 6.4 test vector (secret whsec-test), to compare with the spec.

    python3 tests/fakes/webhook_sender.py deliver --url URL --secret S (--ids A,B,... | --count N [--id-prefix P])
            [--status success] [--concurrency 1] [--timeout 5] [--retries 0]
            [--stalled N [--stall-declared 100]] [--wait-listening] [--wait-for URL --field a.b --at-least N]
        --stalled N     opens N stalled connections first (headers with Content-Length, no body) and keeps N open
                        while delivering (one that the receiver closes is opened again).
        --wait-listening  first waits (up to 60 s) until the receiver answers at all (an unsigned probe gets its 401).
        --wait-for      before delivering, polls URL (a JSON document) until its field reaches --at-least.
        --retries       sends a delivery again (after its Retry-After, at most 5 s) when it is not answered 200.
        --payloads FILE instead of --ids/--count: FILE is a JSON array, each element sent as one delivery's body as it is
                        (compact JSON, correctly signed), in order: bodies of any shape, e.g. "status": null, a numeric
                        or huge message_id, or a status nobody knows. Their output lines show the first 40 characters
                        of the message_id as "id" (when it is a string) and the status as JSON text.

Output, one JSON object per line: {"ready": true, "stalledOpen": n} once the stalled connections are open (and the
wait is over); then per delivery {"id", "status", "code", "ms", "retryAfter", "stalledOpen", "attempts"}, where code is
the HTTP status of the last attempt (0 when there was no answer: refused, reset, timed out) and stalledOpen how many
stalled connections were open when it was sent; last {"summary": {"sent", "ok", "stalledOpened", "stalledClosedByServer"}}.
"""
import argparse
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import selectors
import socket
import sys
import threading
import time
import urllib.request
from urllib.parse import urlsplit

SPEC_VECTOR_BODY = '{"workflow_id":"w","message_id":"m","status":"processing","expires_at":1730319600}'


def sign(secret, body_bytes):
    return "sha256=" + hmac.new(secret.encode("utf-8"), body_bytes, hashlib.sha256).hexdigest()


def body_for(message_id, status):
    # A spec 6.3 payload; final updates carry a results array as spec section 11 (Q3) decides.
    payload = {"workflow_id": "0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21", "message_id": message_id, "status": status,
               "expires_at": int(time.time()) + 3600}
    if status == "failed":
        payload["error"] = "the workflow failed"
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


class Stalled:
    """N connections that send a POST's headers (declaring a body) and nothing more; re-opened as they close."""

    def __init__(self, url, count, declared):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.head = (f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                     f"X-Hmac-Signature: sha256=00\r\nContent-Length: {declared}\r\n\r\n").encode("ascii")
        self.count = count
        self.selector = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.open = 0
        self.opened = 0
        self.closed_by_server = 0
        self.stop = threading.Event()
        self.thread = None

    def _open_one(self):
        s = socket.create_connection((self.host, self.port), timeout=5)
        s.sendall(self.head)
        s.setblocking(False)
        self.selector.register(s, selectors.EVENT_READ)
        with self.lock:
            self.open += 1
            self.opened += 1

    def start(self):
        for _ in range(self.count):
            self._open_one()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        while not self.stop.is_set():
            for key, _ in self.selector.select(timeout=0.1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data:
                    continue  # an answer (408, 503): the close follows
                self.selector.unregister(s)
                s.close()
                with self.lock:
                    self.open -= 1
                    self.closed_by_server += 1
                if not self.stop.is_set():
                    try:
                        self._open_one()
                    except OSError:
                        pass

    def open_now(self):
        with self.lock:
            return self.open

    def close(self):
        self.stop.set()
        if self.thread:
            self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            try:
                key.fileobj.close()
            except OSError:
                pass


def read_field(url, field):
    with urllib.request.urlopen(url, timeout=5) as answer:
        value = json.loads(answer.read().decode("utf-8"))
    for name in field.split("."):
        value = value[name]
    return value


def wait_listening(url):
    parts = urlsplit(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=2)
        try:
            conn.request("POST", parts.path or "/", body=b"{}", headers={"Content-Type": "application/json"})
            conn.getresponse().read()
            return True
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
        finally:
            conn.close()
    return False


def deliver_one(url, secret, message_id, status, timeout, retries, stalled, body=None):
    parts = urlsplit(url)
    body = body if body is not None else body_for(message_id, status)
    headers = {"Content-Type": "application/json", "X-Hmac-Signature": sign(secret, body)}
    open_then = stalled.open_now() if stalled else 0
    start = time.monotonic()
    attempts, code, retry_after = 0, 0, None
    while True:
        attempts += 1
        code, retry_after = 0, None
        attempt_start = time.monotonic()
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        try:
            conn.request("POST", parts.path or "/", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            code, retry_after = answer.status, answer.getheader("Retry-After")
        except (OSError, http.client.HTTPException):
            code = 0
        finally:
            conn.close()
        ms = (time.monotonic() - attempt_start) * 1000
        if code == 200 or attempts > retries:
            break
        wait = 1.0
        try:
            wait = min(5.0, float(retry_after)) if retry_after else 1.0
        except ValueError:
            pass
        time.sleep(wait)
    return {"id": message_id, "status": status, "code": code, "ms": round(ms, 1), "retryAfter": retry_after,
            "stalledOpen": open_then, "attempts": attempts, "totalMs": round((time.monotonic() - start) * 1000, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("selftest")
    d = sub.add_parser("deliver")
    d.add_argument("--url", required=True)
    d.add_argument("--secret", required=True)
    d.add_argument("--ids")
    d.add_argument("--count", type=int, default=0)
    d.add_argument("--id-prefix", default="run-")
    d.add_argument("--status", default="success")
    d.add_argument("--concurrency", type=int, default=1)
    d.add_argument("--timeout", type=float, default=5.0)
    d.add_argument("--retries", type=int, default=0)
    d.add_argument("--stalled", type=int, default=0)
    d.add_argument("--stall-declared", type=int, default=100)
    d.add_argument("--wait-listening", action="store_true")
    d.add_argument("--wait-for")
    d.add_argument("--field")
    d.add_argument("--at-least", type=float, default=1)
    d.add_argument("--payloads")
    args = parser.parse_args()

    if args.command == "selftest":
        print(sign("whsec-test", SPEC_VECTOR_BODY.encode("utf-8")))
        return 0

    ids = args.ids.split(",") if args.ids else [f"{args.id_prefix}{i}" for i in range(args.count)]
    # (id, status, body): a body of None is the spec 6.3 payload for id and status.
    jobs = [(i, args.status, None) for i in ids]
    if args.payloads:
        with open(args.payloads, encoding="utf-8") as f:
            payloads = json.load(f)
        jobs = []
        for p in payloads:
            mid = p.get("message_id") if isinstance(p, dict) else None
            shown = mid[:40] if isinstance(mid, str) else json.dumps(mid)
            status = json.dumps(p.get("status")) if isinstance(p, dict) else None
            jobs.append((shown, status, json.dumps(p, separators=(",", ":")).encode("utf-8")))
    if args.wait_listening and not wait_listening(args.url):
        print(json.dumps({"error": "the receiver never answered"}), flush=True)
        return 2
    stalled = None
    if args.stalled > 0:
        stalled = Stalled(args.url, args.stalled, args.stall_declared)
        stalled.start()
    if args.wait_for:
        deadline = time.monotonic() + 60
        while True:
            try:
                if float(read_field(args.wait_for, args.field)) >= args.at_least:
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                print(json.dumps({"error": f"{args.field} never reached {args.at_least}"}), flush=True)
                return 2
            time.sleep(0.05)
    print(json.dumps({"ready": True, "stalledOpen": stalled.open_now() if stalled else 0}), flush=True)

    ok = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
        futures = [pool.submit(deliver_one, args.url, args.secret, i, st, args.timeout, args.retries, stalled, b) for (i, st, b) in jobs]
        for f in futures:
            result = f.result()
            ok += result["code"] == 200
            print(json.dumps(result), flush=True)
    summary = {"sent": len(jobs), "ok": ok}
    if stalled:
        summary.update(stalledOpened=stalled.opened, stalledClosedByServer=stalled.closed_by_server, stalledOpenAtEnd=stalled.open_now())
        stalled.close()
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
