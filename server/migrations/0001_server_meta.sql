-- Server-wide settings that every instance must share (for example the development
-- JWT secret), as key/value text.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
