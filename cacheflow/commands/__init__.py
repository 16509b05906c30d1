"""The command table and one module per command family.

Importing this package registers every command family in ``TABLE``.
"""

from cacheflow.commands import connection, strings, transactions  # noqa: F401
from cacheflow.commands.table import TABLE

__all__ = ["TABLE"]
