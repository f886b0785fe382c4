#!/usr/bin/env python3
"""A small HTTPS API server for the interception tests and the demonstration.

    api_server.py --cert CERT --key KEY [--chain CHAIN] --api-key KEY --log LOG --port-file F
                  [--lifetime SECONDS]

Serves GET /v1/account over TLS on 127.0.0.1 (a port the kernel picks, written to --port-file):
200 with a JSON body when the X-API-Key header holds the API key, 401 otherwise. Every request it
receives is appended to --log (method, path, whether the key was right), so a test can tell
whether any request reached it. Uses Python's own http.server and ssl; stops by itself after
--lifetime seconds."""
import argparse
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--chain")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--lifetime", type=float, default=60.0)
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: the request log below is what counts
            pass

        def do_GET(self):
            ok = self.headers.get("X-API-Key") == args.api_key
            with open(args.log, "a") as f:
                f.write(f"{self.command} {self.path} key={'right' if ok else 'wrong'}\n")
            if self.path != "/v1/account":
                body, status = {"error": "not found"}, 404
            elif not ok:
                body, status = {"error": "a valid X-API-Key is required"}, 401
            else:
                body, status = {"account": "demo", "balance": 42}, 200
            data = json.dumps(body).encode() + b"\n"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.chain:
        # the leaf followed by the intermediate, as a server sends it
        with open(args.cert) as a, open(args.chain) as b, open(args.port_file + ".pem", "w") as out:
            out.write(a.read() + b.read())
        ctx.load_cert_chain(args.port_file + ".pem", args.key)
    else:
        ctx.load_cert_chain(args.cert, args.key)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Timer(args.lifetime, httpd.shutdown).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(httpd.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
