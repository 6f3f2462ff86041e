"""Three days of a normal life on each host: cron, an admin at work, scanners, services.

``scale`` multiplies every kind of background activity (cron runs beyond the
standard schedule become monitoring-agent jobs), so benchmarks get volume without
a single line of the story changing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator

from hunting.demo.audit import UNSET, Cred
from hunting.demo.host import Host, Sim
from hunting.demo.sessions import Exec, cron_run, ssh_logoff, ssh_logon, sudo_close, sudo_open
from hunting.demo.world import ADMIN, ADMIN_IP, ADMIN_KEY_FP, DAY, END, INVALID_USERS, SCANNER_IPS, START

CronJob = tuple[Callable[[int], bool], str, str, tuple[Exec, ...], float]

SA1 = "command -v debian-sa1 > /dev/null && debian-sa1 1 1"
HOURLY = "   cd / && run-parts --report /etc/cron.hourly"
SESSIONCLEAN = (
    "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"
)
SA1_EXECS = (
    Exec(
        ("/bin/sh", "/usr/lib/sysstat/debian-sa1", "1", "1"), "/usr/bin/dash", "/usr/lib/sysstat/debian-sa1"
    ),
    Exec(
        ("/usr/lib/sysstat/sadc", "-F", "-L", "-S", "DISK", "1", "1", "/var/log/sysstat"),
        "/usr/lib/sysstat/sadc",
    ),
)
HOURLY_EXECS = (Exec(("run-parts", "--report", "/etc/cron.hourly"), "/usr/bin/run-parts"),)

AGENT_JOBS: tuple[tuple[str, str, tuple[Exec, ...]], ...] = (
    ("root", "/usr/local/bin/healthcheck.sh >/dev/null 2>&1",
     (Exec(("/bin/bash", "/usr/local/bin/healthcheck.sh"), "/usr/bin/bash", "/usr/local/bin/healthcheck.sh"),
      Exec(("curl", "-fsS", "-m", "5", "http://127.0.0.1/healthz"), "/usr/bin/curl"))),
    ("root", "/usr/bin/flock -n /run/push-metrics.lock /usr/local/bin/push-metrics",
     (Exec(("/usr/bin/flock", "-n", "/run/push-metrics.lock", "/usr/local/bin/push-metrics"), "/usr/bin/flock"),
      Exec(("/usr/local/bin/push-metrics",), "/usr/local/bin/push-metrics", static=True))),
    ("root", "test -x /usr/sbin/logcheck && nice -n 10 /usr/sbin/logcheck -q", ()),
)  # fmt: skip


def _jobs(host: Host) -> list[CronJob]:
    jobs: list[CronJob] = [
        (lambda m: m % 60 in (5, 15, 25, 35, 45, 55), "root", SA1, SA1_EXECS, 1.2),
        (lambda m: m % 60 == 17, "root", HOURLY, HOURLY_EXECS, 0.3),
    ]
    if host.name == "web01":
        php = Exec(("php", "artisan", "schedule:run"), "/usr/bin/php8.1", "/usr/bin/php")
        jobs += [
            (lambda m: m % 60 in (9, 39), "root", SESSIONCLEAN, (), 0.05),
            (lambda m: m % 5 == 0, "www-data", "cd /var/www/app && php artisan schedule:run >> /dev/null 2>&1",
             (php,), 0.9),
        ]  # fmt: skip
    elif host.name == "db01":
        check = Exec(
            ("/bin/bash", "/usr/local/bin/pg_check.sh"), "/usr/bin/bash", "/usr/local/bin/pg_check.sh"
        )
        psql = Exec(("psql", "-qAtc", "select pg_is_in_recovery()"), "/usr/lib/postgresql/15/bin/psql",
                    "/usr/bin/psql")  # fmt: skip
        jobs += [
            (lambda m: m % 10 == 2, "postgres", "/usr/local/bin/pg_check.sh", (check, psql), 0.4),
            (lambda m: m % 1440 == 150, "postgres",
             r"pg_dumpall | gzip > /var/backups/pg/all-$(date +\%F).sql.gz",
             (Exec(("pg_dumpall",), "/usr/lib/postgresql/15/bin/pg_dumpall", "/usr/bin/pg_dumpall"),
              Exec(("gzip",), "/usr/bin/gzip")), 41.0),
        ]  # fmt: skip
    return jobs


def schedule_cron(sim: Sim, host: Host, scale: float, rng: random.Random) -> int:
    """Standard crontab runs (kept with probability ``scale`` below 1) plus agent jobs above 1."""
    jobs = _jobs(host)
    first = int(START // 60) + 1
    last = int(END // 60)
    runs = 0
    for minute in range(first, last):
        base = minute * 60.0
        offset = 0.04
        for due, user, cmd, execs, dur in jobs:
            if due(minute) and (scale >= 1 or rng.random() < scale):
                sim.spawn(
                    base + offset, _cron_story(sim, host, user, cmd, execs, dur * (0.8 + 0.4 * rng.random()))
                )
                offset += 0.006
                runs += 1
    if scale > 1:
        extra = round(runs * (scale - 1))
        for _ in range(extra):
            minute = rng.randrange(first, last)
            user, cmd, execs = AGENT_JOBS[rng.randrange(len(AGENT_JOBS))]
            sim.spawn(minute * 60.0 + 0.3 + rng.random() * 0.5, _cron_story(sim, host, user, cmd, execs, 0.5))
    return runs


def _cron_story(
    sim: Sim, host: Host, user: str, cmd: str, execs: tuple[Exec, ...], dur: float
) -> Generator[float, None, None]:
    yield from cron_run(sim, host, user, cmd, execs, dur)


ADMIN_TASKS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("apt", "update"), "/usr/bin/apt update", "/usr/bin/apt"),
    (("systemctl", "status", "nginx"), "/usr/bin/systemctl status nginx", "/usr/bin/systemctl"),
    (("tail", "-n", "100", "/var/log/nginx/error.log"), "/usr/bin/tail -n 100 /var/log/nginx/error.log",
     "/usr/bin/tail"),
    (("journalctl", "-u", "php8.1-fpm", "--since", "today"), "/usr/bin/journalctl -u php8.1-fpm --since today",
     "/usr/bin/journalctl"),
    (("apt", "list", "--upgradable"), "/usr/bin/apt list --upgradable", "/usr/bin/apt"),
    (("du", "-sh", "/var/log"), "/usr/bin/du -sh /var/log", "/usr/bin/du"),
)  # fmt: skip
USER_CMDS: tuple[tuple[str, ...], ...] = (
    ("ls", "--color=auto", "-la"), ("df", "-h"), ("uptime",), ("free", "-m"), ("git", "status"), ("w",),
)  # fmt: skip


def admin_story(sim: Sim, host: Host, rng: random.Random) -> Generator[float, None, None]:
    """alice logs in with her key from the VPN, looks around, runs a few things with sudo."""
    port = rng.randrange(49152, 65535)
    s = ssh_logon(sim, host, ADMIN, ADMIN_IP, port, "publickey", "pts0", ADMIN_KEY_FP)
    yield sim.now + 3 + rng.random() * 20
    for _ in range(rng.randrange(1, 4)):
        argv = USER_CMDS[rng.randrange(len(USER_CMDS))]
        pid = host.pids.alloc(sim.now)
        Exec(argv, f"/usr/bin/{argv[0]}").run(host, sim.now, pid, s.shell, s.cred, f"/home/{ADMIN}")
        yield sim.now + 5 + rng.random() * 60
    for i in range(rng.randrange(1, 3)):
        argv, command, exe = ADMIN_TASKS[rng.randrange(len(ADMIN_TASKS))]
        ts = sim.now
        spid = sudo_open(host, ts, s, s.shell, f"/home/{ADMIN}", argv, command, password=i == 0)
        child = host.pids.alloc(ts + 2.6)
        Exec(argv, exe).run(
            host, ts + 2.6, child, spid, Cred(s.cred.auid, 0, 0, s.ses, s.tty), f"/home/{ADMIN}"
        )
        if argv[:2] == ("apt", "update"):
            for j in range(2):  # one http method process per mirror (archive, security)
                m = host.pids.alloc(ts + 3 + j * 0.01)
                Exec(("/usr/lib/apt/methods/http",), "/usr/lib/apt/methods/http").run(
                    host, ts + 3 + j * 0.01, m, child, Cred(s.cred.auid, 100, 65534, s.ses, s.tty), "/"
                )
        yield ts + 4 + rng.random() * 25
        sudo_close(host, sim.now, s, spid)
        yield sim.now + 10 + rng.random() * 200
    ssh_logoff(sim, host, s)


def scanner_story(sim: Sim, host: Host, rng: random.Random) -> Generator[float, None, None]:
    """An internet scanner: banner grabs, invalid users, a few root password guesses."""
    ip = SCANNER_IPS[rng.randrange(len(SCANNER_IPS))]
    kind = rng.random()
    ts = sim.now
    port = rng.randrange(1024, 65535)
    pid = host.pids.alloc(ts)
    root = Cred(UNSET, 0, 0, UNSET)
    Exec(("/usr/sbin/sshd", "-D", "-R"), "/usr/sbin/sshd").run(host, ts, pid, host.daemons["sshd"], root, "/")
    a = host.audit
    if kind < 0.3:
        host.log(ts + 0.2, "auth", "info", "sshd", pid, f"Connection closed by {ip} port {port} [preauth]")
        return
    if kind < 0.4:
        host.log(
            ts + 0.1,
            "auth",
            "err",
            "sshd",
            pid,
            "error: kex_exchange_identification: Connection closed by remote host",
        )
        host.log(ts + 0.1, "auth", "info", "sshd", pid, f"Connection closed by {ip} port {port}")
        return
    if kind < 0.5:
        host.log(ts + 0.3, "auth", "info", "sshd", pid,
                 f"Unable to negotiate with {ip} port {port}: no matching key exchange method found. Their offer: "
                 "diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1 [preauth]")  # fmt: skip
        return
    host.pids.alloc(ts + 0.01)  # pre-auth child
    t = ts + 1.5 + rng.random() * 2
    if kind < 0.85:
        user = INVALID_USERS[rng.randrange(len(INVALID_USERS))]
        host.log(t, "auth", "info", "sshd", pid, f"Invalid user {user} from {ip} port {port}")
        yield t + 0.05
        t = sim.now
        host.log(t, "authpriv", "notice", "sshd", pid, "pam_unix(sshd:auth): check pass; user unknown")
        host.log(t, "authpriv", "notice", "sshd", pid,
                 f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}")  # fmt: skip
        t += 2.0 + rng.random()
        if a is not None:
            a.pam(t, "USER_AUTH", pid, UNSET, UNSET, "authentication", "?", "?", "/usr/sbin/sshd",
                  hostname=ip, addr=ip, terminal="ssh", res="failed")  # fmt: skip
        host.log(
            t,
            "auth",
            "info",
            "sshd",
            pid,
            f"Failed password for invalid user {user} from {ip} port {port} ssh2",
        )
        yield t + 0.3
        t = sim.now
        host.log(
            t, "auth", "info", "sshd", pid, f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]"
        )
        host.log(
            t,
            "auth",
            "info",
            "sshd",
            pid,
            f"Disconnected from invalid user {user} {ip} port {port} [preauth]",
        )
        if a is not None:
            a.user_msg(t, "USER_LOGIN", pid, 0, UNSET, UNSET,
                       f'op=login acct="{user}" exe="/usr/sbin/sshd" hostname=? addr={ip} terminal=ssh res=failed')  # fmt: skip
        return
    host.log(t, "authpriv", "notice", "sshd", pid,
             f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user=root")  # fmt: skip
    t += 2.0
    if a is not None:
        a.pam(t, "USER_AUTH", pid, UNSET, UNSET, "authentication", "?", "root", "/usr/sbin/sshd",
              hostname=ip, addr=ip, terminal="ssh", res="failed")  # fmt: skip
    host.log(t, "auth", "info", "sshd", pid, f"Failed password for root from {ip} port {port} ssh2")
    yield t + 0.5
    host.log(
        sim.now,
        "auth",
        "info",
        "sshd",
        pid,
        f"Connection closed by authenticating user root {ip} port {port} [preauth]",
    )


# Service lines for the syslog file: (weight, facility, severity, app, daemon pid key or None, template).
NOISE: dict[str, tuple[tuple[float, str, str, str, str | None, str], ...]] = {
    "web01": (
        (40, "kern", "warning", "kernel", None,
         "[UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a:b4:51:7c:12:34:56:78:9a:bc:08:00 SRC={ip} DST=10.0.1.10 LEN=44 "
         "TOS=0x00 PREC=0x00 TTL=243 ID={id} PROTO=TCP SPT={sport} DPT={dport} WINDOW=1024 RES=0x00 SYN URGP=0"),
        (10, "daemon", "info", "systemd-resolved", "systemd-resolved",
         "Using degraded feature set UDP instead of UDP+EDNS0 for DNS server 168.63.129.16."),
        (6, "daemon", "warning", "php-fpm8.1", "php-fpm8.1",
         "[WARNING] [pool www] server reached pm.max_children setting (5), consider raising it"),
        (2, "daemon", "err", "php-fpm8.1", "php-fpm8.1",
         "[ERROR] [pool www] child {id} exited on signal 11 (SIGSEGV) after 41.287513 seconds from start"),
        (5, "daemon", "info", "systemd-timesyncd", "systemd-timesyncd",
         "Timed out waiting for reply from 185.125.190.57:123 (ntp.ubuntu.com)."),
        (3, "daemon", "info", "snapd", "snapd",
         "storehelpers.go:769: cannot refresh: snap has no updates available: \"core20\", \"lxd\", \"snapd\""),
        (6, "daemon", "info", "systemd", "systemd", "Starting Cleanup of Temporary Directories..."),
        (6, "daemon", "info", "systemd", "systemd", "systemd-tmpfiles-clean.service: Deactivated successfully."),
        (3, "daemon", "warning", "systemd-networkd", "systemd-networkd", "eth0: Could not set DHCPv4 address: Connection timed out"),
        (2, "kern", "info", "kernel", None, "hv_balloon: Balloon request will be partially fulfilled. Balloon floor reached."),
    ),
    "db01": (
        (20, "daemon", "info", "systemd", "systemd", "Starting sysstat-collect.service - system activity accounting tool..."),
        (20, "daemon", "info", "systemd", "systemd", "sysstat-collect.service: Deactivated successfully."),
        (6, "daemon", "warning", "systemd-timesyncd", "systemd-timesyncd",
         "Timed out waiting for reply from 151.101.2.132:123 (2.debian.pool.ntp.org)."),
        (2, "daemon", "err", "postgres", "postgres",
         "[{id}] LOG:  could not receive data from client: Connection reset by peer"),
        (1, "kern", "err", "kernel", None, "audit: audit_backlog={id} > audit_backlog_limit=8192"),
    ),
    "app02": (
        (10, "kern", "warning", "kernel", None,
         "[UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a:b4:52:11:12:34:56:78:9a:bc:08:00 SRC={ip} DST=10.0.1.11 LEN=40 "
         "TOS=0x00 PREC=0x00 TTL=240 ID={id} PROTO=TCP SPT={sport} DPT={dport} WINDOW=65535 RES=0x00 SYN URGP=0"),
        (3, "daemon", "info", "systemd", "systemd", "Starting Cleanup of Temporary Directories..."),
        (1, "daemon", "warning", "snapd", "snapd", "stateengine.go:149: state ensure error: cannot query the store"),
    ),
}  # fmt: skip
NOISE_PER_DAY = {"web01": 2900.0, "db01": 700.0, "app02": 220.0}
SCANS_PER_DAY = {"web01": 260.0, "app02": 90.0, "db01": 0.0}
ADMIN_PER_DAY = {"web01": 3.0, "db01": 1.5, "app02": 0.5}
BOOT = {"web01": START - 9.3 * DAY, "db01": START - 31.1 * DAY, "app02": START - 2.2 * DAY}


def add_noise(host: Host, scale: float, rng: random.Random) -> None:
    """Service chatter straight into the line list: no pids or audit to keep consistent."""
    table = NOISE[host.name]
    weights = [w for w, *_ in table]
    n = int(NOISE_PER_DAY[host.name] * 3 * scale)
    picks = rng.choices(range(len(table)), weights=weights, k=n)
    span = END - START
    boot = BOOT[host.name]
    for k in picks:
        _, fac, sev, app, daemon, tmpl = table[k]
        ts = START + rng.random() * span
        msg = tmpl
        if "{" in tmpl:
            msg = tmpl.format(
                ip=SCANNER_IPS[rng.randrange(len(SCANNER_IPS))], id=rng.randrange(1, 65535),
                sport=rng.randrange(1024, 65535), dport=(23, 445, 3389, 8080, 5900, 6379)[rng.randrange(6)],
            )  # fmt: skip
        if app == "kernel":
            msg = f"[{ts - boot:12.6f}] {msg}"
        host.log(ts, fac, sev, app, host.daemons.get(daemon) if daemon else None, msg)
    for day in range(4):
        t = math.floor(START / DAY) * DAY + day * DAY
        if START <= t + 6 * 3600 < END:
            _daily(host, t)


def _daily(host: Host, midnight: float) -> None:
    """logrotate at midnight (rsyslog HUP) and the apt timers in the morning."""
    sysd = host.daemons["systemd"]
    rs = host.daemons["rsyslogd"]
    host.log(midnight + 1.2, "daemon", "info", "systemd", sysd, "Starting Rotate log files...")
    host.log(midnight + 1.9, "syslog", "info", "rsyslogd", None,
             f'[origin software="rsyslogd" swVersion="8.2112.0" x-pid="{rs}" x-info="https://www.rsyslog.com"] '
             "rsyslogd was HUPed")  # fmt: skip
    host.log(
        midnight + 2.0, "daemon", "info", "systemd", sysd, "logrotate.service: Deactivated successfully."
    )
    host.log(midnight + 2.0, "daemon", "info", "systemd", sysd, "Finished Rotate log files.")
    t = midnight + 6 * 3600 + 14 * 60 + 3.5
    host.log(t, "daemon", "info", "systemd", sysd, "Starting Daily apt upgrade and clean activities...")
    host.log(
        t + 48.1, "daemon", "info", "systemd", sysd, "apt-daily-upgrade.service: Deactivated successfully."
    )
    host.log(t + 48.1, "daemon", "info", "systemd", sysd, "Finished Daily apt upgrade and clean activities.")


def schedule_background(sim: Sim, host: Host, scale: float, seed: int) -> None:
    rng = random.Random(f"{seed}:{host.name}:background")
    schedule_cron(sim, host, scale, rng)
    span = END - START
    for _ in range(_count(SCANS_PER_DAY[host.name] * 3 * scale, rng)):
        sim.spawn(START + rng.random() * (span - 60), scanner_story(sim, host, random.Random(rng.random())))
    for _ in range(_count(ADMIN_PER_DAY[host.name] * 3 * scale, rng)):
        day = rng.randrange(3)
        t = math.floor(START / DAY) * DAY + (day + 1) * DAY + 8 * 3600 + rng.random() * 9 * 3600
        if t < END - 3600:
            sim.spawn(t, admin_story(sim, host, random.Random(rng.random())))
    add_noise(host, scale, rng)


def _count(expected: float, rng: random.Random) -> int:
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)
