"""Deterministic software-team memory workload shared by our benchmark and the peer's.

Stdlib only. In the spirit of the original's ``benchmarks/stress_at_scale.py``: topics x
actions x features x reasons, seven memory kinds in rotation, a person in about half of
the memories, plus numbers and versions so that large brains get a realistic vocabulary.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=365)


def _items(spec: str) -> tuple[str, ...]:
    """Split a ``|``-separated vocabulary list (newlines are separators too)."""
    return tuple(s.strip() for s in spec.replace("\n", "|").split("|") if s.strip())


KINDS = _items("decision|error|todo|fact|insight|workflow|preference")

TOPICS = _items(
    """
    PostgreSQL|MySQL|SQLite|Redis|MongoDB|Cassandra|DynamoDB|Elasticsearch|Kafka|RabbitMQ|
    NATS|Celery|Docker|Kubernetes|Helm|Terraform|Ansible|Jenkins|GitHub Actions|GitLab CI|
    ArgoCD|Prometheus|Grafana|Sentry|Datadog|OpenTelemetry|Nginx|Envoy|Istio|gRPC|GraphQL|
    REST|WebSockets|JWT|OAuth2|Keycloak|Vault|S3|CloudFront|Lambda|Python|asyncio|FastAPI|
    Django|Flask|Go|Rust|TypeScript|React|Vue|Next.js|Webpack|Vite|pytest|Playwright|
    PyTorch|pandas|Spark|Airflow|dbt|Snowflake
"""
)

ACTIONS = _items(
    """
    refactor|migrate|optimize|benchmark|document|test|deprecate|rewrite|profile|harden|
    cache|shard|monitor|containerize|upgrade|split|simplify|automate
"""
)

FEATURES = _items(
    """
    user authentication|login flow|password reset|session handling|rate limiting|
    search indexing|full-text search|payment processing|invoice generation|checkout page|
    shopping cart|order history|email notifications|push notifications|file uploads|
    image resizing|video transcoding|audit logging|feature flags|A/B testing|
    analytics dashboard|report export|CSV import|data pipeline|ETL jobs|background jobs|
    task scheduler|API gateway|webhook delivery|admin panel|user onboarding|
    access control|multi-tenancy|billing|recommendation engine|ML model serving|
    schema migration|database migrations|connection pooling|response caching|
    health checks|log aggregation|error tracking|blue-green deployment|canary releases|
    CI pipeline|code reviews|dependency updates
"""
)

REASONS = _items(
    """
    it scales better under write-heavy load|the team already knows it well|
    the license is more permissive|it has better async support|
    the managed service is cheaper|latency dropped by half in the benchmark|
    it supports transactions across tables|the community is much larger|
    it integrates with our monitoring stack|the old client kept leaking connections|
    it simplifies local development|security review flagged the alternative|
    it reduces our cloud bill|the vendor ended support for the old version|
    it handles concurrency without locks|operations wanted fewer moving parts|
    it has first-class type hints|the migration path is well documented|
    it passed the load test at peak traffic|on-call pages went down with it
"""
)

PEOPLE = _items(
    """
    Alice|Bob|Carol|Dave|Erin|Frank|Grace|Heidi|Ivan|Judy|Mallory|Niaj|Olivia|Peggy|
    Rupert|Sybil|Trent|Uma|Victor|Wendy|Xavier|Yusuf|Zoe|Priya|Kenji|Lucia|Mateo|Aisha
"""
)

SERVICES = _items(
    """
    auth service|payment service|billing service|search service|notification service|
    user service|order service|inventory service|reporting service|gateway|worker service|
    scheduler|ingest pipeline|recommendation service|media service|admin backend|
    mobile backend|analytics service|export service|webhook service
