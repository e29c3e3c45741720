"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is idle.

With ``CONN_HEALTH_CHECKS`` on, Django checks a persistent connection before a request first uses
it by sending ``SELECT 1``: a round trip on every API call (0.07 ms here, a tenth of a
verification's database time). A connection that PostgreSQL closed (a restart, a terminated
backend, an idle timeout) always says so on its socket: the server sends its FATAL notice and
closes, or the kernel closes it when the server dies, so an idle connection's socket becomes
readable. An idle connection whose socket has nothing to read is therefore still open as far as
either end knows, which is all ``SELECT 1`` could have learnt too (a link cut without a word fails
the next query either way). Anything else (a readable socket, a connection inside a transaction,
a closed one) gets Django's own check.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_IDLE


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed:
            return False
        if raw.info.transaction_status == TRANSACTION_STATUS_IDLE:
            try:
                readable, _, _ = select.select([raw.fileno()], [], [], 0)
            except (OSError, ValueError):  # a file descriptor the OS no longer knows
                return False
            if not readable:
                return True
        return bool(super().is_usable())
