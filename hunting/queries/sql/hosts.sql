-- Hosts across every table, grouped case-insensitively (a host's name may change case
-- within its own data); the most frequent spelling is shown.
WITH seen AS (
    SELECT Computer, TimeGenerated, 'Syslog' AS src FROM Syslog
    UNION ALL SELECT Computer, TimeGenerated, 'Audit' FROM AuditEvents
    UNION ALL SELECT Computer, TimeGenerated, 'Alert' FROM SecurityAlert
    UNION ALL SELECT Computer, TimeGenerated, 'Heartbeat' FROM Heartbeat
    UNION ALL SELECT Computer, TimeGenerated, 'Flow' FROM NetworkFlows
)
SELECT
    mode(Computer) AS Computer,
    min(TimeGenerated) AS FirstSeen,
    max(TimeGenerated) AS LastSeen,
    count(*) FILTER (WHERE src = 'Syslog') AS SyslogRows,
    count(*) FILTER (WHERE src = 'Audit') AS AuditRows,
    count(*) FILTER (WHERE src = 'Alert') AS AlertRows,
    count(*) FILTER (WHERE src = 'Heartbeat') AS HeartbeatRows,
    count(*) FILTER (WHERE src = 'Flow') AS FlowRows
FROM seen
WHERE coalesce(Computer, '') <> ''
  AND contains(lower(Computer), lower($contains))
  AND TimeGenerated >= coalesce($start, TimeGenerated)
  AND TimeGenerated < coalesce($end, TimeGenerated + INTERVAL 1 SECOND)
GROUP BY lower(Computer)
ORDER BY Computer
