"""Logon successes and failures from sshd, su, login and PAM lines of the Syslog table.

Counting rule (no double counting): each authentication attempt is one ``Failure`` or
``Success`` row. sshd reports every failed attempt itself (``Failed <method> for ...``),
so the lines around it are kept as ``Result == "Notice"`` rows, present but not counted:
``Invalid user X from IP`` (pre-auth notice), ``Failed none`` (the client's probe for
allowed methods, not a guess), connection closes by an authenticating user,
``maximum authentication attempts exceeded`` and AllowUsers/DenyUsers refusals.
sshd's PAM failure lines (``pam_unix(sshd:auth): authentication failure``, the old
``sshd(pam_unix)[pid]:`` / ``(pam_unix) authentication failure`` forms and
``PAM N more authentication failures``) are echoes only when that sshd process wrote
its own ``Failed`` line for the attempt (the k-th PAM failure line of a pid pairs with
its k-th ``Failed`` line; a ``PAM N more`` summary with any ``Failed`` line of the pid,
since it may cover attempts before the log starts) or an ``Accepted`` line (another PAM
module let the user in, fail2ban gh-2070). Otherwise they count: old sshds
(RHEL 4/5) wrote no ``Failed`` line at all. A PAM line in the last seconds of the log of
a host whose sshd writes ``Failed`` lines stays a Notice: its line may not be written yet.
For su and login, the PAM line (auth failure, session opened) counts only when the
same process wrote no line of its own for that result, and one su process is one
logon (shadow-utils writes ``Successful su`` and ``+ tty by:to`` for the same su).
``message repeated N times: [ ... ]`` is parsed as its inner line with ``Count = N``.
On loghub's OpenSSH_2k.log this gives the 520 ``Failed password`` lines, weighted 528.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from hunting.analysis.message_forms import Group, extract, first_match, message_forms, replace, unwrap_repeats
from hunting.schema import LOGONS, SYSLOG, conform

SUCCESS: Final = "Success"
FAILURE: Final = "Failure"
NOTICE: Final = "Notice"  # about a logon attempt, but counted through another line

# PAM services that are a user logging in or switching user, and how we name them.
_SERVICE_TYPE: Final = {
    "sshd": "pam",
    "su": "su",
    "su-l": "su",
    "login": "login",
    "sudo": "sudo",
    "sudo-i": "sudo",
}

BRUTE_FORCE_PRESETS: Final[dict[str, tuple[int, str]]] = {
    "wazuh": (8, "120s"),  # rule 5712/5720 style: 8 failures in 2 minutes
    "timesketch": (20, "1h"),
    "sentinel": (16, "4h"),  # "more than 15 in 4 hours"
}

# PAM sessions that are a logon; cron, sudo, systemd-user ... sessions are not.
# pam_unix's failure delay (2 s by default) separates a PAM line from sshd's Failed line.
_PAM_DELAY: Final = pd.Timedelta("10s")
_SU_SAME: Final = pd.Timedelta("2s")  # su lines of one su without a pid
_LOGON_SESSION_SERVICES: Final = frozenset(
    {"sshd", "su", "su-l", "login", "gdm-password", "gdm-autologin", "lightdm", "sddm", "xrdp-sesman"}
)

# The message forms (patterns, results, logon types) are in hunting/rules/message_forms.yaml.
_FORMS: Final = message_forms()
_PAM_GROUP: Final = _FORMS.group("logons", "pam")  # PAM lines of any process
_SSH_GROUP: Final = _FORMS.group("logons", "ssh")
_SU_GROUP: Final = _FORMS.group("logons", "su")
_LOGIN_GROUP: Final = _FORMS.group("logons", "login")
SSH_PROCESSES: Final = _SSH_GROUP.programs or frozenset()
SU_PROCESSES: Final = _SU_GROUP.programs or frozenset()
LOGIN_PROCESSES: Final = _LOGIN_GROUP.programs or frozenset()
_BY_METHOD: Final = "by_method"  # result: Failure, or Notice for the "none" method probe


def _prepare(syslog: pd.DataFrame) -> pd.DataFrame:
    """Conformed rows with a lower-case process, PAM service and cleaned message.

    Solaris ``[ID 800047 auth.notice]`` prefixes and the old ``su(pam_unix)`` process
    naming are undone here so one set of patterns serves every framing.
    """
    df = conform(syslog, SYSLOG)
    proc = df["ProcessName"].fillna("").str.strip().str.lower()
    framing = message_forms().framing
    old_pam = extract(proc, framing["old_pam_program"])["service"].reindex(df.index)
    df["_proc"] = old_pam.fillna(proc)
    df["_old_pam_service"] = old_pam
    msg = df["SyslogMessage"].fillna("").str.strip()
    msg = replace(msg, framing["solaris_prefix"])
    df["_msg"] = msg
    df["_seq"] = range(len(df))
    return df


def _unwrap_repeats(msg: pd.Series) -> tuple[pd.Series, pd.Series]:
    """rsyslog's ``message repeated N times: [ line]`` → (inner line, N); others → (line, 1)."""
    return unwrap_repeats(msg)


