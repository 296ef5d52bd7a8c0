#!/usr/bin/env python3
"""A small, independent fake of the Nen API (spec section 11), Python standard library only.

It shares no code with the module or with the emulator, so a failure mode proven against both is the module's
behaviour, not an agreement between two pieces of our own code. It serves POST /runs, GET /runs/{id} and presigned
downloads (GET /files/{id}/{name}, with Range), and fails on demand:

    python3 tests/fakes/fake_nen.py [--port 0] [--api-key K] [--workflow ID]... [--files N] [--file-size BYTES]
                                    [--run-seconds S]

The first line it prints is "listening on http://127.0.0.1:<port>". Test-only endpoints:

    POST /_fake/faults   {"post": F, "get": F, "files": F}, each F (all optional):
                         {"status": 500, "retryAfter": 1, "forSeconds": 20, "latencyMs": 250,
                          "stall": "headers"|"body", "reset": true}
                         status: answer this status instead (with Retry-After when given); forSeconds: only for that
                         long after the faults were set (then the request is served normally); latencyMs: wait first;
                         stall "headers": never answer, "body": answer 200 with the full Content-Length, send 1 byte,
                         then nothing; reset: close the connection without an answer (TCP RST).
                         An answer that is not the API's: {"status": 200, "contentType": "text/html",
                         "body": "<html>Please log in</html>", "headers": {"Location": "http://..."}} answers the
                         status (default 200) with that body and Content-Type verbatim, and any extra headers
                         (a redirect: {"status": 302, "headers": {"Location": "https://..."}}, no body needed).
                         match: only a POST whose body holds this text meets the fault (a firewall refusing one
                         row's values); the others are served normally.
    POST /_fake/reset    forgets runs, faults and counters.
    GET  /_fake/ledger   {"requests": {"post": n, "get": n, "files": n}, "runs": [...], "maxFilesInFlight": n}

Runs whose parameters hold a value "FAIL" end "failed"; the others "success" after --run-seconds. A file's bytes are
its name repeated, made as they are sent (64 KiB at a time), so --file-size 2147483648 serves 2 GB in flat memory.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.reset()

    def reset(self):
        with self.lock:
            self.runs = {}
            self.order = []
            self.by_key = {}
            self.faults = {}
            self.faults_set_at = time.monotonic()
            self.counts = {"post": 0, "get": 0, "files": 0}
            self.files_in_flight = 0
            self.max_files_in_flight = 0

    def fault(self, kind):
        with self.lock:
            f = self.faults.get(kind)
            if not f:
                return None
            limit = f.get("forSeconds")
            if limit is not None and time.monotonic() - self.faults_set_at >= float(limit):
                return None
            return dict(f)


CHUNK = 64 * 1024


def content(name, start, length):
    """Bytes [start, start + length) of a file: its name repeated, so a resumed download can be checked."""
    unit = name.encode("utf-8") or b"x"
    offset = start % len(unit)
    return (unit * ((offset + length) // len(unit) + 1))[offset:offset + length]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeNen/1.0"

    def log_message(self, fmt, *args):  # quiet: the tests read the ledger, not a log
        pass

    # -- helpers ---------------------------------------------------------------------------------------------------
    @property
    def state(self):
        return self.server.state

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, code, obj, headers=None):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def reset_connection(self):
        # SO_LINGER 0: close() sends RST, so the client sees a reset, not a clean end.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def apply_fault(self, kind, raw=None):
        """True when the fault answered (or swallowed) the request."""
        f = self.state.fault(kind)
        if not f:
            return False
        if f.get("match") and (raw is None or f["match"].encode("utf-8") not in raw):
            return False
        if f.get("latencyMs"):
            time.sleep(float(f["latencyMs"]) / 1000.0)
        if f.get("reset"):
            self.reset_connection()
            return True
        if f.get("stall") == "headers":
            self.state.stop.wait(600)
            self.close_connection = True
            return True
        if "body" in f or "contentType" in f or "headers" in f:
            data = (f.get("body") or "").encode("utf-8")
            self.send_response(int(f.get("status") or 200))
            if f.get("contentType"):
                self.send_header("Content-Type", f["contentType"])
            self.send_header("Content-Length", str(len(data)))
            for k, v in (f.get("headers") or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            return True
        if f.get("status"):
            code = int(f["status"])
            headers = {"Retry-After": str(f["retryAfter"])} if f.get("retryAfter") is not None else None
            names = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited", 500: "internal_error",
                     502: "bad_gateway", 503: "unavailable", 504: "gateway_timeout"}
            self.send_json(code, {"error": names.get(code, "error"), "message": "fake fault"}, headers)
            return True
        return False  # latency only: serve normally

    def authorised(self):
        if self.headers.get("x-api-key") != self.state.args.api_key:
            self.send_json(401, {"error": "unauthorized", "message": "The API key is missing or not valid."})
            return False
        return True

    def run_json(self, run):
        base = "http://%s:%d" % self.server.server_address[:2]
        elapsed = time.time() - run["created"]
        if elapsed < self.state.args.run_seconds:
            return {"workflow_id": run["workflow"], "message_id": run["id"], "status": "processing",
                    "expires_at": int(time.time()) + 3600}
        failed = any(v == "FAIL" for v in run["params"].values())
        expires = int(time.time()) + 3600
        results = [{"name": "file%d.bin" % i,
                    "url": "%s/files/%s/file%d.bin?expires=%d&sig=fake-signature" % (base, run["id"], i, expires),
                    "content_type": "application/octet-stream", "size": self.state.args.file_size}
                   for i in range(self.state.args.files)]
        payload = {"workflow_id": run["workflow"], "message_id": run["id"], "status": "failed" if failed else "success",
                   "expires_at": expires, "results": results}
        if failed:
            payload["error"] = "The workflow raised an error (a FAIL value)."
        else:
            payload["result"] = {"ok": True}
        return payload

    # -- routes ----------------------------------------------------------------------------------------------------
    def do_POST(self):
        path = urlsplit(self.path).path
        raw = self.body()
        if path == "/_fake/faults":
            with self.state.lock:
                self.state.faults = json.loads(raw or b"{}")
                self.state.faults_set_at = time.monotonic()
            return self.send_json(200, {"ok": True})
        if path == "/_fake/reset":
            self.state.reset()
            return self.send_json(200, {"ok": True})
        if path.rstrip("/").endswith("/runs"):
            with self.state.lock:
                self.state.counts["post"] += 1
            if self.apply_fault("post", raw):
                return
            if not self.authorised():
                return
            try:
                req = json.loads(raw)
                workflow = req["workflow_id"]
            except (ValueError, KeyError, TypeError):
                return self.send_json(400, {"error": "Invalid request", "message": "Missing required field: workflow_id"})
            if workflow not in self.state.args.workflow:
                return self.send_json(404, {"error": "workflow_not_found", "message": "No workflow has that id."})
            key = self.headers.get("Idempotency-Key")
            with self.state.lock:
                run = self.state.by_key.get(key) if key else None
                if run is None:
                    run = {"id": str(uuid.uuid4()), "workflow": workflow, "params": req.get("workflow_params") or {},
                           "idempotencyKey": key, "created": time.time()}
                    self.state.runs[run["id"]] = run
                    self.state.order.append(run["id"])
                    if key:
                        self.state.by_key[key] = run
            return self.send_json(202, {"message": "Job accepted for processing.", "messageId": run["id"], "workflowId": workflow})
        self.send_json(404, {"error": "not_found"})

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_fake/ledger":
            with self.state.lock:
                runs = [{k: v for k, v in self.state.runs[i].items() if k != "created"} for i in self.state.order]
                return self.send_json(200, {"requests": dict(self.state.counts), "runs": runs,
                                            "maxFilesInFlight": self.state.max_files_in_flight})
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 2 and parts[-2] == "runs":
            with self.state.lock:
                self.state.counts["get"] += 1
            if self.apply_fault("get"):
                return
            if not self.authorised():
                return
            with self.state.lock:
                run = self.state.runs.get(parts[-1])
            if run is None:
                return self.send_json(404, {"error": "run_not_found", "message": "No run has that id."})
            return self.send_json(200, self.run_json(run))
        if len(parts) == 3 and parts[0] == "files":
            return self.serve_file(parts[1], parts[2])
        self.send_json(404, {"error": "not_found"})

    def serve_file(self, run_id, name):
        st = self.state
        with st.lock:
            st.counts["files"] += 1
            st.files_in_flight += 1
            st.max_files_in_flight = max(st.max_files_in_flight, st.files_in_flight)
        try:
            f = st.fault("files")
            if f and f.get("stall") == "body":
                if f.get("latencyMs"):
                    time.sleep(float(f["latencyMs"]) / 1000.0)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(st.args.file_size))
                self.end_headers()
                self.wfile.write(content(name, 0, 1))
                self.wfile.flush()
                st.stop.wait(600)
                self.close_connection = True
                return
            if self.apply_fault("files"):
                return
            with st.lock:
                known = run_id in st.runs
            if not known:
                return self.send_json(404, {"error": "not_found"})
            size = st.args.file_size
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes=") and rng[6:].endswith("-"):
                start = int(rng[6:-1])
            if start:
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size - start))
            self.send_header("ETag", '"%s"' % name)
            self.end_headers()
            for offset in range(start, size, CHUNK):
                self.wfile.write(content(name, offset, min(CHUNK, size - offset)))
        finally:
            with st.lock:
                st.files_in_flight -= 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-key", default="fake-api-key")
    p.add_argument("--workflow", action="append", default=None)
    p.add_argument("--files", type=int, default=2)
    p.add_argument("--file-size", type=int, default=1024)
    p.add_argument("--run-seconds", type=float, default=0.0)
    args = p.parse_args()
    args.workflow = args.workflow or ["11111111-1111-1111-1111-111111111111"]
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.state.stop.set()


if __name__ == "__main__":
    main()
