"""The fixed cast of the demo: dates, hosts, people and addresses.

Public addresses are ones geoip2fast's bundled data places in a country, so the
map and enrichment pages have something to show offline.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hunting.demo.audit import AuditLog
from hunting.demo.host import Account, Host, Pids

END = datetime(2026, 3, 12, 18, 0, 0, tzinfo=UTC).timestamp()
START = END - 3 * 86400
DAY = 86400.0

TENANT_ID = "7f3c1d2e-5b8a-4c6f-9e0d-2a1b3c4d5e6f"
SUBSCRIPTION_ID = "4b9e8f1a-2c3d-4e5f-8a7b-6c5d4e3f2a1b"
RESOURCE_GROUP = "prod-web"
REGION = "uksouth"

ADMIN = "alice"
ADMIN_IP = "10.0.4.21"  # the admins' VPN range
ADMIN_KEY_FP = "Rk3vJ2mWq8d1Yc0pLx7TzN4sHf6aGb9eKu5iOw2jM1Q"

SCANNER_IPS = (
    "61.177.172.140", "218.92.0.112", "180.101.88.228", "141.98.11.35", "92.255.85.37",
    "194.169.175.36", "103.157.25.60", "43.156.41.12", "170.64.165.33", "89.248.165.90",
)  # fmt: skip
INVALID_USERS = (
    "admin", "test", "user", "oracle", "ubuntu", "postgres", "git", "ftpuser", "pi", "guest",
    "support", "debian", "hadoop", "minecraft", "steam", "jenkins", "ansible", "dev", "tomcat", "nagios",
)  # fmt: skip

UBUNTU_SYSTEM = (
    ("root", 0, 0, "root", "/root", "/bin/bash"),
    ("daemon", 1, 1, "daemon", "/usr/sbin", "/usr/sbin/nologin"),
    ("bin", 2, 2, "bin", "/bin", "/usr/sbin/nologin"),
    ("sys", 3, 3, "sys", "/dev", "/usr/sbin/nologin"),
    ("sync", 4, 65534, "sync", "/bin", "/bin/sync"),
    ("games", 5, 60, "games", "/usr/games", "/usr/sbin/nologin"),
    ("man", 6, 12, "man", "/var/cache/man", "/usr/sbin/nologin"),
    ("lp", 7, 7, "lp", "/var/spool/lpd", "/usr/sbin/nologin"),
    ("mail", 8, 8, "mail", "/var/mail", "/usr/sbin/nologin"),
    ("news", 9, 9, "news", "/var/spool/news", "/usr/sbin/nologin"),
    ("uucp", 10, 10, "uucp", "/var/spool/uucp", "/usr/sbin/nologin"),
    ("proxy", 13, 13, "proxy", "/bin", "/usr/sbin/nologin"),
    ("www-data", 33, 33, "www-data", "/var/www", "/usr/sbin/nologin"),
    ("backup", 34, 34, "backup", "/var/backups", "/usr/sbin/nologin"),
    ("list", 38, 38, "Mailing List Manager", "/var/list", "/usr/sbin/nologin"),
    ("irc", 39, 39, "ircd", "/run/ircd", "/usr/sbin/nologin"),
    ("gnats", 41, 41, "Gnats Bug-Reporting System (admin)", "/var/lib/gnats", "/usr/sbin/nologin"),
    ("nobody", 65534, 65534, "nobody", "/nonexistent", "/usr/sbin/nologin"),
    ("_apt", 100, 65534, "", "/nonexistent", "/usr/sbin/nologin"),
    ("systemd-network", 101, 102, "systemd Network Management,,,", "/run/systemd", "/usr/sbin/nologin"),
    ("systemd-resolve", 102, 103, "systemd Resolver,,,", "/run/systemd", "/usr/sbin/nologin"),
    ("messagebus", 103, 104, "", "/nonexistent", "/usr/sbin/nologin"),
    ("systemd-timesync", 104, 105, "systemd Time Synchronization,,,", "/run/systemd", "/usr/sbin/nologin"),
    ("syslog", 105, 111, "", "/home/syslog", "/usr/sbin/nologin"),
    ("uuidd", 106, 112, "", "/run/uuidd", "/usr/sbin/nologin"),
    ("tcpdump", 107, 113, "", "/nonexistent", "/usr/sbin/nologin"),
    ("sshd", 108, 65534, "", "/run/sshd", "/usr/sbin/nologin"),
    ("landscape", 109, 116, "", "/var/lib/landscape", "/usr/sbin/nologin"),
    ("pollinate", 110, 1, "", "/var/cache/pollinate", "/bin/false"),
    ("usbmux", 111, 46, "usbmux daemon,,,", "/var/lib/usbmux", "/usr/sbin/nologin"),
    ("fwupd-refresh", 112, 118, "fwupd-refresh user,,,", "/run/systemd", "/usr/sbin/nologin"),
    ("lxd", 999, 100, "", "/var/snap/lxd/common/lxd", "/bin/false"),
)  # fmt: skip

USERS = (
    ("alice", 1000, 1000, "Alice Martin,,,", "/home/alice", "/bin/bash"),
    ("deploy", 1001, 1001, "deploy,,,", "/home/deploy", "/bin/bash"),
)
BACKDOOR_USER = ("backup2", 1002, 1002, "", "/home/backup2", "/bin/bash")
POSTGRES = ("postgres", 113, 120, "PostgreSQL administrator,,,", "/var/lib/postgresql", "/bin/bash")


def passwd_text(rows: tuple[tuple[str, int, int, str, str, str], ...]) -> str:
    return "".join(f"{n}:x:{u}:{g}:{c}:{h}:{s}\n" for n, u, g, c, h, s in rows)


def _accounts(rows: tuple[tuple[str, int, int, str, str, str], ...]) -> dict[str, Account]:
    return {n: Account(n, u, g, h, s, c) for n, u, g, c, h, s in rows}


def make_hosts(seed: int) -> dict[str, Host]:
    """web01 (Ubuntu 22.04, internet-facing), db01 (Debian 12, internal), app02 (renamed)."""

    def rng(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    web_rows = (*UBUNTU_SYSTEM, *USERS, BACKDOOR_USER)
    web_daemons = {
        "systemd": 1, "systemd-journald": 389, "systemd-networkd": 520, "systemd-resolved": 522,
        "systemd-timesyncd": 530, "auditd": 561, "rsyslogd": 598, "systemd-logind": 612, "cron": 640,
        "snapd": 650, "sshd": 812, "php-fpm8.1": 877, "nginx": 902, "unattended-upgr": 915,
    }  # fmt: skip
    web_names = {u: n for n, u, *_ in web_rows}
    web_rng = rng("web01")
    web = Host(
        name="web01",
        os_name="Ubuntu 22.04",
        private_ip="10.0.1.10",
        public_ip="20.108.35.14",
        rng=web_rng,
        # A busy PHP host: threads churn through pids fast enough to wrap pid_max once.
        pids=Pids(3_200_117, 4_194_304, 19.0, START, web_daemons.values(), rng("web01:pids")),
        audit=AuditLog(web_names, random.Random(f"{seed}:web01:audit"), enriched=False),
        accounts=_accounts(web_rows),
        daemons=web_daemons,
        next_ses=4812,
    )
    db_rows = (*UBUNTU_SYSTEM[:18], ("_apt", 42, 65534, "", "/nonexistent", "/usr/sbin/nologin"),
               ("systemd-network", 998, 998, "systemd Network Management", "/", "/usr/sbin/nologin"),
               ("sshd", 100, 65534, "", "/run/sshd", "/usr/sbin/nologin"),
               ("alice", 1000, 1000, "Alice Martin,,,", "/home/alice", "/bin/bash"), POSTGRES)  # fmt: skip
    db_daemons = {
        "systemd": 1, "systemd-journald": 301, "auditd": 498, "rsyslogd": 533, "systemd-logind": 541,
        "cron": 547, "sshd": 602, "postgres": 688, "systemd-timesyncd": 455,
    }  # fmt: skip
    db = Host(
        name="db01",
        os_name="Debian 12",
        private_ip="10.0.2.20",
        public_ip="20.108.35.90",
        rng=rng("db01"),
        pids=Pids(412_880, 4_194_304, 2.0, START, db_daemons.values(), rng("db01:pids")),
        audit=AuditLog(
            {u: n for n, u, *_ in db_rows},
            random.Random(f"{seed}:db01:audit"),
            enriched=True,
            groups={0: "root", 33: "www-data", 120: "postgres", 1000: "alice"},
        ),
        accounts=_accounts(db_rows),
        daemons=db_daemons,
        next_ses=1207,
    )
    app_daemons = {
        "systemd": 1,
        "rsyslogd": 601,
        "systemd-logind": 615,
        "cron": 633,
        "sshd": 790,
        "snapd": 644,
    }
    app = Host(
        name="app02",
        os_name="Ubuntu 22.04",
        private_ip="10.0.1.11",
        public_ip="20.108.35.41",
        rng=rng("app02"),
        pids=Pids(98_311, 4_194_304, 1.5, START, app_daemons.values(), rng("app02:pids")),
        audit=None,
        accounts=_accounts((*UBUNTU_SYSTEM, USERS[0])),
        daemons=app_daemons,
        next_ses=331,
        # Provisioned as "APP02"; someone ran `hostnamectl set-hostname app02` on day 2.
        names_over_time=[(START, "APP02"), (START + 1.6 * DAY, "app02")],
    )
    return {"web01": web, "db01": db, "app02": app}


WEB_PASSWD = passwd_text((*UBUNTU_SYSTEM, *USERS, BACKDOOR_USER))
