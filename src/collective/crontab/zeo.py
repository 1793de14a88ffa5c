"""A ZEO client forgets its prefetched object ids when it reconnects.

A ZEO client fetches new object ids from the server a hundred at a time.
A restarted FileStorage server hands out again every id after the highest
one stored, so the ids a client fetched before the restart and had not used
yet may go to another client as well: their new objects collide
(``ValueError: A different object already has the same oid`` in a client,
``POSKeyError`` while resolving conflicts on the server), and runs fail
until the clients have used up those ids. ZEO (6.2) keeps them across a
reconnection; this patch drops them, so the clients need no restart.
"""

from ZEO.ClientStorage import ClientStorage

import functools


def forgetting_prefetched_oids(notify_connected):
    @functools.wraps(notify_connected)
    def notify(self, conn, info):
        self._oids[:] = []  # new_oid fetches new ones from this server
        return notify_connected(self, conn, info)

    notify.forgets_prefetched_oids = True
    return notify


if not getattr(ClientStorage.notify_connected, "forgets_prefetched_oids", False):
    ClientStorage.notify_connected = forgetting_prefetched_oids(
        ClientStorage.notify_connected
    )
