-- Sign-in failures are counted per (account, client): each failure doubles that client's wait for that
-- account, other clients are unaffected, and a success clears the client's count. The account-wide
-- lock-out columns on `users` are no longer used.

CREATE TABLE sign_in_failures (
    user_id          BLOB NOT NULL REFERENCES users (id),
    client           TEXT NOT NULL,
    failures         INTEGER NOT NULL,
    last_failure_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, client)
);
