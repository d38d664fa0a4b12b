CREATE TABLE author (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    country TEXT
);

CREATE TABLE book (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL UNIQUE,
    author_id INTEGER NOT NULL REFERENCES author (id),
    year INTEGER NOT NULL,
    price REAL NOT NULL CHECK (price >= 0)
);