def _apply_rules(df: pd.DataFrame, text: pd.Series, group: Group) -> pd.DataFrame:
    """Match each row against the group's forms in order (first match wins, RE2) and build logon rows."""
    if df.empty:
        return pd.DataFrame()
    hits = first_match(text, group.forms)
    out: list[pd.DataFrame] = []
    kv_user, kv_rhost = message_forms().framing["pam_kv_user"], message_forms().framing["pam_kv_rhost"]
    for form in group.forms:
        m = hits[hits["_form"] == form.name]
        if m.empty:
            continue
        rows = df.loc[
            m.index,
            ["TimeGenerated", "Computer", "ProcessName", "ProcessID", "SyslogMessage", "_seq", "_proc"],
        ]
        rows = rows.copy()
        rows["_rule"] = form.name
        rows["_primary"] = form.primary
        rows["User"] = m.get("user", pd.NA)
        rows["SourceIP"] = m.get("ip", pd.NA)
        if "kv" in form.fields:  # PAM's "logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root"
            kv = m["kv"].fillna("")
            rows["User"] = extract(kv, kv_user)["user"].reindex(m.index)
            rows["SourceIP"] = extract(kv, kv_rhost)["ip"].reindex(m.index)
        rows["SourcePort"] = m.get("port", pd.NA)
        if "count" in form.fields:
            rows["Count"] = pd.to_numeric(m["count"], errors="coerce")
        method = m["method"] if "method" in m else pd.Series(pd.NA, index=m.index, dtype="string")
        service = m["service"] if "service" in m else pd.Series(pd.NA, index=m.index, dtype="string")
        service = service.fillna(df.loc[m.index, "_old_pam_service"]).fillna(df.loc[m.index, "_proc"])
        if form.kind == "{method}":
            rows["LogonType"] = method
        elif form.kind == "{service}":
            rows["LogonType"] = service.map(lambda s: _SERVICE_TYPE.get(s, s), na_action="ignore")
        else:
            rows["LogonType"] = form.kind
        rows["_service"] = service
        if form.result == _BY_METHOD:
            rows["Result"] = method.map(lambda x: NOTICE if x == "none" else FAILURE, na_action="ignore")
        else:
            rows["Result"] = form.result
        if form.invalid is None:
            rows["InvalidUser"] = m["invalid"].fillna("").str.startswith(("invalid", "illegal"))
        else:
            rows["InvalidUser"] = form.invalid
        out.append(rows)
    if not out:
        return pd.DataFrame()
    return pd.concat(out)


def _normalise_ip(ip: pd.Series) -> pd.Series:
    """``::ffff:1.2.3.4`` → ``1.2.3.4``; brackets dropped; empty → NA. Host names are kept."""
    ip = ip.astype("string").str.strip().str.strip("[]")
    ip = ip.str.replace(r"(?i)^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$", r"\1", regex=True)
    return ip.mask(ip == "")


