# The dashboard's browser tests (tests/test_dashboard_browser.py): Debian's Chromium, driven by
# the Python `playwright` package (its wheel bundles the Node driver, ~40 MB, so it lives in the
# `dashboard-test` extra rather than `test`). Never `playwright install`: the tests launch
# /usr/bin/chromium.
apt_install chromium fonts-dejavu-core
python3 -m venv .venv && .venv/bin/pip install -q -e '.[dashboard-test]'
