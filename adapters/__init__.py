"""Everything that faces the outside: the `nmem` CLI, the MCP server, exporters and importers.

Adapters parse their input, call the engine's public API and format the answer; the engine
never imports them.
"""
