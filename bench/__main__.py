"""make bench: the tick against an empty view, the naive tick, and the bytes
a run appends, on real Plone sites in a real FileStorage.

Every figure is a ratio of two things measured side by side, alternating,
in this run; each is the median over repeated rounds. Writes
bench/results.json and prints the table.
"""

from AccessControl.SecurityManagement import newSecurityManager
from AccessControl.SecurityManagement import noSecurityManager
from bench import naive
from bench import schedule as schedule_bench
from bench import views
from collective.crontab import engine
from collective.crontab import jobs as registry_jobs
from collective.crontab.controlpanel.views import JOBS_PER_PAGE
from collective.crontab.engine import tick
from collective.crontab.instance import _create_site_in_zconsole
from collective.crontab.instance import create_site
from collective.crontab.instance import write_instance
from collective.crontab.schedule import utcnow
from collective.crontab.state import get_crontab
from collective.crontab.state import HEARTBEAT_INTERVAL
from collective.crontab.status import Status
from contextlib import contextmanager
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from statistics import mean
from statistics import median
from Testing.makerequest import makerequest
from zope.component.hooks import setSite
from zope.globalrequest import setRequest

import base64
import cProfile
import json
import os
import platform
import sys
import tempfile
import time
import transaction


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
NAIVE_ROUNDS = int(os.environ.get("BENCH_NAIVE_ROUNDS", "5"))
#: Runs of each job for the bytes per run (a bucket splits every 8th).
BYTES_RUNS = 32
#: A path prefix: cProfile the idle ticks and empty views into PREFIX-*.prof.
PROFILE = os.environ.get("BENCH_PROFILE")
RESULTS = Path(__file__).parent / "results.json"
PANEL = "@@crontab-controlpanel"
TARGETS = {
    "idle_tick_ratio_1000": ("<=", 1.5),
    "idle_tick_ratio_10000": ("<=", 3),
    "naive_speedup_10000": (">=", 50),
    "idle_tick_bytes": ("<=", 0),
    "bytes_per_run_ratio": ("<=", 1.5),
    "bytes_per_run": ("<=", 4096),
    "panel_ratio": ("<=", 5),
    "next_after_vs_cronsim": ("<=", 3),
    "next_after_vs_cronsim_dst": ("<=", 3),
    "first_tick_seconds_10000": ("<=", 0.5),
    "lanes_on_time": (">=", 3),
}
#: The lanes figure runs a real clock thread on a time scale: one minute of
#: the schedules is LANES_MINUTE real seconds (the clock's period).
LANES_MINUTE = 2.0
LANES_LONG = 3  # minutes the long job takes
LANES_ON_TIME = 10  # seconds (of the schedules) after its slot: on time


def succeeded(summary):
    """Refuse to measure runs that failed (a failure costs other bytes)."""
    failed = [entry for entry in summary["ran"] if entry["status"] != Status.SUCCESS]
    if failed:
        raise RuntimeError(f"runs failed: {failed[:3]}")


@contextmanager
def timed(owner, name):
    """Seconds spent in each call of ``owner.name`` meanwhile (a list)."""
    original = getattr(owner, name)
    seconds = []

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)

    setattr(owner, name, wrapper)
    try:
        yield seconds
    finally:
        setattr(owner, name, original)


def idle_schedules(count, now):
    """``count`` varied cron expressions none of which is due within two
    hours of ``now`` (UTC): the benchmark takes minutes."""
    hours = [h for h in range(24) if (h - now.hour) % 24 not in (0, 1, 2)]
    shapes = (
        "{m} {h} * * *",
        "{m} {h} * * 1-5",
        "{m} {h} {d} * *",
        "{m} {h},{h2} * * 0,6",
    )
    for i in range(count):
        h = hours[i % len(hours)]
        h2 = hours[(i + 7) % len(hours)]
        yield shapes[i % len(shapes)].format(m=i % 60, h=h, h2=h2, d=1 + i % 28)


