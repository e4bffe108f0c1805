"""`GET /metrics` of `nmem serve`: Prometheus text exposition (format 0.0.4), through
`prometheus_client`.

What an operator watches, per server (Prometheus adds the `instance` label):

* `nmem_events_total{brain}`: events in the brain's log, whoever appended them (its head seq,
  gap-free), so `rate(nmem_events_total[1m])` is the append rate in events per second.
* `nmem_projection_seq{brain}`, `nmem_projection_lag_events{brain}`: the seq this server's
  projection has folded and how far that is behind the log's head, for the brains it holds
  open (a server answers from its projection: lag is how stale its answers can be).
* `nmem_log_size_bytes`: what the store occupies (log, indexes, checkpoints).
* `nmem_recall_duration_seconds`: a histogram of recall requests, as the client sees them
  (waiting for the engine included).
* `nmem_http_requests_total{method,route,status}`: requests by route template and status.
* `process_*`: the server process's CPU, memory and file descriptors.

Who may scrape: without a token file anyone who reaches the server (it binds loopback only);
with one, any valid token (read access is enough), and the per-brain series cover only the
brains that token may use, as `GET /brains` does, so a tenant's token never learns another
tenant's brains. Give Prometheus a read token for `["*"]`
(`authorization: {credentials: ...}` in its scrape config).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from starlette.responses import Response

from adapters.http_server import Call, Op

if TYPE_CHECKING:
    from adapters.http_server import Token
    from engine import Store

__all__ = ["CONTENT_TYPE", "OPS", "Metrics"]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
RECALL_ROUTE: Final = "/brains/{brain}/recall"
# seconds: a recall on a small brain takes about a millisecond, one on a million memories ~0.1 s
RECALL_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """One server's metrics: request counters and the recall histogram are kept as requests
    end; the log's figures are read from the store at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nmem_http_requests",
            "HTTP requests by route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.recall = Histogram(
            "nmem_recall_duration_seconds",
            "Recall requests: seconds from arrival to the answer",
            buckets=RECALL_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request (`route`: its template, e.g. /brains/{brain}/recall)."""
        self.requests.labels(method, route, str(status)).inc()
        if route == RECALL_ROUTE and status < 400:
            self.recall.observe(seconds)

    def render(self, store: Store, grant: Token | None) -> bytes:
        """The exposition text (in the worker thread: the store is read)."""
        return generate_latest(self.registry) + generate_latest(_LogCollector(store, grant))


class _LogCollector:
    """The log's figures at scrape time: heads, projection positions, size."""

    def __init__(self, store: Store, grant: Token | None) -> None:
        self.store = store
        self.grant = grant

    def collect(self) -> Iterator[Metric]:
        heads = {
            name: seq
            for name, (_, seq) in self.store.brain_heads().items()
            if self.grant is None or self.grant.allows(name)
        }
        events = CounterMetricFamily(
            "nmem_events", "Events in the brain's log (its head seq)", labels=("brain",)
        )
        folded = GaugeMetricFamily(
            "nmem_projection_seq", "The seq this server's projection has folded", labels=("brain",)
        )
        lag = GaugeMetricFamily(
            "nmem_projection_lag_events",
            "Events in the log this server's projection has not folded yet",
            labels=("brain",),
        )
        opened = self.store.opened()
        for name, head in sorted(heads.items()):
            events.add_metric((name,), head)
            if name in opened:
                seq = opened[name].folded
                folded.add_metric((name,), seq)
                lag.add_metric((name,), max(head - seq, 0))
        yield events
        yield folded
        yield lag
        size = GaugeMetricFamily("nmem_log_size_bytes", "Bytes the store occupies")
        size.add_metric((), self.store.log.size())
        yield size


def _metrics(c: Call) -> Any:
    body = c.server.metrics.render(c.store, c.grant)
    return Response(body, media_type=CONTENT_TYPE)


OPS: tuple[Op, ...] = (
    Op("metrics", "GET", "/metrics", "Prometheus metrics: events, recall latency, requests, "
       "log size, projection lag", "any", _metrics, tag="server", media=CONTENT_TYPE,
       schema={"type": "string"}, returns="the Prometheus text exposition format 0.0.4"),
)  # fmt: skip
