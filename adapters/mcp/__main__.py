"""`python -m adapters.mcp`: the MCP server on stdio."""

from .server import main

raise SystemExit(main())
