-- The host's accounts from its passwd file(s), whatever the time range: a uid's name
-- is needed to read audit events from any time.
SELECT * FROM HostUsers
WHERE lower(Computer) = lower($host)
ORDER BY Uid