def _ssh_pam_counts(rows: pd.DataFrame, frame_end: pd.Series) -> pd.Series:
    """How many failures each sshd PAM failure line adds (0: an echo of sshd's own lines).

    Grouped by Computer + pid; without a pid, by Computer (its sshd writes Failed lines
    or it does not). See the module docstring for the pairing rule.
    """
    pid = rows["ProcessID"].astype("Int64").fillna(-1)
    key = pd.DataFrame(
        {"c": rows["Computer"].fillna("").astype(str), "p": pid.astype("int64")}, index=rows.index
    )
    ssh = rows["_proc"].isin(SSH_PROCESSES)
    weight = rows["Count"].fillna(1).clip(lower=1).astype("int64")
    failed = ssh & (rows["_rule"] == "failed") & (rows["Result"] == FAILURE)
    accepted = ssh & (rows["_rule"] == "accepted")
    fails_by = weight[failed].groupby([key.loc[failed, "c"], key.loc[failed, "p"]]).sum()
    ok_by = accepted[accepted].groupby([key.loc[accepted, "c"], key.loc[accepted, "p"]]).size()
    host_fails = weight[failed].groupby(key.loc[failed, "c"]).sum()
    idx = pd.MultiIndex.from_frame(key)
    no_pid = (key["p"] == -1).to_numpy()
    per_pid = fails_by.reindex(idx, fill_value=0).to_numpy(dtype="int64")
    per_host = key["c"].map(host_fails).fillna(0).to_numpy(dtype="int64")
    n_failed = pd.Series(np.where(no_pid, per_host, per_pid), index=rows.index)
    has_ok = pd.Series(ok_by.reindex(idx, fill_value=0).to_numpy() > 0, index=rows.index)
    auth = ssh & (rows["_rule"] == "pam_auth_failure")
    more = ssh & (rows["_rule"] == "pam_more")
    out = pd.Series(0, index=rows.index, dtype="int64")
    # The k-th PAM failure line of a process pairs with its k-th Failed line.
    order = rows.loc[auth, "_seq"].sort_values(kind="stable").index
    cum = weight[order].groupby([key.loc[order, "c"], key.loc[order, "p"]]).cumsum()
    out.loc[order] = (cum - n_failed[order]).clip(lower=0).clip(upper=weight[order]).to_numpy()
    out.loc[more] = weight[more].where(n_failed[more] == 0, 0)
    out.loc[has_ok] = 0
    # A PAM line within seconds of the host's last line, on a host whose sshd writes
    # Failed lines: its own Failed line may come next.
    end = rows["Computer"].fillna("").astype(str).map(frame_end)
    late = auth & (rows["TimeGenerated"] > end - _PAM_DELAY).fillna(False) & (per_host > 0)
    out.loc[late] = 0
    out.loc[~(auth | more)] = 0
    return out


def _demote_echoes(rows: pd.DataFrame, frame_end: pd.Series) -> pd.DataFrame:
    """PAM lines become Notice when they echo sshd's own line or a su/login line of the same pid."""
    secondary = ~rows["_primary"].astype(bool)
    ssh_pam = secondary & rows["_proc"].isin(SSH_PROCESSES)
    adds = _ssh_pam_counts(rows, frame_end)
    counts = ssh_pam & (adds > 0)
    rows.loc[ssh_pam & ~counts, "Result"] = NOTICE
    rows.loc[ssh_pam & ~counts, "LogonType"] = "pam"
    rows.loc[counts, "Result"] = FAILURE
    rows.loc[counts, "LogonType"] = "pam"  # the method is not named
    rows.loc[counts, "Count"] = adds[counts].astype("int64")
    # su/login: one counted row per process and result.
    key = ["Computer", "_proc", "ProcessID", "Result"]
    prim = rows[rows["_primary"].astype(bool) & rows["ProcessID"].notna()][key].drop_duplicates()
    prim["_has_primary"] = True
    merged = rows[key].merge(prim, on=key, how="left")["_has_primary"].fillna(False).to_numpy(dtype=bool)
    echo = (
        secondary & ~ssh_pam & pd.Series(merged, index=rows.index) & rows["Result"].isin([SUCCESS, FAILURE])
    )
    rows.loc[echo, "Result"] = NOTICE
    return _one_per_su(rows)


def _one_per_su(rows: pd.DataFrame) -> pd.DataFrame:
    """One su process is one logon: its second counted line for the same result is a Notice.

    Without a pid (some exports), lines for the same host, account and result within
    ``_SU_SAME`` are one su.
    """
    su = rows["_proc"].isin(SU_PROCESSES) & rows["Result"].isin([SUCCESS, FAILURE])
    if not su.any():
        return rows
    sub = rows[su].sort_values(["_seq"], kind="stable")
    sub = sub.assign(_prim=~sub["_primary"].astype(bool)).sort_values(["_prim", "_seq"], kind="stable")
    comp = sub["Computer"].fillna("").astype(str)
    with_pid = sub["ProcessID"].notna()
    dup_pid = with_pid & pd.DataFrame({"c": comp, "p": sub["ProcessID"], "r": sub["Result"]}).duplicated()
    nopid = sub[~with_pid].sort_values("TimeGenerated", kind="stable")
    dup_nopid = pd.Series(False, index=sub.index)
    if len(nopid):
        keys = [nopid["Computer"].fillna("").astype(str), nopid["User"].fillna(""), nopid["Result"]]
        gap = nopid.groupby(keys, sort=False)["TimeGenerated"].diff()
        dup_nopid[nopid.index] = (gap <= _SU_SAME).fillna(False).to_numpy()
    dup = (dup_pid | dup_nopid).reindex(rows.index, fill_value=False).astype(bool)
    rows.loc[dup, "Result"] = NOTICE
    return rows


