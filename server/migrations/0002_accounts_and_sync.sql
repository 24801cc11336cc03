-- Accounts, and the sync state of every user: records (with tombstones), the
-- per-user change sequence and tombstone horizon, and per-client idempotency state.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE user_sync (
    user_id           TEXT PRIMARY KEY NOT NULL,
    last_change_seq   BIGINT NOT NULL,
    tombstone_horizon BIGINT NOT NULL
);

CREATE TABLE records (
    user_id          TEXT NOT NULL,
    table_name       TEXT NOT NULL,
    record_key       TEXT NOT NULL,
    version          BIGINT NOT NULL,
    previous_version BIGINT NOT NULL,
    data             TEXT,
    hlc              TEXT,
    change_seq       BIGINT NOT NULL,
    origin           TEXT,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (user_id, table_name, record_key)
);
CREATE INDEX records_by_change ON records (user_id, change_seq);

CREATE TABLE client_states (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    high_water BIGINT NOT NULL,
    unapplied  TEXT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
