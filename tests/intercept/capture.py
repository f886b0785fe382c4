"""A mitmproxy addon: what an attacker's interception proxy records. Appends, for every request it
intercepts, the method, the URL and the X-API-Key header to the file named by $CAPTURE_LOG.

It also keeps the proxy on this machine: whatever host a client asks it to reach (a CONNECT to
api.example.com in regular mode), it connects to 127.0.0.1 at the same port, so that no name is
looked up and no packet leaves the loopback interface."""
import os

from mitmproxy import http
from mitmproxy.proxy import server_hooks


def server_connect(data: server_hooks.ServerConnectionHookData) -> None:
    if data.server.address is not None:
        data.server.address = ("127.0.0.1", data.server.address[1])


def request(flow: http.HTTPFlow) -> None:
    key = flow.request.headers.get("X-API-Key", "")
    with open(os.environ["CAPTURE_LOG"], "a") as f:
        f.write(f"captured {flow.request.method} {flow.request.pretty_url} X-API-Key: {key}\n")
