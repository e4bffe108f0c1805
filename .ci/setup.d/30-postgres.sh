# PostgreSQL for the log-store conformance suite and the brain suites on PostgreSQL
# (tests/postgres_cluster.py initdb's and starts its own server on 127.0.0.1 as the postgres
# user; nothing here starts one).
apt_install postgresql
