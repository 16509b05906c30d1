"""An asyncio RESP client used by the CLI and the proxy."""
