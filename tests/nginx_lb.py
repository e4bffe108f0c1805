"""A real load balancer for the suites that run several `nmem serve` processes: Debian's nginx
(.ci/setup.d/35-nginx.sh), configured in a temporary directory, in the foreground on a free
loopback port, round-robin over the servers, passing WebSocket upgrades (the event stream).

It adds `X-Upstream` (the server that answered) to every reply, so a test can tell which
server took a request. A server that refuses connections (killed) is skipped for 30 s, and
a request that could not be sent to one is sent to the next; a request already sent to a
server that died answers 502, and the client retries it (with its idempotency key, a retry
of a write stores nothing twice).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from services import free_port, need, terminate, wait_for_health

CONF = """\
{user}worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream nmem {{
{servers}
        keepalive 32;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 4m;
        location / {{
            proxy_pass http://nmem;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if found is None:
        need("nginx", "the nginx binary is not installed (Debian: apt install nginx)")
    return found


@contextmanager
def balancing(urls: Sequence[str]) -> Iterator[str]:
    """nginx in front of the servers at `urls` (http://127.0.0.1:PORT); yields its URL."""
    binary = nginx_binary()
    work = Path(tempfile.mkdtemp(prefix="nmem-nginx-"))
    port = free_port()
    servers = "\n".join(
        f"        server {url.removeprefix('http://')} max_fails=1 fail_timeout=30s;"
        for url in urls
    )
    # as root, the worker would drop to `nobody`, which cannot enter root's temp dirs
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(CONF.format(user=user, dir=work, servers=servers, port=port))
    proc = subprocess.Popen(
        [binary, "-p", str(work), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    log = work / "error.log"
    try:
        wait_for_health(proc, url, "nginx", lambda: log.read_text() if log.exists() else "")
        yield url
    finally:
        terminate(proc)
        shutil.rmtree(work, ignore_errors=True)
