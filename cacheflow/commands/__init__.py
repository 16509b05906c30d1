"""The command table and one module per command family.

Importing this package registers every command family in ``TABLE``.
"""

from cacheflow.commands import (  # noqa: F401
    clients,
    configuration,
    connection,
    databases,
    debug,
    info,
    introspection,
    keys,
    server,
    strings,
    transactions,
)
from cacheflow.commands.table import TABLE

__all__ = ["TABLE"]
