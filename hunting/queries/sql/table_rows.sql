-- Rows of one stored table for a host and range. The table name is substituted from a
-- fixed allow-list in code (identifiers cannot be bound); every value is a parameter.
SELECT * FROM "{table}"
WHERE lower(Computer) = lower($host)
  AND TimeGenerated >= $start AND TimeGenerated < $end
ORDER BY TimeGenerated, rowid
LIMIT $limit
