"""The command table and one module per command family.

Importing this package registers every command family in ``TABLE``.
"""

from cacheflow.commands import (  # noqa: F401
    bitmaps,
    clients,
    configuration,
    connection,
    databases,
    debug,
    hashes,
    hyperloglog,
    info,
    introspection,
    keys,
    lists,
    serialization,
    server,
    sets,
    sort,
    sorted_sets,
    strings,
    transactions,
)
from cacheflow.commands.table import TABLE

__all__ = ["TABLE"]
