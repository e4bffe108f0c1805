"""The MCP server (`nmem mcp`): the original NeuralMemory's tools on the official SDK.

`server` holds the process, the strict argument handling and the error mapping; the tools live
by family in `memory_tools`, `session_tools` and `brain_tools`; `compat` lists what of the
original is answered differently, `confirm` the tokens a hard erase needs."""