"""
)

ENVS = _items("staging|production|dev|QA|the EU region|the US region")

ERRORS = _items(
    """
    connection timeout|connection refused|deadlock|memory leak|out-of-memory kill|
    race condition|null pointer exception|TLS handshake failure|503 errors|
    502 bad gateway|slow query|serialization error|stale cache entries|duplicate messages|
    consumer lag|disk full|certificate expiry|import error|flaky test|segfault
"""
)

CAUSES = _items(
    """
    a missing index|an unbounded retry loop|a misconfigured pool size|a DNS change|
    an expired certificate|a schema mismatch|a noisy neighbour|a dependency upgrade|
    a wrong timeout setting|clock skew between nodes|a forgotten feature flag|
    too many open files
"""
)

CONDITIONS = _items(
    """
    the payload is large|traffic spikes|most reads hit the cache|
    the dataset exceeds memory|requests are bursty|writes dominate
"""
)

STEPS = _items(
    """
    open a pull request|run the unit tests|run the integration tests|update the changelog|
    tag the release|build the container image|apply the database migrations|
    run the smoke tests|notify the on-call engineer|update the runbook|bump the version|
    check the dashboards
"""
)

MONTHS = _items(
    "January|February|March|April|May|June|July|August|September|October|November|December"
)

DAYS = _items("Monday|Tuesday|Wednesday|Thursday|Friday")

PERSON_CLAUSES = _items(
    """
    {p} is working on this.|{p} reported it.|Assigned to {p}.|{p} reviewed the change.|
    {p} will follow up next sprint.|Discussed with {p} in the {day} standup.|
    {p} is working on the fix.|{p} paired with {q} on it.
