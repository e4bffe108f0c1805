# The fish shell, to run the completion script `nmem completion fish` generates
# (tests/test_cli_parity.py asks fish itself what it would offer).
apt_install fish
