-- A password change moves the epoch on; sessions from an older epoch end.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