def logon_events(syslog: pd.DataFrame) -> pd.DataFrame:
    """sshd/su/login logons and PAM authentication failures as LOGONS rows, oldest first."""
    if syslog.empty:
        return LOGONS.empty()
    df = _prepare(syslog)
    frame_end = df.groupby(df["Computer"].fillna("").astype(str))["TimeGenerated"].max()
    pam_line = df["_msg"].str.contains("pam_unix(", regex=False) | df["_old_pam_service"].notna()
    pam_line = pam_line | (df["_proc"].isin(SSH_PROCESSES) & df["_msg"].str.startswith("(pam_unix) "))
    more = extract(df["_msg"], message_forms().framing["pam_more_line"]).index
    pam_line = pam_line | df.index.isin(more)
    ssh = df["_proc"].isin(SSH_PROCESSES)
    su = df["_proc"].isin(SU_PROCESSES)
    login = df["_proc"].isin(LOGIN_PROCESSES)
    relevant = ssh | su | login | pam_line
    df = df[relevant]
    if df.empty:
        return LOGONS.empty()
    inner, count = _unwrap_repeats(df["_msg"])
    parts = []
    # PAM-tagged lines first (any process), then each program's own lines.
    is_pam = pam_line[relevant]
    parts.append(_apply_rules(df[is_pam], inner[is_pam], _PAM_GROUP))
    for mask, group in ((ssh, _SSH_GROUP), (su, _SU_GROUP), (login, _LOGIN_GROUP)):
        m = mask[relevant] & ~is_pam
        parts.append(_apply_rules(df[m], inner[m], group))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return LOGONS.empty()
    rows = pd.concat(parts)
    not_logon = (rows["_rule"] == "pam_session") & ~rows["_service"].isin(_LOGON_SESSION_SERVICES)
    rows = rows[~not_logon]
    if "Count" not in rows:
        rows["Count"] = pd.NA
    rows["Count"] = (
        pd.to_numeric(rows["Count"], errors="coerce").astype("Int64").fillna(count.reindex(rows.index))
    )
    # su/login/sudo sessions name no remote host; "ROOT LOGIN" names root implicitly.
    root_login = rows["_rule"] == "login_root"
    rows.loc[root_login, "User"] = "root"
    rows["User"] = rows["User"].astype("string")
    rows["User"] = rows["User"].mask(rows["User"] == "")
    rows["SourceIP"] = _normalise_ip(rows["SourceIP"])
    rows = _demote_echoes(rows.reset_index(drop=True), frame_end)
    rows = rows.sort_values(["TimeGenerated", "_seq"], kind="stable")
    return conform(rows, LOGONS)


def _bursts_for(fails: pd.DataFrame, threshold: int, window: pd.Timedelta) -> pd.DataFrame:
    """Episodes of failures per source IP (gaps longer than ``window`` split them)."""
    fails = fails.sort_values(["SourceIP", "TimeGenerated"], kind="stable").reset_index(drop=True)
    gap = fails.groupby("SourceIP", sort=False)["TimeGenerated"].diff()
    new_episode = gap.isna() | (gap > window)
    fails["_episode"] = new_episode.cumsum()
    # Weighted failures in the trailing window ending at each attempt.
    rolled = (
        fails.set_index("TimeGenerated")
        .groupby("_episode", sort=False)["Count"]
        .rolling(window)
        .sum()
        .reset_index(drop=True)
    )
    fails["_peak"] = rolled.to_numpy()
    agg = fails.groupby("_episode", sort=False).agg(
        SourceIP=("SourceIP", "first"),
        FirstAttempt=("TimeGenerated", "min"),
        LastAttempt=("TimeGenerated", "max"),
        Attempts=("Count", "sum"),
        PeakInWindow=("_peak", "max"),
    )
    agg = agg[agg["PeakInWindow"] >= threshold]
    # Names only for the episodes kept: a busy host has thousands of short episodes, and a
    # Python set per episode cost seconds.
    kept = fails[fails["_episode"].isin(agg.index).to_numpy()]
    names = kept.groupby("_episode", sort=False).agg(
        Users=("User", lambda s: sorted({str(u) for u in s.dropna()})),
        Computers=("Computer", lambda s: sorted({str(c) for c in s.dropna()})),
    )
    for col in ("Users", "Computers"):
        agg[col] = names[col].reindex(agg.index) if len(names) else pd.Series(index=agg.index, dtype=object)
    return agg.reset_index(drop=True)


