#!/usr/bin/env bash
# make check-buildout: build buildout.cfg from PyPI, create a Plone site,
# start bin/instance with its <clock-server>, and require that the clock's
# ticks ran the demo job ("* * * * *"): a success recorded by client
# "instance" in its history. Needs network access to PyPI (first run).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${CHECK_BUILDOUT_PORT:-55680}
WAIT=${CHECK_BUILDOUT_WAIT:-150}
CHECK=$(mktemp -d /tmp/check-buildout.XXXXXX)
BUILDOUT=.buildout/bin/buildout
PID=""

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" || true; fi
    # Back to the instance as buildout.cfg describes it.
    $BUILDOUT -N -o -q -c buildout.cfg >/dev/null 2>&1 || true
    rm -rf "$CHECK"
}
trap cleanup EXIT

$BUILDOUT -N -c buildout.cfg "instance:http-address=127.0.0.1:$PORT" "instance:var=$CHECK/var"
grep -q '<clock-server tick>' parts/instance/etc/zope.conf
bin/instance run src/collective/crontab/instance.py --zconsole-create-site Plone 1 >"$CHECK/site.log" 2>&1 \
    || { cat "$CHECK/site.log"; exit 1; }

bin/instance fg >"$CHECK/instance.log" 2>&1 &
PID=$!
for second in $(seq 1 90); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break
    kill -0 "$PID" 2>/dev/null || { cat "$CHECK/instance.log"; echo "bin/instance died"; exit 1; }
    sleep 1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/" || { cat "$CHECK/instance.log"; echo "bin/instance does not answer"; exit 1; }
echo "bin/instance answers on port $PORT after ${second}s; waiting ${WAIT}s for the clock"
sleep "$WAIT"
kill "$PID"; wait "$PID" || true; PID=""

bin/crontab-ctl -C parts/instance/etc/zope.conf history demo | tee "$CHECK/history.txt"
if grep -q ' success .* instance ' "$CHECK/history.txt"; then
    echo "check-buildout: OK, the clock ran the demo job"
else
    grep -i clock "$CHECK/instance.log" || true
    echo "check-buildout: FAILED, no run of the demo job by the clock"
    exit 1
fi
