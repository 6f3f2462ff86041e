"""Building blocks shared by benign and malicious stories: cron runs, SSH logons, sudo.

Each writes what Ubuntu 22.04 / Debian 12 write for the same action: auth.log and
syslog lines (OpenSSH 8.9, Linux-PAM 1.4, sudo 1.9, cron 3.0) and the matching
auditd events with consistent pid, ppid, auid and session ids.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from hunting.demo.audit import UNSET, Cred, field_value
from hunting.demo.host import Host, Sim

SSHD_SESSION_GRANTORS = (
    "pam_selinux,pam_loginuid,pam_keyinit,pam_permit,pam_umask,pam_unix,pam_systemd,pam_mail,"
    "pam_limits,pam_env,pam_env,pam_selinux"
)
CRON_SESSION_GRANTORS = "pam_loginuid,pam_env,pam_env,pam_permit,pam_umask,pam_unix,pam_limits"

Step = Generator[float, None, None]


@dataclass(frozen=True)
class Exec:
    """One program a story runs: argv, the resolved binary, the path given to execve."""

    argv: tuple[str, ...]
    exe: str
    path: str = ""
    static: bool = False
    owner: int = 0

    def run(self, host: Host, ts: float, pid: int, ppid: int, cred: Cred, cwd: str) -> None:
        if host.audit is not None:
            host.audit.execve(
                ts,
                pid,
                ppid,
                list(self.argv),
                self.exe,
                cred,
                cwd,
                path=self.path or self.exe,
                static=self.static,
                owner=self.owner,
            )


def sh_c(command: str) -> Exec:
    return Exec(("/bin/sh", "-c", command), "/usr/bin/dash", "/bin/sh")


def cron_run(
    sim: Sim, host: Host, user: str, command: str, children: tuple[Exec, ...], duration: float
) -> Generator[float, None, dict[str, int]]:
    """cron forks a child that opens a PAM session, runs ``sh -c CMD`` and closes it."""
    ts = sim.now
    acct = host.accounts[user]
    cron_pid = host.daemons["cron"]
    child = host.pids.alloc(ts)
    ses = host.new_session()
    a = host.audit
    if a is not None:
        a.pam(
            ts,
            "USER_ACCT",
            child,
            UNSET,
            UNSET,
            "accounting",
            "pam_permit",
            user,
            "/usr/sbin/cron",
            terminal="cron",
        )
        a.pam(
            ts,
            "CRED_ACQ",
            child,
            UNSET,
            UNSET,
            "setcred",
            "pam_permit,pam_cap",
            user,
            "/usr/sbin/cron",
            terminal="cron",
        )
        a.login(ts, child, acct.uid, ses)
        a.pam(ts, "USER_START", child, acct.uid, ses, "session_open", CRON_SESSION_GRANTORS, user,
              "/usr/sbin/cron", terminal="cron")  # fmt: skip
    host.log(ts, "authpriv", "info", "CRON", child,
             f"pam_unix(cron:session): session opened for user {user}(uid={acct.uid}) by (uid=0)")  # fmt: skip
    host.log(ts + 0.001, "cron", "info", "CRON", child, f"({user}) CMD ({command})")
    cred = Cred(acct.uid, acct.uid, acct.gid, ses)
    shell = host.pids.alloc(ts + 0.002)
    sh_c(command).run(host, ts + 0.002, shell, child, cred, acct.home)
    pids = {"cron": cron_pid, "cron_child": child, "sh": shell}
    t = ts + 0.004
    for i, ex in enumerate(children):
        pid = host.pids.alloc(t)
        ex.run(host, t, pid, shell, cred, acct.home)
        pids[f"child{i}"] = pid
        t += 0.003
    yield ts + duration
    end = sim.now
    if a is not None:
        a.pam(end, "CRED_DISP", child, acct.uid, ses, "setcred", "pam_permit,pam_cap", user, "/usr/sbin/cron",
              terminal="cron")  # fmt: skip
        a.pam(end, "USER_END", child, acct.uid, ses, "session_close", CRON_SESSION_GRANTORS, user,
              "/usr/sbin/cron", terminal="cron")  # fmt: skip
    host.log(
        end, "authpriv", "info", "CRON", child, f"pam_unix(cron:session): session closed for user {user}"
    )
    return pids


@dataclass
class Logon:
    """An open SSH session: who, from where, and the pids a process tree hangs from."""

    user: str
    ip: str
    port: int
    ses: int
    tty: str
    monitor: int  # sshd running as root for the session ("sshd: user [priv]")
    child: int  # sshd running as the user ("sshd: user@pts/N")
    shell: int
    cred: Cred


def ssh_logon(
    sim: Sim, host: Host, user: str, ip: str, port: int, method: str, tty: str, key_fp: str = ""
) -> Logon:
    """Accepted logon up to the login shell; the caller closes it with ``ssh_logoff``."""
    ts = sim.now
    acct = host.accounts[user]
    listener = host.daemons["sshd"]
    monitor = host.pids.alloc(ts)
    root = Cred(UNSET, 0, 0, UNSET)
    # OpenSSH re-executes itself for every connection (sshd -D -R).
    Exec(("/usr/sbin/sshd", "-D", "-R"), "/usr/sbin/sshd").run(host, ts, monitor, listener, root, "/")
    host.pids.alloc(ts + 0.01)  # the unprivileged pre-auth child: forked, never exec'd
    t = ts + 0.4
    a = host.audit
    if method == "password":
        if a is not None:
            a.pam(t, "USER_AUTH", monitor, UNSET, UNSET, "authentication", "pam_unix", user, "/usr/sbin/sshd",
                  hostname=ip, addr=ip, terminal="ssh")  # fmt: skip
        host.log(
            t, "auth", "info", "sshd", monitor, f"Accepted password for {user} from {ip} port {port} ssh2"
        )
    else:
        host.log(t, "auth", "info", "sshd", monitor,
                 f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{key_fp}")  # fmt: skip
    ses = host.new_session()
    if a is not None:
        a.pam(t, "USER_ACCT", monitor, UNSET, UNSET, "accounting", "pam_permit", user, "/usr/sbin/sshd",
              hostname=ip, addr=ip, terminal="ssh")  # fmt: skip
        a.pam(t, "CRED_ACQ", monitor, UNSET, UNSET, "setcred", "pam_permit,pam_cap", user, "/usr/sbin/sshd",
              hostname=ip, addr=ip, terminal="ssh")  # fmt: skip
        a.login(t + 0.002, monitor, acct.uid, ses)
        a.pam(t + 0.01, "USER_START", monitor, acct.uid, ses, "session_open", SSHD_SESSION_GRANTORS, user,
              "/usr/sbin/sshd", hostname=ip, addr=ip, terminal="ssh")  # fmt: skip
    host.log(t + 0.01, "authpriv", "info", "sshd", monitor,
             f"pam_unix(sshd:session): session opened for user {user}(uid={acct.uid}) by (uid=0)")  # fmt: skip
    host.log(t + 0.02, "auth", "info", "systemd-logind", host.daemons["systemd-logind"],
             f"New session {ses} of user {user}.")  # fmt: skip
    # pam_motd runs the dynamic MOTD scripts as root inside the new session.
    motd = host.pids.alloc(t + 0.03)
    sh_c(
        "/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin run-parts "
        "--lsbsysinit /etc/update-motd.d > /run/motd.dynamic.new"
    ).run(host, t + 0.03, motd, monitor, Cred(acct.uid, 0, 0, ses), "/")
    child = host.pids.alloc(t + 0.2)
    if a is not None:
        a.pam(t + 0.2, "CRED_ACQ", child, acct.uid, ses, "setcred", "pam_permit,pam_cap", user, "/usr/sbin/sshd",
              hostname=ip, addr=ip, terminal="ssh")  # fmt: skip
        a.user_msg(t + 0.21, "USER_LOGIN", monitor, 0, acct.uid, ses,
                   f'op=login id={acct.uid} exe="/usr/sbin/sshd" hostname={ip} addr={ip} '
                   f"terminal=/dev/{tty.replace('pts', 'pts/')} res=success")  # fmt: skip
    shell = host.pids.alloc(t + 0.22)
    cred = Cred(acct.uid, acct.uid, acct.gid, ses, tty)
    Exec(("-bash",), "/usr/bin/bash", "/bin/bash").run(host, t + 0.22, shell, child, cred, acct.home)
    return Logon(user, ip, port, ses, tty, monitor, child, shell, cred)


def ssh_logoff(sim: Sim, host: Host, s: Logon) -> None:
    ts = sim.now
    acct = host.accounts[s.user]
    host.log(
        ts,
        "auth",
        "info",
        "sshd",
        s.child,
        f"Received disconnect from {s.ip} port {s.port}:11: disconnected by user",
    )
    host.log(ts, "auth", "info", "sshd", s.child, f"Disconnected from user {s.user} {s.ip} port {s.port}")
    a = host.audit
    if a is not None:
        a.pam(ts + 0.01, "USER_END", s.monitor, acct.uid, s.ses, "session_close", SSHD_SESSION_GRANTORS, s.user,
              "/usr/sbin/sshd", hostname=s.ip, addr=s.ip, terminal="ssh")  # fmt: skip
        a.pam(ts + 0.01, "CRED_DISP", s.monitor, acct.uid, s.ses, "setcred", "pam_permit,pam_cap", s.user,
              "/usr/sbin/sshd", hostname=s.ip, addr=s.ip, terminal="ssh")  # fmt: skip
    host.log(
        ts + 0.01,
        "authpriv",
        "info",
        "sshd",
        s.monitor,
        f"pam_unix(sshd:session): session closed for user {s.user}",
    )
    logind = host.daemons["systemd-logind"]
    host.log(
        ts + 0.02,
        "auth",
        "info",
        "systemd-logind",
        logind,
        f"Session {s.ses} logged out. Waiting for processes to exit.",
    )
    host.log(ts + 0.03, "auth", "info", "systemd-logind", logind, f"Removed session {s.ses}.")


def sudo_open(
    host: Host,
    ts: float,
    s: Logon,
    ppid: int,
    cwd: str,
    argv: tuple[str, ...],
    command: str,
    *,
    password: bool,
) -> int:
    """sudo's exec, PAM checks, its syslog line and session; returns sudo's pid."""
    acct = host.accounts[s.user]
    pid = host.pids.alloc(ts)
    setuid = Cred(s.cred.auid, acct.uid, acct.gid, s.ses, s.tty, euid=0)
    Exec(("sudo", *argv), "/usr/bin/sudo").run(host, ts, pid, ppid, setuid, cwd)
    term = f"/dev/{s.tty.replace('pts', 'pts/')}"
    a = host.audit
    t = ts + (2.5 if password else 0.01)
    if a is not None:
        if password:
            a.user_msg(t, "USER_AUTH", pid, acct.uid, s.cred.auid, s.ses,
                       f'op=PAM:authentication grantors=pam_unix acct="{s.user}" exe="/usr/bin/sudo" '
                       f"hostname=? addr=? terminal={term} res=success")  # fmt: skip
        a.user_msg(t, "USER_ACCT", pid, acct.uid, s.cred.auid, s.ses,
                   f'op=PAM:accounting grantors=pam_permit acct="{s.user}" exe="/usr/bin/sudo" '
                   f"hostname=? addr=? terminal={term} res=success")  # fmt: skip
        a.user_msg(t + 0.001, "USER_CMD", pid, acct.uid, s.cred.auid, s.ses,
                   f'cwd="{cwd}" cmd={field_value(command)} '
                   f'exe="/usr/bin/sudo" terminal={s.tty.replace("pts", "pts/")} res=success')  # fmt: skip
        a.user_msg(t + 0.002, "CRED_REFR", pid, 0, s.cred.auid, s.ses,
                   f'op=PAM:setcred grantors=pam_permit acct="root" exe="/usr/bin/sudo" hostname=? addr=? '
                   f"terminal={term} res=success")  # fmt: skip
        a.user_msg(t + 0.003, "USER_START", pid, 0, s.cred.auid, s.ses,
                   f'op=PAM:session_open grantors=pam_limits,pam_permit,pam_unix acct="root" exe="/usr/bin/sudo" '
                   f"hostname=? addr=? terminal={term} res=success")  # fmt: skip
    host.log(t, "authpriv", "notice", "sudo", None,
             f"{s.user:>8} : TTY={s.tty.replace('pts', 'pts/')} ; PWD={cwd} ; USER=root ; COMMAND={command}")  # fmt: skip
    host.log(t + 0.003, "authpriv", "info", "sudo", None,
             f"pam_unix(sudo:session): session opened for user root(uid=0) by {s.user}(uid={acct.uid})")  # fmt: skip
    return pid


def sudo_close(host: Host, ts: float, s: Logon, pid: int) -> None:
    term = f"/dev/{s.tty.replace('pts', 'pts/')}"
    a = host.audit
    if a is not None:
        a.user_msg(ts, "USER_END", pid, 0, s.cred.auid, s.ses,
                   f'op=PAM:session_close grantors=pam_limits,pam_permit,pam_unix acct="root" exe="/usr/bin/sudo" '
                   f"hostname=? addr=? terminal={term} res=success")  # fmt: skip
        a.user_msg(ts, "CRED_DISP", pid, 0, s.cred.auid, s.ses,
                   f'op=PAM:setcred grantors=pam_permit acct="root" exe="/usr/bin/sudo" hostname=? addr=? '
                   f"terminal={term} res=success")  # fmt: skip
    host.log(ts, "authpriv", "info", "sudo", None, "pam_unix(sudo:session): session closed for user root")