def brute_force(logons: pd.DataFrame, *, threshold: int, window: str) -> pd.DataFrame:
    """Bursts of at least ``threshold`` failures (weighted by Count) within ``window`` per source IP.

    A burst is an episode of failures from one IP with no quiet gap longer than
    ``window``, kept when some ``window``-long stretch inside it holds ``threshold``
    failures. A success from the same IP at or after the burst's first attempt is
    reported (time and user): the guess may have worked.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, not {threshold}")
    span = pd.Timedelta(window)
    if span <= pd.Timedelta(0):
        raise ValueError(f"window must be positive, not {window!r}")
    cols = ["SourceIP", "FirstAttempt", "LastAttempt", "Attempts", "PeakInWindow", "UserCount", "Users",
            "Computers", "SuccessFollowed", "SuccessTime", "SuccessUser"]  # fmt: skip
    lg = conform(logons, LOGONS)
    fails = lg[(lg["Result"] == FAILURE) & lg["SourceIP"].notna() & lg["TimeGenerated"].notna()].copy()
    if fails.empty:
        return _empty_bursts(cols)
    fails["Count"] = fails["Count"].fillna(1).clip(lower=1)
    bursts = _bursts_for(fails, threshold, span)
    if bursts.empty:
        return _empty_bursts(cols)
    bursts["UserCount"] = bursts["Users"].map(len).astype("Int64")
    ok = lg[(lg["Result"] == SUCCESS) & lg["SourceIP"].notna() & lg["TimeGenerated"].notna()]
    ok = ok[["SourceIP", "TimeGenerated", "User"]].rename(
        columns={"TimeGenerated": "SuccessTime", "User": "SuccessUser"}
    )
    bursts = bursts.sort_values("FirstAttempt", kind="stable")
    ok = ok.sort_values("SuccessTime", kind="stable")
    bursts["SourceIP"] = bursts["SourceIP"].astype("string")
    ok = ok.astype({"SourceIP": "string"})
    bursts = pd.merge_asof(
        bursts, ok, left_on="FirstAttempt", right_on="SuccessTime", by="SourceIP", direction="forward"
    )
    bursts["SuccessFollowed"] = bursts["SuccessTime"].notna().astype("boolean")
    bursts["Attempts"] = bursts["Attempts"].astype("Int64")
    bursts["PeakInWindow"] = bursts["PeakInWindow"].astype("Int64")
    bursts = bursts.sort_values(["Attempts", "FirstAttempt"], ascending=[False, True], kind="stable")
    return bursts[cols].reset_index(drop=True)


def _empty_bursts(cols: list[str]) -> pd.DataFrame:
    dtypes = {"SourceIP": "string", "FirstAttempt": "datetime64[ns, UTC]", "LastAttempt": "datetime64[ns, UTC]",
              "Attempts": "Int64", "PeakInWindow": "Int64", "UserCount": "Int64", "Users": "object",
              "Computers": "object", "SuccessFollowed": "boolean", "SuccessTime": "datetime64[ns, UTC]",
              "SuccessUser": "string"}  # fmt: skip
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in cols})


def counted(logons: pd.DataFrame) -> pd.DataFrame:
    """Only the Success and Failure rows (Notice rows describe attempts counted elsewhere)."""
    return logons[logons["Result"].isin([SUCCESS, FAILURE])]


def logon_totals(logons: pd.DataFrame) -> dict[str, int]:
    """Headline numbers, weighted by Count so `message repeated N times` counts N."""
    rows = counted(logons)
    weight = rows["Count"].fillna(1).astype("int64")
    return {
        "success": int(weight[rows["Result"] == SUCCESS].sum()),
        "failure": int(weight[rows["Result"] == FAILURE].sum()),
        "accounts": int(rows["User"].dropna().nunique()),
        "source_ips": int(rows["SourceIP"].dropna().nunique()),
    }


def by_source_ip(logons: pd.DataFrame) -> pd.DataFrame:
    """Attempts per source IP and result, with the accounts tried (for maps and tables)."""
    rows = counted(logons).dropna(subset=["SourceIP"])
    if rows.empty:
        return pd.DataFrame(columns=["SourceIP", "Result", "Count", "Users", "FirstSeen", "LastSeen"])
    rows = rows.assign(Count=rows["Count"].fillna(1).astype("int64"))
    return (
        rows.groupby(["SourceIP", "Result"], as_index=False)
        .agg(
            Count=("Count", "sum"),
            Users=("User", lambda s: ", ".join(sorted({str(u) for u in s.dropna()})[:10])),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .sort_values("Count", ascending=False)
        .reset_index(drop=True)
    )
