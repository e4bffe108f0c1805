# The original NeuralMemory (neural-memory 4.63.0 from PyPI) in its own virtualenv, for the
# compatibility suites (tests/test_original_export.py; tests/test_mcp_compat.py runs its MCP
# server, which needs the mcp package): they find it through NMEM_PEER_VENV.
export NMEM_PEER_VENV="${NMEM_PEER_VENV:-$PWD/.ci/peer-venv}"
if [ ! -x "$NMEM_PEER_VENV/bin/nmem" ] || [ ! -x "$NMEM_PEER_VENV/bin/mcp" ]; then
    python3 -m venv "$NMEM_PEER_VENV"
    "$NMEM_PEER_VENV/bin/pip" install -q "neural-memory==4.63.0" mcp
fi
