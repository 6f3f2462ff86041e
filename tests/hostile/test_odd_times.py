"""Odd timestamps must not take a page down (issue 16 item 2: Logons crashed with
``TypeError: Invalid comparison between dtype=datetime64[ns, UTC] and DatetimeArray``)."""

from __future__ import annotations

import pandas as pd

from hunting.analysis.sessions import flag_alerts


def _utc(*values: object) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True), dtype="datetime64[ns, UTC]")


def test_sessions_never_closed_still_flag_alerts() -> None:
    """Root cause: every End unknown (NaT) -> to_numpy() gave naive datetime64, and the
    tz-aware alert time could not be compared with it."""
    sessions = pd.DataFrame(
        {"Computer": ["h1", "h1"], "Start": _utc("2024-03-09T10:00Z", None), "End": _utc(None, None)}
    )
    alerts = pd.DataFrame(
        {"Computer": ["h1"], "TimeGenerated": _utc("2024-03-09T11:00Z"), "AlertName": ["Reverse shell"]}
    )
    out = flag_alerts(sessions, alerts)
    # both sessions are open-ended; the second also has an unknown start (-inf): both hold the alert
    assert out["AlertDuringSession"].tolist() == [True, True]
    assert out["AlertNames"].tolist() == ["Reverse shell", "Reverse shell"]


def test_alert_before_a_known_start_is_not_flagged() -> None:
    sessions = pd.DataFrame({"Computer": ["h1"], "Start": _utc("2024-03-09T10:00Z"), "End": _utc(None)})
    alerts = pd.DataFrame(
        {"Computer": ["h1"], "TimeGenerated": _utc("2024-03-09T09:00Z"), "AlertName": ["x"]}
    )
    assert flag_alerts(sessions, alerts)["AlertDuringSession"].tolist() == [False]
