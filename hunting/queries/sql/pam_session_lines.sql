-- Syslog rows of one host and range that pam session pairing reads (hunting.analysis.sessions:
-- "session opened/closed for user"): the Logons page pairs sessions without fetching the
-- host's whole syslog. Every value is a parameter.
SELECT * FROM Syslog
WHERE lower(Computer) = lower($host)
  AND TimeGenerated >= $start AND TimeGenerated < $end
  AND (contains(SyslogMessage, $opened) OR contains(SyslogMessage, $closed))
ORDER BY TimeGenerated, rowid
LIMIT $limit
