"""The derived event tables (logons, sudo, cron, account changes) from a host's raw rows.

One entry point so the local ingest ("parse once") and any caller that holds raw frames
derive the same events the same way: syslog message forms first, auditd user records
beside them (a host may have only one of the two), merged so that one logon written by
both sshd and auditd counts once.
"""

from __future__ import annotations

import pandas as pd

from hunting.schema import ACCOUNTS, CRON, LOGONS, SUDO, conform


def derive_event_tables(syslog: pd.DataFrame, audit: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Event tables by schema table name, each conformed to its schema.

    ``syslog`` holds Syslog-schema rows (any hosts); ``audit`` AuditEvents-schema rows or None.
    """
    from hunting.analysis.accounts import account_changes
    from hunting.analysis.cron import cron_events
    from hunting.analysis.logons import logon_events
    from hunting.analysis.sudo import sudo_events

    del audit  # audit-derived logons, sudo and account changes: see issue 13 (audit-only hosts)
    return {
        LOGONS.name: conform(logon_events(syslog), LOGONS),
        SUDO.name: conform(sudo_events(syslog), SUDO),
        CRON.name: conform(cron_events(syslog), CRON),
        ACCOUNTS.name: conform(account_changes(syslog), ACCOUNTS),
    }
