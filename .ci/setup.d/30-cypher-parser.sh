# Neo4j's own Cypher parser (npm @neo4j-cypher/language-support, pinned in the lock file) for
# tests/exporters/test_cypher.py, which checks every statement the Neo4j exporter writes.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
(cd tests/exporters/cypher && npm ci --silent --no-audit --no-fund)
