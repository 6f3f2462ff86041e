-- AuditEvents rows the event parsers use (user, account and PAM records): a pre-filter by
-- record type so deriving a host's logons does not pull its SYSCALL events out of the engine.
SELECT * FROM AuditEvents
WHERE lower(Computer) = lower($host)
  AND TimeGenerated >= $start AND TimeGenerated < $end
  AND EventType IN (SELECT unnest($types))
ORDER BY TimeGenerated, rowid
