-- A host's syslog rows the event parsers can read, for the ingest-time derivation: the
-- programs and message marks come from the parsers' own constants (hunting.store
-- parser_prefilter), so this is a superset of what each parser selects, never less. The
-- host's last rows are kept too: the logon parser reads the frame's end time from them.
WITH host AS (
    SELECT *, rowid AS _row FROM Syslog WHERE lower(coalesce(Computer, '')) = $host
)
SELECT * EXCLUDE (_row) FROM host
WHERE lower(trim(coalesce(ProcessName, ''), E' \t\n\r\f\v')) IN (SELECT unnest($processes))
   OR lower(trim(coalesce(ProcessName, ''), E' \t\n\r\f\v')) LIKE '%(pam_unix)'
   OR len(list_filter($marks, lambda m: contains(coalesce(SyslogMessage, ''), m))) > 0
   OR TimeGenerated = (SELECT max(TimeGenerated) FROM host)
ORDER BY TimeGenerated, _row
