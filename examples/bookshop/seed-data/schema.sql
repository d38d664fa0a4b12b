CREATE TABLE author (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    country TEXT,
    -- Kept by the trigger below and never seeded: a reset leaves it to the
    -- engine, which counts each book once.
    book_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE book (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL UNIQUE,
    author_id INTEGER NOT NULL REFERENCES author (id),
    year INTEGER NOT NULL,
    price REAL NOT NULL CHECK (price >= 0),
    -- Text that looks like a number stays text (leading zeros kept).
    isbn TEXT,
    weight_kg DECIMAL(6, 3),
    -- t/f as PostgreSQL's CSV export writes them.
    in_print BOOLEAN NOT NULL,
    -- ISO 8601 as exports write it: Z, an offset, or a date alone.
    added_at TIMESTAMP,
    -- Bytes, given in the CSV as hex (seed.toml maps the column).
    cover BLOB,
    -- A quoted "" is the empty string; an empty cell is NULL.
    note TEXT
);

CREATE TRIGGER book_counts AFTER INSERT ON book BEGIN
    UPDATE author SET book_count = book_count + 1 WHERE id = NEW.author_id;
END;
