-- Syslog rows the event parsers can use: a pre-filter by program so that parsing a
-- host's logons does not pull every kernel or application line out of the engine.
SELECT * FROM Syslog
WHERE lower(Computer) = lower($host)
  AND TimeGenerated >= $start AND TimeGenerated < $end
  AND (lower(ProcessName) IN (SELECT unnest($processes)) OR Facility IN ('auth', 'authpriv'))
ORDER BY TimeGenerated, rowid
