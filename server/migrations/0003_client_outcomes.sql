-- Idempotency outcomes as rows, each with the content hash of the mutation it
-- answered (a reused (clientId, seq) with other content is refused, I11), pruned
-- below the seq the client has acknowledged (acked_below) and capped per client.
-- client_states.unapplied is read once for outcomes stored before this migration
-- and then left empty.
ALTER TABLE client_states ADD COLUMN acked_below BIGINT NOT NULL DEFAULT 0;

CREATE TABLE client_outcomes (
    user_id      TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    content_hash TEXT,
    outcome      TEXT NOT NULL,
    PRIMARY KEY (user_id, client_id, seq)
);
