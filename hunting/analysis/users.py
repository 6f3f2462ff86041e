"""uid -> user name, learnt only from the investigated host's own data.

The analyst's workstation has other accounts (or the same uids under other
names), so ``pwd`` is never consulted: names come from a passwd file taken from
the host, or from the names auditd itself wrote in its ENRICHED format.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

UNSET_IDS: frozenset[int] = frozenset({4294967295, -1})
# Placeholders auditd writes where it has no name; they are not user names.
_NOT_NAMES = frozenset({"", "unset", "?", "(null)", "(none)", "(unknown)"})


def users_from_passwd(text: str) -> dict[int, str]:
    """Parse /etc/passwd text (name:pw:uid:gid:gecos:home:shell); bad lines are skipped.

    When one uid has several names (aliases such as toor), the first line wins,
    as it does for the C library's lookups.
    """
    users: dict[int, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < 3 or not fields[0] or not fields[2].isdigit():
            continue
        users.setdefault(int(fields[2]), fields[0])
    return users


def users_from_audit(audit: pd.DataFrame) -> dict[int, str]:
    """uid -> name from the ENRICHED UidName/AuidName columns (most frequent name per id)."""
    pairs = []
    for id_col, name_col in (("Uid", "UidName"), ("Auid", "AuidName")):
        if id_col in audit.columns and name_col in audit.columns:
            pairs.append(audit[[id_col, name_col]].set_axis(["Id", "Name"], axis=1))
    if not pairs:
        return {}
    both = pd.concat(pairs, ignore_index=True)
    ids = pd.to_numeric(both["Id"], errors="coerce")
    names = both["Name"].astype("string").str.strip()
    keep = ids.notna() & names.notna() & ~names.str.lower().isin(_NOT_NAMES) & ~ids.isin(UNSET_IDS)
    # A name that is only digits is auditd failing to resolve the id, not a name.
    keep &= ~names.str.fullmatch(r"\d+").fillna(False).astype(bool)
    found = pd.DataFrame({"Id": ids[keep].astype("int64"), "Name": names[keep]})
    if found.empty:
        return {}
    counts = found.value_counts().reset_index(name="n")
    best = counts.sort_values(["Id", "n", "Name"], ascending=[True, False, True]).drop_duplicates("Id")
    return {int(i): str(n) for i, n in zip(best["Id"], best["Name"], strict=True)}


def name_for(ids: pd.Series, users: Mapping[int, str], *, unset: str = "unset") -> pd.Series:
    """Names for a column of ids: known name, else the id as text; unset ids as ``unset``."""
    num = pd.to_numeric(ids, errors="coerce").astype("Int64")
    lookup = pd.Series(
        list(users.values()), index=pd.Index(list(users.keys()), dtype="Int64"), dtype="string"
    )
    out = num.map(lookup).astype("string").fillna(num.astype("string"))
    return out.mask(num.isin(UNSET_IDS).fillna(False).astype(bool), unset)