"""
)

TEMPLATES: dict[str, tuple[str, ...]] = {
    "decision": (
        "We decided to use {t1} instead of {t2} for {feature} because {reason}.",
        "Decision: move the {service} from {t2} to {t1} {ver} by {month}, since {reason}.",
        "After the design review we chose {t1} over {t2} for {feature}; {reason}.",
    ),
    "error": (
        "{t1} {error} in the {service} during the {feature} rollout (ticket #{ticket}).",
        "Got {error} from {t1} {ver} on {env}; traced it to {cause}.",
        "Bug #{ticket}: {feature} fails with {error} when {t1} is under load ({num} requests/s).",
    ),
    "todo": (
        "TODO: implement {feature} using {t1} before the {release} release.",
        "TODO: {action} the {feature} code in the {service} (due in {days} days).",
        "Need to {action} the {t1} config for {feature} on {env} before release {release}.",
    ),
    "fact": (
        "The {service} runs on {t1} {ver} and handles {feature} for {num} users.",
        "The {service} talks to {t1} on port {port} and to {t2} for {feature}.",
        "Our {env} cluster uses {t1} with {gb} GB of memory for {feature}.",
    ),
    "insight": (
        "Insight: we had to {action} {feature} with {t1}, which cut p95 latency from "
        "{ms_a} ms to {ms_b} ms.",
        "{t1} performs better than {t2} for {feature} when {condition}.",
        "Learned that caching {feature} results in {t1} reduces load on {t2} by {pct}%.",
    ),
    "workflow": (
        "Workflow for {feature}: {step1}, then {step2}, then deploy with {t1} to {env}.",
        "To {action} the {service}: run the {t1} pipeline, {step1}, and wait for approval.",
        "Deployment workflow: build with {t1}, push to {t2}, roll out to {env} with a "
        "{pct}% canary.",
    ),
    "preference": (
        "The team prefers {t1} over {t2} for {feature} because {reason}.",
        "Preference: use {t1} for {feature} and keep {t2} only for the legacy {service}.",
        "For code reviews we like small changes under {lines} lines with {t1} tests included.",
    ),
}

QUERIES: list[str] = [
    "Why did we choose PostgreSQL?",
    "connection errors with Redis",
    "what is Alice working on",
    "deployment workflow for Kubernetes",
    "authentication with JWT tokens",
    "TODO before the next release",
    "Python asyncio concurrency problems",
    "rate limiting in the API gateway",
    "what does the team prefer for code reviews",
    "insights about caching and latency",
    "memory leak in the worker service",
    "Kafka consumer lag",
    "which frontend framework did we pick, React or Vue",
    "GraphQL schema migration",
    "errors after upgrading Django",
    "how do we apply database migrations",
    "timeout in the payment service",
    "Terraform changes on staging",
    "Elasticsearch search latency",
    "what did Bob report",
]


def _fill(template: str, rng: random.Random) -> str:
    """Fill one template with random vocabulary."""
    t1, t2 = rng.sample(TOPICS, 2)
    step1, step2 = rng.sample(STEPS, 2)
    ms_b = rng.randint(5, 400)
    return template.format(
        t1=t1,
        t2=t2,
        feature=rng.choice(FEATURES),
        reason=rng.choice(REASONS),
        action=rng.choice(ACTIONS),
        service=rng.choice(SERVICES),
        env=rng.choice(ENVS),
        error=rng.choice(ERRORS),
        cause=rng.choice(CAUSES),
        condition=rng.choice(CONDITIONS),
        step1=step1,
        step2=step2,
        month=rng.choice(MONTHS),
        ver=f"{rng.randint(1, 17)}.{rng.randint(0, 12)}",
        release=f"v{rng.randint(1, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        ticket=rng.randint(100, 9999),
        num=rng.choice((50, 100, 200, 500, 1000, 2500, 5000, 10000, 40000)),
        port=rng.choice((5432, 6379, 9092, 9200, 8080, 8443, 3306, 27017, 5672, 4222)),
        gb=rng.choice((2, 4, 8, 16, 32, 64, 128)),
        days=rng.randint(2, 30),
        pct=rng.choice((5, 10, 20, 25, 30, 40, 50, 60, 75)),
        lines=rng.choice((100, 200, 300, 400, 500)),
        ms_a=ms_b + rng.randint(20, 900),
        ms_b=ms_b,
    )


def generate(n: int, seed: int = 42) -> list[tuple[str, datetime]]:
    """Return ``n`` (text, UTC event time) pairs in increasing time order.

    Times are spread over the 365 days before ``BASE_TIME``; the kinds rotate through
    ``KINDS``; about half of the texts mention a person.
    """
    return list(iterate(n, seed))


def iterate(n: int, seed: int = 42) -> Iterator[tuple[str, datetime]]:
    """The pairs of ``generate(n, seed)`` one at a time: a benchmark of a million memories
    need not hold them all."""
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(seed)
    start = BASE_TIME - SPAN
    step = SPAN.total_seconds() / max(n, 1)
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        text = _fill(rng.choice(TEMPLATES[kind]), rng)
        if rng.random() < 0.5:
            p, q = rng.sample(PEOPLE, 2)
            clause = rng.choice(PERSON_CLAUSES).format(p=p, q=q, day=rng.choice(DAYS))
            text = f"{text} {clause}"
        # One event per slot with jitter inside the slot: strictly increasing.
        offset = (i + 0.05 + 0.9 * rng.random()) * step
        when = (start + timedelta(seconds=offset)).replace(microsecond=0)
        yield text, when


def kind_of(index: int) -> str:
    """Return the memory kind of the ``index``-th generated memory."""
    return KINDS[index % len(KINDS)]


def main() -> None:
    """Print a sample of the workload (``python workload.py [n]``)."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 14
    items = generate(n)
    for i, (text, when) in enumerate(items[:20]):
        print(f"{when.isoformat()}  [{kind_of(i)}] {text}")
    vocab = {w.strip(".,;:()%").lower() for text, _ in items for w in text.split()}
    mentions = sum(any(p in text for p in PEOPLE) for text, _ in items)
    print(f"... {n} memories, {len(vocab)} distinct words, {mentions} mention a person")
    print("queries:")
    for q in QUERIES:
        print(f"  {q}")


if __name__ == "__main__":
    main()
