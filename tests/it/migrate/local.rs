//! The story, locally.

use super::*;

#[test]
fn version_2_keeps_every_app_row_reaches_its_schema_and_the_seeds_reference_data() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let app_before = rt.block_on(app_rows(&path));
    let ids_before = rt.block_on(rows(
        &path,
        "SELECT abkuerzung, id FROM verband ORDER BY id",
    ));
    let figur_ids_before = rt.block_on(rows(
        &path,
        "SELECT name, kategorie, id FROM figur ORDER BY id",
    ));

    let report = rt.block_on(migrate_local(&path, &v2)).unwrap();
    assert!(report.changes && !report.dry_run);
    assert_eq!((report.from, report.to), (Some(1), Some(3)));
    let applied: Vec<i64> = report.applied.iter().map(|m| m.version).collect();
    assert_eq!(applied, [2, 3]);
    let table = |name: &str| report.reference.iter().find(|t| t.table == name).unwrap();
    let verband = table("verband");
    assert_eq!(verband.inserted, ["\"NEUV\""]);
    assert_eq!(verband.updated.len(), 1);
    assert_eq!(
        (
            verband.updated[0].key.as_str(),
            verband.updated[0].columns.as_slice()
        ),
        ("\"BKFD\"", &["ort".to_owned()][..])
    );
    let text = |t: &str| Shown::Value(Value::Text(t.to_owned()));
    assert_eq!(
        verband.updated[0].changes,
        [ops::ChangedValue {
            column: "ort".into(),
            database: text("Kassel"),
            seed: text("Berlin"),
        }]
    );
    let values = |r: &ops::RowValues| -> Vec<(String, Shown)> {
        r.values
            .iter()
            .map(|v| (v.column.clone(), v.value.clone()))
            .collect()
    };
    assert_eq!(
        values(&verband.inserted_rows[0]),
        [
            ("name", text("Neuer Verband für Figurenschwimmen e.V.")),
            ("abkuerzung", text("NEUV")),
            ("land", text("Deutschland")),
            ("ort", text("Leipzig")),
        ]
        .map(|(c, v)| (c.to_owned(), v))
    );
    assert_eq!(verband.deleted_rows[0].key, "\"OFKF\"");
    assert!(
        values(&verband.deleted_rows[0]).contains(&("abkuerzung".into(), text("OFKF"))),
        "{:?}",
        verband.deleted_rows
    );
    assert_eq!(verband.deleted, ["\"OFKF\""]);
    assert_eq!(verband.kept.len(), 1);
    assert_eq!(verband.kept[0].key, "\"NANK\"");
    assert_eq!(
        verband.kept[0].reason,
        "the seed does not have it, but 1 kind row refers to it"
    );
    let figur = table("figur");
    assert_eq!(figur.inserted, ["\"Delfin\" / \"Delfin\""]);
    let updated: Vec<(&str, Vec<&str>)> = figur
        .updated
        .iter()
        .map(|u| {
            (
                u.key.as_str(),
                u.columns.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        updated,
        [
            ("\"Ballettbein\" / \"Ballettbein\"", vec!["video"]),
            (
                "\"Ballettbein beidbeinig\" / \"Ballettbein\"",
                vec!["beschreibung"]
            )
        ]
    );
    assert!(figur.deleted.is_empty());
    assert_eq!(
        figur.kept[0].key,
        "\"Umgekehrte Pike zur Vertikalen\" / \"Kombination\""
    );
    assert_eq!(
        figur.kept[0].reason,
        "the seed does not have it, but 2 anmeldung_figuren rows and 2 wettkampf_figuren rows refer to it"
    );
    let versicherung = table("versicherung");
    assert_eq!(versicherung.updated.len(), 1);
    assert_eq!(versicherung.unchanged, 17);

    // Every row of the app's own tables, exactly as it was (the new column
    // empty, the rebuilt table's rows with their ids and values).
    assert_eq!(rt.block_on(app_rows(&path)), app_before);
    assert_eq!(
        rt.block_on(one(
            &path,
            "SELECT count(*) FROM kind WHERE notiz IS NOT NULL"
        )),
        0
    );
    assert_eq!(
        rt.block_on(one(&path, "SELECT count(*) FROM kampfrichter")),
        0
    );

    // The schema version 2's schema.sql declares, as the fingerprint sees it.
    let v2_schema_sql = {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("seed-data");
        copy_dir(&repo().join("seed-data"), &dir);
        make_v2(&dir);
        std::fs::read_to_string(dir.join("schema.sql")).unwrap()
    };
    assert_eq!(
        rt.block_on(schema_of(&path)),
        rt.block_on(schema_of_sql(&v2_schema_sql))
    );

    // The reference tables hold the seed's rows, plus the two the app's rows
    // still point at; rows that stayed kept their ids.
    let mut expected = seed_reference(&v2);
    let live = rt.block_on(live_reference(&path, &v2));
    let nank = live["verband"]
        .iter()
        .find(|r| r.contains("NANK"))
        .unwrap()
        .clone();
    let pike = live["figur"]
        .iter()
        .find(|r| r.contains("Umgekehrte Pike"))
        .unwrap()
        .clone();
    expected.get_mut("verband").unwrap().push(nank);
    expected.get_mut("figur").unwrap().push(pike);
    for list in expected.values_mut() {
        list.sort();
    }
    assert_eq!(live, expected);
    let ids_after = rt.block_on(rows(
        &path,
        "SELECT abkuerzung, id FROM verband ORDER BY id",
    ));
    for row in &ids_before {
        if !row.contains("OFKF") {
            assert!(ids_after.contains(row), "{row} lost its id: {ids_after:?}");
        }
    }
    assert!(ids_after.last().unwrap().contains("NEUV"));
    let figur_ids_after = rt.block_on(rows(
        &path,
        "SELECT name, kategorie, id FROM figur ORDER BY id",
    ));
    assert_eq!(figur_ids_after[..26], figur_ids_before[..]);
    assert_eq!(
        rt.block_on(one(&path, "SELECT count(*) FROM pragma_foreign_key_check")),
        0
    );

    // Recorded, in step, and a second run has nothing to do.
    let recorded = rt.block_on(rows(
        &path,
        "SELECT version, name, how FROM _seedbake_migrations ORDER BY version",
    ));
    assert_eq!(
        recorded,
        [
            "Integer(1) | Text(\"initial\") | Text(\"reset\")",
            "Integer(2) | Text(\"notiz_video_kampfrichter\") | Text(\"migrate\")",
            "Integer(3) | Text(\"anmeldung_vorlaeufig_boolean\") | Text(\"migrate\")",
        ]
    );
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &v2).await.unwrap()
    });
    assert!(status.in_step, "{status:?}");
    assert_eq!(status.recorded, Some(3));
    let before_again = rt.block_on(common::dump(&path));
    let again = rt.block_on(migrate_local(&path, &v2)).unwrap();
    assert!(!again.changes, "{again:?}");
    assert_eq!(rt.block_on(common::dump(&path)), before_again);
}

