-- Aquarius database schema, as the app (SQLAlchemy) declares it.
-- Contract: ../shared/aquarius/MODEL.md. Tables in dependency order.
-- Tables, columns, keys and all 23 indexes (the unique ones and the plain
-- `index=True` ones the app's look-ups rely on) equal the app's own DDL,
-- ../shared/aquarius/app-schema.sql: tests/app_schema.rs proves it. No
-- CHECK beyond the app's: a database the app (or its old seeder) made is
-- then exactly migration 0001, so `seedbake migrate` adopts it.

CREATE TABLE users (
    id INTEGER NOT NULL,
    username VARCHAR NOT NULL,
    email VARCHAR,
    full_name VARCHAR,
    hashed_password VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    is_active BOOLEAN,
    created_at DATETIME,
    totp_secret VARCHAR,
    totp_enabled BOOLEAN,
    backup_codes TEXT,
    totp_setup_at DATETIME,
    last_active DATETIME,
    is_app_user BOOLEAN,
    can_read_all BOOLEAN,
    can_write_all BOOLEAN,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_users_username ON users (username);
CREATE INDEX ix_users_id ON users (id);
CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE TABLE saison (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_saison_name ON saison (name);
CREATE INDEX ix_saison_id ON saison (id);

CREATE TABLE schwimmbad (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    adresse VARCHAR NOT NULL,
    phone_no VARCHAR,
    manager VARCHAR,
    PRIMARY KEY (id)
);
CREATE INDEX ix_schwimmbad_name ON schwimmbad (name);
CREATE INDEX ix_schwimmbad_id ON schwimmbad (id);

CREATE TABLE verein (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    ort VARCHAR NOT NULL,
    register_id VARCHAR NOT NULL,
    contact VARCHAR NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_verein_id ON verein (id);
CREATE INDEX ix_verein_name ON verein (name);

CREATE TABLE verband (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    abkuerzung VARCHAR(5) NOT NULL,
    land VARCHAR NOT NULL,
    ort VARCHAR NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_verband_id ON verband (id);
CREATE UNIQUE INDEX ix_verband_name ON verband (name);
CREATE UNIQUE INDEX ix_verband_abkuerzung ON verband (abkuerzung);

CREATE TABLE versicherung (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    kurz VARCHAR(5) NOT NULL,
    land VARCHAR NOT NULL,
    hauptsitz VARCHAR NOT NULL,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_versicherung_kurz ON versicherung (kurz);
CREATE UNIQUE INDEX ix_versicherung_name ON versicherung (name);
CREATE INDEX ix_versicherung_id ON versicherung (id);

CREATE TABLE figur (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    kategorie VARCHAR,
    beschreibung VARCHAR,
    schwierigkeitsgrad INTEGER,
    altersklasse VARCHAR,
    min_alter INTEGER,
    bild VARCHAR,
    PRIMARY KEY (id)
);
CREATE INDEX ix_figur_id ON figur (id);
CREATE INDEX ix_figur_name ON figur (name);

CREATE TABLE wettkampf (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    datum DATE NOT NULL,
    max_teilnehmer INTEGER,
    saison_id INTEGER NOT NULL,
    schwimmbad_id INTEGER NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(saison_id) REFERENCES saison (id),
    FOREIGN KEY(schwimmbad_id) REFERENCES schwimmbad (id)
);
CREATE INDEX ix_wettkampf_name ON wettkampf (name);
CREATE INDEX ix_wettkampf_id ON wettkampf (id);

CREATE TABLE kind (
    id INTEGER NOT NULL,
    vorname VARCHAR NOT NULL,
    nachname VARCHAR NOT NULL,
    email VARCHAR,
    hashed_password VARCHAR,
    geburtsdatum DATE NOT NULL,
    geschlecht VARCHAR(1),
    verein_id INTEGER,
    verband_id INTEGER,
    versicherung_id INTEGER,
    vertrag VARCHAR,
    PRIMARY KEY (id),
    FOREIGN KEY(verein_id) REFERENCES verein (id),
    FOREIGN KEY(verband_id) REFERENCES verband (id),
    FOREIGN KEY(versicherung_id) REFERENCES versicherung (id)
);
CREATE UNIQUE INDEX ix_kind_email ON kind (email);
CREATE INDEX ix_kind_nachname ON kind (nachname);
CREATE INDEX ix_kind_id ON kind (id);

CREATE TABLE wettkampf_figuren (
    wettkampf_id INTEGER NOT NULL,
    figur_id INTEGER NOT NULL,
    PRIMARY KEY (wettkampf_id, figur_id),
    FOREIGN KEY(wettkampf_id) REFERENCES wettkampf (id),
    FOREIGN KEY(figur_id) REFERENCES figur (id)
);

CREATE TABLE anmeldung (
    id INTEGER NOT NULL,
    kind_id INTEGER NOT NULL,
    wettkampf_id INTEGER NOT NULL,
    startnummer INTEGER,
    anmeldedatum DATE,
    vorlaeufig INTEGER,
    status VARCHAR,
    PRIMARY KEY (id),
    FOREIGN KEY(kind_id) REFERENCES kind (id),
    FOREIGN KEY(wettkampf_id) REFERENCES wettkampf (id)
);
CREATE INDEX ix_anmeldung_id ON anmeldung (id);

CREATE TABLE anmeldung_figuren (
    anmeldung_id INTEGER NOT NULL,
    figur_id INTEGER NOT NULL,
    PRIMARY KEY (anmeldung_id, figur_id),
    FOREIGN KEY(anmeldung_id) REFERENCES anmeldung (id),
    FOREIGN KEY(figur_id) REFERENCES figur (id)
);

-- Created by the app's seeder, not its models; spelled as it spells it
-- (an INTEGER PRIMARY KEY declared without NOT NULL, which a rowid alias
-- never needs).
CREATE TABLE performance_probe (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    payload TEXT
);