class Bench:
    def __init__(self, home, password):
        from zope.configuration import xmlconfig
        from Zope2.Startup.run import make_wsgi_app

        import bench

        self.app = make_wsgi_app({}, str(home / "etc" / "zope.conf"))
        xmlconfig.file("configure.zcml", package=bench)
        self.data_fs = home / "var" / "Data.fs"
        token = base64.b64encode(b"admin:" + password.encode()).decode()
        self.authorization = "Basic " + token
        self.results = {}
        self.details = {}

    # -- publishing and sites --------------------------------------------

    def get(self, path):
        """Publish GET ``path`` through the WSGI publisher as waitress would;
        return (seconds, status code, body)."""
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "55400",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:55400",
            "HTTP_AUTHORIZATION": self.authorization,
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        status = []
        start = time.perf_counter()
        body = b"".join(
            self.app(environ, lambda s, headers, exc_info=None: status.append(s))
        )
        elapsed = time.perf_counter() - start
        return elapsed, int(status[0].split()[0]), body

    def get_many(self, path, rounds):
        for _ in range(rounds):
            self.get_ok(path)

    def get_ok(self, path):
        elapsed, status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]}")
        return elapsed, body

    @contextmanager
    def site(self, site_id):
        """The site as the admin in a fresh connection; commits on exit."""
        import Zope2

        app = makerequest(Zope2.app())
        setRequest(app.REQUEST)
        users = app.acl_users
        newSecurityManager(app.REQUEST, users.getUser("admin").__of__(users))
        site = app[site_id]
        setSite(site)
        try:
            yield site
            transaction.commit()
        finally:
            transaction.abort()
            noSecurityManager()
            setSite(None)
            setRequest(None)
            app._p_jar.close()

    def add_site(self, site_id):
        import Zope2

        app = makerequest(Zope2.app())
        try:
            _create_site_in_zconsole(app, site_id, False)
        finally:
            transaction.abort()
            app._p_jar.close()

    def add_jobs(self, site_id, schedules):
        with self.site(site_id):
            for i, schedule in enumerate(schedules):
                job_id = f"job-{i:05d}"
                values = {
                    "title": f"Job {i}",
                    "runner": "bench.noop",
                    "schedule": schedule,
                    "timezone": "UTC",
                    "owner": "/admin",  # the Zope root's user folder
                }
                registry_jobs.write_job(job_id, registry_jobs.validate(job_id, values))
                if i % 1000 == 999:
                    transaction.commit()

    def size(self):
        return self.data_fs.stat().st_size

    def paired(self, first, second, rounds):
        """Publish ``first`` and ``second`` alternately; return the median
        of second/first per round and the median times (ms)."""
        times = ([], [])
        for round_ in range(rounds):
            order = (
                ((0, first), (1, second)) if round_ % 2 else ((1, second), (0, first))
            )
            for index, path in order:
                times[index].append(self.get_ok(path)[0])
        ratios = [b / a for a, b in zip(*times, strict=False)]
        return median(ratios), median(times[0]) * 1000, median(times[1]) * 1000

    # -- the figures -----------------------------------------------------

    def run(self):
        now = utcnow()
        step = self.step
        step("sites")
        for site_id in ("s1k", "s10k", "runs", "due"):
            self.add_site(site_id)
        step("jobs: 10, 1,000, 10,000 idle; 2 for the log; 100 due")
        self.add_jobs("s10", idle_schedules(10, now))
        self.add_jobs("s1k", idle_schedules(1000, now))
        self.add_jobs("s10k", idle_schedules(10000, now))
        self.add_jobs("due", ["* * * * *"] * 100)
        step("first tick of each site (arms every job)")
        for site_id in ("s10", "s1k", "s10k"):
            with (
                timed(engine, "_JobsCache") as reading,
                timed(engine, "_arm_new") as arming,
            ):
                elapsed, _body = self.get_ok(f"/{site_id}/@@crontab-tick")
            self.details[f"first_tick_seconds_{site_id}"] = {
                "tick": round(elapsed, 2),
                "reading and parsing the jobs": round(sum(reading), 2),
                "arming them": round(sum(arming), 2),
            }
            if site_id == "s10k":
                self.results["first_tick_seconds_10000"] = round(elapsed, 2)
            with self.site(site_id) as site:
                naive.arm(site, utcnow())
        self.idle()
        self.naive()
        self.idle_bytes()
        self.bytes_per_run()
        self.due()
        self.panel()
        self.next_after()
        self.lanes()
        return self.results

    def next_after(self):
        self.step("next_after vs cronsim, steady and across DST changes")
        steady, edges, details = schedule_bench.figures()
        self.results["next_after_vs_cronsim"] = steady
        self.results["next_after_vs_cronsim_dst"] = edges
        self.details["next_after_vs_cronsim"] = details

    def step(self, text):
        print(f"{time.perf_counter() - STARTED:7.1f}s  {text}", flush=True)

    def idle(self):
        for site_id, key in (
            ("s1k", "idle_tick_ratio_1000"),
            ("s10k", "idle_tick_ratio_10000"),
        ):
            self.step(f"idle tick vs empty view, {site_id}, {ROUNDS} rounds")
            tick_path = f"/{site_id}/@@crontab-tick"
            empty_path = f"/{site_id}/@@crontab-bench-empty"
            for _ in range(3):
                self.get_ok(tick_path)
                self.get_ok(empty_path)
            ratio, empty_ms, tick_ms = self.paired(empty_path, tick_path, ROUNDS)
            self.results[key] = round(ratio, 2)
            self.details[f"{key}_ms"] = {
                "empty view": round(empty_ms, 2),
                "tick": round(tick_ms, 2),
            }
            if PROFILE:
                for name, path in (("tick", tick_path), ("empty", empty_path)):
                    profile = cProfile.Profile()
                    profile.runcall(self.get_many, path, ROUNDS)
                    profile.dump_stats(f"{PROFILE}-{site_id}-{name}.prof")

    def naive(self):
        self.step(f"naive tick vs our tick, 10,000 jobs, {NAIVE_ROUNDS} rounds")
        ours = "/s10k/@@crontab-tick"
        theirs = "/s10k/@@crontab-bench-naive-tick"
        body = json.loads(self.get_ok(theirs)[1])
        if body["ran"]:
            raise RuntimeError("the naive tick ran jobs: {}".format(body["ran"][:5]))
        ratio, ours_ms, naive_ms = self.paired(ours, theirs, NAIVE_ROUNDS)
        self.results["naive_speedup_10000"] = round(ratio, 1)
        self.details["naive_speedup_10000_ms"] = {
            "tick": round(ours_ms, 2),
            "naive tick": round(naive_ms, 1),
        }

    def idle_bytes(self):
        self.step("bytes appended by idle ticks, 10,000 jobs")
        path = "/s10k/@@crontab-tick"
        self.get_ok(path)  # refreshes the heartbeat if it is due
        with self.site("s10k") as site:
            db = site._p_jar.db()
            beat = get_crontab(site).heartbeat.at
            before = db.lastTransaction()
        start = self.size()
        ticks = 20
        for _ in range(ticks):
            self.get_ok(path)
        if utcnow() - beat >= HEARTBEAT_INTERVAL:
            raise RuntimeError("the idle ticks outlasted the heartbeat interval")
        self.results["idle_tick_bytes"] = (self.size() - start) // ticks
        self.details["idle_tick_transactions"] = int(db.lastTransaction() != before)
        # The heartbeat a tick writes when the last one is 4 minutes old.
        with self.site("s10k") as site:
            get_crontab(site).heartbeat.at = utcnow() - HEARTBEAT_INTERVAL
        start = self.size()
        self.get_ok(path)
        self.details["heartbeat_bytes"] = self.size() - start

    def bytes_per_run(self):
        self.step("bytes appended per run, history of 10 vs 10,000 runs")
        self.add_jobs("runs", ["*/2 * * * *", "1-59/2 * * * *"])
        short, long_ = "job-00000", "job-00001"
        t0 = utcnow().replace(second=30, microsecond=0) + timedelta(minutes=1)
        if t0.minute % 2:
            t0 += timedelta(minutes=1)
        with self.site("runs") as site:
            registry_jobs.write_job(short, {"history": 10})
            registry_jobs.write_job(long_, {"history": 10000})
            transaction.commit()
            tick(site, t0)  # arms both jobs
            crontab = get_crontab(site)
            for job_id, count in ((short, 10), (long_, 10000)):
                state = crontab.state(job_id)
                for i in range(count):
                    started = t0 - timedelta(days=30, seconds=count - i)
                    state.append(
                        count,
                        slot=started,
                        started=started,
                        finished=started,
                        duration=0.0,
                        status=Status.SUCCESS,
                        message=f"ok {job_id}",
                        traceback="",
                        client="bench",
                    )
            transaction.commit()
            storage = site._p_jar.db().storage
            written = {short: [], long_: []}
            for k in range(1, 2 * BYTES_RUNS + 1):
                now = t0 + timedelta(minutes=k)
                # The heartbeat is written every 4 minutes whether a job runs
                # or not (heartbeat_bytes): keep it out of the run's bytes.
                crontab.heartbeat.at = now
                transaction.commit()
                before, start = storage.lastTransaction(), self.size()
                summary = tick(site, now)
                (ran,) = summary["ran"]
                succeeded(summary)
                objects = sum(
                    len(list(txn))
                    for txn in storage.iterator(before)
                    if txn.tid != before
                )
                written[ran["job"]].append((self.size() - start, objects))
            counts = {
                job_id: len(get_crontab(site).state(job_id).runs) for job_id in written
            }
            if counts != {short: 10, long_: 10000}:
                raise RuntimeError(
                    f"the histories did not stay at their limits: {counts}"
                )
        # Means, not medians: the runs that split a bucket are part of the cost.
        short_bytes = mean(size for size, _ in written[short])
        long_bytes = mean(size for size, _ in written[long_])
        self.results["bytes_per_run_ratio"] = round(long_bytes / short_bytes, 3)
        self.results["bytes_per_run"] = round(long_bytes)
        self.details["bytes_per_run_10"] = round(short_bytes)
        for job_id, count in ((short, 10), (long_, 10000)):
            objects = [number for _, number in written[job_id]]
            self.details[f"objects_per_run_{count}"] = {
                "mean": round(mean(objects), 1),
                "max": max(objects),
            }
        self.naive_bytes_per_run(t0 + timedelta(minutes=2 * BYTES_RUNS + 2))

    def naive_bytes_per_run(self, now):
        sizes = {}
        for count in (10, 10000):
            with self.site("runs") as site:
                data = naive.log(site)
                data["runs"][:] = [
                    {
                        "job": "job-00000",
                        "slot": at,
                        "started": at,
                        "finished": at,
                        "status": Status.SUCCESS,
                        "message": "ok job-00000",
                    }
                    for at in (now - timedelta(minutes=i) for i in range(count, 0, -1))
                ]
                naive.arm(site, now - timedelta(minutes=1))
            now += timedelta(minutes=2)
            with self.site("runs") as site:
                start = self.size()
                naive.tick(site, now)
                transaction.commit()
                sizes[count] = self.size() - start
        self.details["naive_bytes_per_run_10"] = sizes[10]
        self.details["naive_bytes_per_run_10000"] = sizes[10000]

    def due(self):
        self.step(f"tick with 100 jobs due, {ROUNDS} rounds")
        t0 = utcnow().replace(second=30, microsecond=0)
        with self.site("due") as site:
            tick(site, t0)  # arms the jobs
        per_job, ratios = [], []
        for k in range(1, ROUNDS + 1):
            empty = self.get_ok("/due/@@crontab-bench-empty")[0]
            with self.site("due") as site:
                views.noop.elapsed = 0.0
                start = time.perf_counter()
                summary = tick(site, t0 + timedelta(minutes=k))
                elapsed = time.perf_counter() - start
            if len(summary["ran"]) != 100:
                raise RuntimeError(f"expected 100 runs, got {len(summary['ran'])}")
            succeeded(summary)
            overhead = (elapsed - views.noop.elapsed) / 100
            per_job.append(overhead)
            ratios.append(overhead / empty)
        self.results["per_job_overhead_100_due"] = round(median(per_job) * 1000, 2)
        self.details["per_job_overhead_100_due_vs_empty_view"] = round(
            median(ratios), 2
        )

    def panel(self):
        status = self.get("/s10/" + PANEL)[1]
        if status != 200:
            self.results["panel_ratio"] = None
            self.details["panel_ratio_reason"] = (
                f"{PANEL} answered {status}: the control panel is not in this build"
            )
            return
        self.step("control panel, 1,000 jobs + 100,000 runs vs 10 jobs")
        started = utcnow() - timedelta(days=1)
        with self.site("s1k") as site:
            crontab = get_crontab(site)
            for number, job_id in enumerate(sorted(registry_jobs.job_ids())):
                state = crontab.state(job_id, create=True)
                for i in range(100):
                    at = started - timedelta(minutes=i)
                    state.append(
                        100,
                        slot=at,
                        started=at,
                        finished=at,
                        duration=0.1,
                        status=Status.SUCCESS if i % 7 else Status.FAILURE,
                        message=f"ok {job_id}",
                        traceback="",
                        client="bench",
                    )
                if number % 100 == 99:
                    transaction.commit()
        small, big = "/s10/" + PANEL, "/s1k/" + PANEL
        for path, rows in ((small, 10), (big, JOBS_PER_PAGE)):
            listed = self.get_ok(path)[1].count(b'<tr class="crontab-job')
            if listed != rows:
                raise RuntimeError(f"{path} listed {listed} jobs, not {rows}")
            self.get_ok(path)
        ratio, small_ms, big_ms = self.paired(small, big, ROUNDS)
        self.results["panel_ratio"] = round(ratio, 2)
        self.details["panel_ratio_ms"] = {
            "10 jobs": round(small_ms, 1),
            "1,000 jobs": round(big_ms, 1),
        }
        if PROFILE:
            for name, path in (("s10", small), ("s1k", big)):
                profile = cProfile.Profile()
                profile.runcall(self.get_many, path, ROUNDS)
                profile.dump_stats(f"{PROFILE}-{name}-panel.prof")

    def lanes(self):
        self.step("lanes: a minutely job during a 3-minute one, 1 and 3 workers")
        for workers in (1, 3):
            on_time, figures = self.lanes_run(workers)
            self.details[f"lanes_{workers}_workers"] = figures
        self.results["lanes_on_time"] = on_time

    def lanes_run(self, workers):
        """A clock thread (period LANES_MINUTE s) whose calls tick a site
        with a long job and a minutely one at the scaled time; returns the
        minutely job's runs on time during the long one, and the figures."""
        from collective.crontab import clock

        site_id = f"lanes{workers}"
        self.add_site(site_id)
        # The real time of the first slot, a beat: scaled time starts there.
        start = (time.time() // LANES_MINUTE + 3) * LANES_MINUTE
        first = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)

        def scaled(at=None):
            at = time.time() if at is None else at
            return first + timedelta(minutes=(at - start) / LANES_MINUTE)

        long_seconds = str(LANES_LONG * LANES_MINUTE)
        with self.site(site_id):
            for job_id, runner, schedule, arguments in (
                ("a-long", "bench.sleep", f"{first.minute} * * * *", long_seconds),
                ("b-minutely", "bench.noop", "* * * * *", None),
            ):
                values = {
                    "title": job_id,
                    "runner": runner,
                    "schedule": schedule,
                    "timezone": "UTC",
                    "owner": "/admin",  # the Zope root's user folder
                    "arguments": {"seconds": arguments} if arguments else {},
                }
                registry_jobs.write_job(job_id, registry_jobs.validate(job_id, values))
        with self.site(site_id) as site:
            tick(site, first - timedelta(seconds=30))  # arms both
        bench = self

        class ScaledClock(clock.ClockThread):
            def call_method(self):
                with bench.site(site_id) as site:
                    tick(site, scaled())

        config = clock.ClockServer(
            name=site_id, method=f"/{site_id}", period=LANES_MINUTE, workers=workers
        )
        thread = ScaledClock(config)
        hand_over, engine.current_time = clock.HAND_OVER, scaled
        clock.HAND_OVER = 5 / 60 * LANES_MINUTE
        try:
            thread.due = start
            thread.start()
            time.sleep(max(0, start + (LANES_LONG + 1.5) * LANES_MINUTE - time.time()))
            thread.stopping.set()
            thread.join()
            for call in thread.lanes:
                if call is not None:
                    call.join(60)
        finally:
            clock.HAND_OVER, engine.current_time = hand_over, utcnow
        with self.site(site_id) as site:
            state = get_crontab(site).state("b-minutely")
            runs = [run for run in state.runs.values() if Status(run.status).ran]
            (long_run,) = get_crontab(site).state("a-long").runs.values()
        failed = [run.message for run in (*runs, long_run) if Status(run.status).failed]
        if failed:
            raise RuntimeError(f"lanes: runs failed: {failed[:3]}")
        expected = [first + timedelta(minutes=m) for m in range(LANES_LONG + 1)]
        on_time = [
            run
            for run in runs
            if (run.started - run.slot).total_seconds() <= LANES_ON_TIME
            and long_run.started <= run.slot <= long_run.finished
        ]
        figures = {
            "slots during the long run": len(expected) - 1,
            "runs": len(runs),
            "on time during the long run": len(on_time),
            "misses": len(set(expected) - {run.slot for run in runs}),
            "seconds late": [
                round((run.started - run.slot).total_seconds()) for run in runs
            ],
        }
        return len(on_time), figures