/// The one value `rows` shows, as the text it is.
fn text_value(shown: &str) -> String {
    shown
        .strip_prefix("Text(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .unwrap_or_else(|| panic!("not a text: {shown}"))
        .to_owned()
}

#[test]
fn a_credential_columns_values_never_appear_in_a_report() {
    // Version 1 with the accounts as reference data too: their password
    // hashes (a bcrypt column, the admin's password column) are compared
    // like any column.
    let with_users = compile(|dir| {
        let path = dir.join("seed.toml");
        let manifest = std::fs::read_to_string(&path).unwrap();
        std::fs::write(path, manifest + "\n[[reference]]\ntable = \"users\"\n").unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    // The app's work adds the account "trainerin", which the seed does not have.
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let hash_of = |user: &str| {
        text_value(
            &rt.block_on(rows(
                &path,
                &format!("SELECT hashed_password FROM users WHERE username = '{user}'"),
            ))[0],
        )
    };
    let hashes = [hash_of("admin"), hash_of("fritz"), hash_of("trainerin")];
    let planted = "$2b$12$PLANTEDplantedPLANTEDpu5oZ8b2Hq9Vx3Lk7Ww1Ee4Rr6Tt0Yy";
    rt.block_on(common::execute(
        &path,
        &format!(
            "UPDATE users SET hashed_password = '{planted}', full_name = 'Chefin' WHERE username = 'admin';
             DELETE FROM users WHERE username = 'fritz';"
        ),
    ));

    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &with_users).await.unwrap()
    });
    let plan = rt.block_on(async {
        let target = common::open(&path).await;
        let opts = MigrateOptions {
            dry_run: true,
            ..Default::default()
        };
        ops::migrate(&*target, &with_users, &opts).await.unwrap()
    });
    for (what, reference, shown) in [
        (
            "status",
            &status.reference,
            format!("{}\n{status:?}", serde_json::to_string(&status).unwrap()),
        ),
        (
            "the plan",
            &plan.reference,
            format!("{}\n{plan:?}", serde_json::to_string(&plan).unwrap()),
        ),
    ] {
        let users = reference.iter().find(|t| t.table == "users").unwrap();
        // The changes are there, the hashes are not: an update, an insert and
        // a delete each show the column hidden.
        let admin = users.updated.iter().find(|u| u.key == "\"admin\"").unwrap();
        let hidden = |c: &ops::ChangedValue| {
            c.column == "hashed_password" && c.database == Shown::Hidden && c.seed == Shown::Hidden
        };
        assert!(admin.changes.iter().any(hidden), "{what}: {admin:?}");
        assert!(
            admin.changes.iter().any(|c| c.column == "full_name"
                && c.database == Shown::Value(Value::Text("Chefin".into()))),
            "{what}: the other columns show their values: {admin:?}"
        );
        let password_of = |r: &ops::RowValues| {
            r.values
                .iter()
                .find(|v| v.column == "hashed_password")
                .map(|v| v.value.clone())
        };
        assert_eq!(users.inserted_rows.len(), 1, "{what}");
        assert_eq!(users.inserted_rows[0].key, "\"fritz\"");
        assert_eq!(password_of(&users.inserted_rows[0]), Some(Shown::Hidden));
        assert_eq!(users.deleted_rows.len(), 1, "{what}");
        assert_eq!(users.deleted_rows[0].key, "\"trainerin\"");
        assert_eq!(password_of(&users.deleted_rows[0]), Some(Shown::Hidden));
        assert!(shown.contains(r#"{"hidden":true}"#), "{what}");
        for hash in hashes.iter().map(String::as_str).chain([planted]) {
            assert!(!shown.contains(hash), "{what} shows the hash {hash}");
        }
        assert!(!shown.contains("$2b$"), "{what} shows a hash");
    }
}

#[test]
fn a_dry_run_plans_exactly_what_the_migration_does_and_changes_nothing() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let plan = rt
        .block_on(async {
            let target = common::open(&path).await;
            ops::migrate(
                &*target,
                &v2,
                &MigrateOptions {
                    dry_run: true,
                    ..MigrateOptions::default()
                },
            )
            .await
        })
        .unwrap();
    assert!(plan.dry_run && plan.changes);
    assert_eq!(rt.block_on(common::dump(&path)), before);
    // Run with the confirmed plan, it does just that.
    let done = rt
        .block_on(async {
            let target = common::open(&path).await;
            ops::migrate(
                &*target,
                &v2,
                &MigrateOptions {
                    confirmed: Some(&plan),
                    ..MigrateOptions::default()
                },
            )
            .await
        })
        .unwrap();
    assert_eq!(done.reference, plan.reference);
    assert_eq!(done.applied, plan.applied);
}

#[test]
fn a_database_that_changed_after_its_plan_was_confirmed_is_refused() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let plan = rt
        .block_on(async {
            let target = common::open(&path).await;
            let opts = MigrateOptions {
                dry_run: true,
                ..MigrateOptions::default()
            };
            ops::migrate(&*target, &v2, &opts).await
        })
        .unwrap();
    // Meanwhile someone changes an insurer.
    rt.block_on(common::execute(
        &path,
        "UPDATE versicherung SET hauptsitz = 'Nirgendwo' WHERE kurz = 'AKS'",
    ));
    let before = rt.block_on(common::dump(&path));
    let e = rt
        .block_on(async {
            let target = common::open(&path).await;
            let opts = MigrateOptions {
                confirmed: Some(&plan),
                ..MigrateOptions::default()
            };
            ops::migrate(&*target, &v2, &opts).await
        })
        .unwrap_err();
    assert!(matches!(e, seedbake::Error::Unmigratable { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("the database changed after the plan was shown"),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_migration_that_fails_on_live_data_leaves_the_database_as_it_was() {
    // Version 2, plus a unique index that the app's data breaks: Lina got
    // a contract number another child has. It runs on an empty database
    // (the build proves that) and fails here, after 0002 and 0003 ran.
    let broken = compile(|d| {
        make_v2(d);
        std::fs::write(
            d.join("migrations/0004_vertrag_unique.sql"),
            "CREATE UNIQUE INDEX ix_kind_vertrag ON kind (vertrag);\n",
        )
        .unwrap();
        let path = d.join("schema.sql");
        let mut schema = std::fs::read_to_string(&path).unwrap();
        schema.push_str("CREATE UNIQUE INDEX ix_kind_vertrag ON kind (vertrag);\n");
        std::fs::write(path, schema).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let e = rt.block_on(migrate_local(&path, &broken)).unwrap_err();
    assert!(matches!(e, seedbake::Error::RolledBack { .. }), "{e}");
    let said = e.to_string();
    assert!(
        said.contains("applying migration 0004_vertrag_unique failed")
            && said.contains("UNIQUE constraint failed: kind.vertrag")
            && said.contains("rolled back"),
        "{said}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_key_left_dangling_at_the_end_rolls_everything_back() {
    // A migration that deletes a verband the seed's children point at: the
    // sync puts the row back under a new id, the children still name the
    // old one, and the check before the commit stops it all.
    let broken = compile(|d| {
        make_v2(d);
        std::fs::write(
            d.join("migrations/0004_drop_hvfk.sql"),
            "DELETE FROM verband WHERE abkuerzung = 'HVFK';\n",
        )
        .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let e = rt.block_on(migrate_local(&path, &broken)).unwrap_err();
    assert!(matches!(e, seedbake::Error::RolledBack { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("checking foreign keys failed")
            && e.contains("\"kind\" row")
            && e.contains("refers to a missing \"verband\" row")
            && e.contains("rolled back"),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_removed_row_still_referred_to_stops_a_fail_policy_before_any_change() {
    let strict = compile(|d| {
        make_v2(d);
        replace(
            d,
            "seed.toml",
            "table = \"verband\"",
            "table = \"verband\"\nremoved = \"fail\"",
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &strict).await.unwrap()
    });
    let e = rt.block_on(migrate_local(&path, &strict)).unwrap_err();
    assert!(matches!(e, seedbake::Error::Unmigratable { .. }), "{e}");
    // status said so beforehand, in the same words: found on the rows as
    // they are, which the pending migrations run before.
    assert!(
        !status.in_step && status.refusals.is_empty() && status.migrate_would_refuse(),
        "{status:?}"
    );
    assert_eq!(status.after_migrations.len(), 1, "{status:?}");
    assert!(
        e.to_string().contains(&format!(
            "after the pending migrations (applied in the transaction, then rolled back): {}",
            status.after_migrations[0]
        )),
        "{status:?}\n{e}"
    );
    assert!(
        e.to_string().contains(
            "the seed no longer has verband row \"NANK\" (1 kind row refers to it) that the database still refers to, \
             and its policy is removed = \"fail\""
        ),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_changed_natural_key_that_collides_with_a_kept_row_is_refused_by_status_and_migrate_alike() {
    // The seed renames BKFD to BKDE: by key, a new row. The old one stays
    // (children point at it) and holds the name the new one needs: no
    // order of statements can make that, so it is refused before any
    // change, naming both rows, the column and what to do.
    let renamed = compile(|d| {
        replace(d, "verbaende.csv", ",BKFD,", ",BKDE,");
        replace(d, "kind.csv", ",BKFD,", ",BKDE,");
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &renamed).await.unwrap()
    });
    let e = rt.block_on(migrate_local(&path, &renamed)).unwrap_err();
    assert!(matches!(e, seedbake::Error::Unmigratable { .. }), "{e}");
    let e = e.to_string();
    let expected = "the seed's verband row \"BKDE\" would have name = \"Bundesverband Kunst- und Figurenschwimmen \
                    Deutschland e.V.\", which the row \"BKFD\" has, and it stays (the seed does not have it, but";
    assert!(
        e.contains(expected)
            && e.contains("the UNIQUE index ix_verband_name allows one such row")
            && e.contains("change the key of \"BKFD\" in the database first"),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
    assert!(!status.in_step, "{status:?}");
    assert_eq!(status.refusals.len(), 1, "{status:?}");
    assert!(e.contains(&status.refusals[0]), "{status:?}\n{e}");
}
