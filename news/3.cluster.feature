``make run-cluster``: a ZEO server, one client serving the site and one client carrying the clock.