def machine(load):
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    model = model or platform.processor() or platform.machine()
    return (
        f"{model}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"Python {platform.python_version()}, load {load:.1f} at start"
    )


ROWS = (
    ("idle_tick_ratio_1000", "idle tick, 1,000 jobs ÷ empty view"),
    ("idle_tick_ratio_10000", "idle tick, 10,000 jobs ÷ empty view"),
    ("naive_speedup_10000", "naive tick ÷ our tick, 10,000 jobs"),
    ("idle_tick_bytes", "bytes appended by an idle tick"),
    ("bytes_per_run_ratio", "bytes per run, 10,000-run history ÷ 10-run"),
    ("bytes_per_run", "bytes per run (10,000-run history)"),
    ("per_job_overhead_100_due", "ms per job beyond the runner, 100 due"),
    ("panel_ratio", "panel, 1,000 jobs + 100,000 runs ÷ 10 jobs"),
    ("next_after_vs_cronsim", "next_after ÷ cronsim, worst expression"),
    ("next_after_vs_cronsim_dst", "next_after ÷ cronsim, worst across DST"),
    ("first_tick_seconds_10000", "first tick after adding 10,000 jobs, s"),
    ("lanes_on_time", "minutely runs on time during a 3-minute job"),
)


def table(results):
    lines = [f"{'figure':<46} {'measured':>10}  {'target':<8} "]
    for key, label in ROWS:
        value = results.get(key)
        op, limit = TARGETS.get(key, ("", None))
        target = f"{op} {limit}" if limit is not None else "report"
        if value is None or limit is None:
            verdict = "" if limit is None else "not measured"
        else:
            verdict = (
                "ok" if (value <= limit if op == "<=" else value >= limit) else "MISSED"
            )
        shown = "null" if value is None else str(value)
        lines.append(f"{label:<46} {shown:>10}  {target:<8} {verdict}")
    return "\n".join(lines)


STARTED = time.perf_counter()


def main():
    measured_at = utcnow()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="crontab-bench-") as tmp:
        home = write_instance(Path(tmp) / "instance", port=55400)
        print(f"Building a Plone site in {home} ...", flush=True)
        password = create_site(home, "s10")
        bench = Bench(home, password)
        results = bench.run()
        details = bench.details
    output = dict(
        results,
        measured_at=measured_at.isoformat(timespec="seconds"),
        machine=machine(load),
        rounds=ROUNDS,
        details=details,
    )
    RESULTS.write_text(json.dumps(output, indent=2) + "\n")
    print()
    print(table(results))
    print()
    for key, value in details.items():
        print(f"  {key}: {value}")
    print(
        "\nMeasured {} on {}; written to {}".format(
            output["measured_at"], output["machine"], RESULTS
        )
    )


if __name__ == "__main__":
    main()
