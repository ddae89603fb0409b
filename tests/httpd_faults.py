#!/usr/bin/env python3
"""httpd_faults.py — a loopback HTTP server with fault injection, for the `data fetch` tests.

Serves files of --dir on 127.0.0.1 (an ephemeral port, written to --port-file) under a mode
prefix chosen per request, so one server covers every case:
  /normal/F     the file as it is (with Content-Length)
  /corrupt/F    same length, every 997th byte flipped
  /truncate/F   announces the full Content-Length, sends half, drops the connection
  /cut/F        no Content-Length, sends half, closes cleanly (looks complete to the client)
  /404/F        HTTP 404
  /503/F        HTTP 503 (server error: clients retry)
  /slow/F       headers, then silence for up to 120 s (for client timeouts)
  /flaky/F      503 for the first 2 requests of each path, then the file
Each request is logged to stderr as "MODE FILE STATUS".
"""
import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = "."
flaky_counts = {}
flaky_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet default logging
        pass

    def note(self, mode, name, status):
        sys.stderr.write("%s %s %s\n" % (mode, name, status))
        sys.stderr.flush()

    def fail(self, mode, name, code):
        self.note(mode, name, code)
        body = b"error\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.lstrip("/").split("/", 1)
        if len(parts) != 2:
            return self.fail("?", self.path, 404)
        mode, name = parts
        path = os.path.join(ROOT, os.path.basename(name))
        if mode == "404" or not os.path.isfile(path):
            return self.fail(mode, name, 404)
        if mode == "503":
            return self.fail(mode, name, 503)
        if mode == "flaky":
            with flaky_lock:
                n = flaky_counts.get(name, 0)
                flaky_counts[name] = n + 1
            if n < 2:
                return self.fail(mode, name, 503)
        with open(path, "rb") as f:
            data = f.read()
        if mode == "corrupt":
            b = bytearray(data)
            for i in range(500, len(b), 997):
                b[i] ^= 0xFF
            data = bytes(b)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode != "cut":
            self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.note(mode, name, 200)
        try:
            if mode == "slow":
                self.wfile.flush()
                end = time.time() + 120
                while time.time() < end:
                    time.sleep(0.2)
                return
            if mode in ("truncate", "cut"):
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    global ROOT
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    ROOT = args.dir
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
