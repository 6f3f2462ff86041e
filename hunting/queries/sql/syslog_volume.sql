-- Message counts per time bucket and key (Facility, SeverityLevel or ProcessName; the
-- column is chosen from an allow-list in code).
SELECT
    time_bucket(to_seconds($bucket_seconds), TimeGenerated, TIMESTAMP '1970-01-01') AS TimeGenerated,
    coalesce(nullif("{key}", ''), '(none)') AS "Key",
    count(*) AS "Count"
FROM Syslog
WHERE lower(Computer) = lower($host)
  AND TimeGenerated >= $start AND TimeGenerated < $end
GROUP BY ALL
ORDER BY 1, 2
