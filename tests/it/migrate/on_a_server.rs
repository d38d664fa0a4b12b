//! The story on the Hrana test server.

use super::*;

pub(super) async fn open_remote(server: &TestServer) -> Box<dyn Target> {
    let location = database::parse_url(&server.url()).unwrap();
    assert!(matches!(location, Location::Remote { .. }));
    database::open(
        location,
        Settings {
            auth_token: Some(server.token.clone()),
            lock_timeout: Duration::from_secs(2),
            ..Settings::default()
        },
    )
    .await
    .unwrap()
}

#[test]
fn the_story_on_a_server_equals_the_story_on_a_file_and_a_failure_at_any_request_changes_nothing() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();

    // The same database twice: a local file, and a file the server serves.
    let local_dir = dir.path().join("local");
    std::fs::create_dir(&local_dir).unwrap();
    let local = v1_with_app_work(&local_dir);
    let served = dir.path().join("server.db");
    std::fs::copy(&local, &served).unwrap();
    let server = TestServer::start(&served, TOKEN, &["--stream-expiry-ms", "500"]);

    let before = rt.block_on(common::dump(&served));
    // Fail every request from the k-th on, for growing k: each attempt must
    // leave the database exactly as it was, until one gets through.
    let mut k = 1;
    let report = loop {
        server.faults(&format!(r#"{{"fail_after_requests": {k}}}"#));
        let outcome = rt.block_on(async {
            let target = open_remote(&server).await;
            ops::migrate(&*target, &v2, &MigrateOptions::default()).await
        });
        server.faults("{}");
        match outcome {
            Ok(report) => break report,
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        seedbake::Error::RolledBack { .. }
                            | seedbake::Error::Unreachable { .. }
                            | seedbake::Error::Database { .. }
                    ),
                    "attempt {k}: {e}"
                );
                // The server drops an abandoned stream, and its transaction.
                std::thread::sleep(Duration::from_millis(1200));
                assert_eq!(
                    rt.block_on(common::dump(&served)),
                    before,
                    "attempt {k} changed the database: {e}"
                );
            }
        }
        k += 1;
        assert!(k < 40, "no attempt got through");
    };
    assert!(
        k > 3,
        "the failures must have hit the migration itself (k = {k})"
    );
    // seedbake's client asks for a batch's reads' rows, so reads ride with
    // the writes before them, whatever the number of rows; every write
    // travels with the commit at the latest. 6 as measured (11 at the last
    // stop; issue 19 asks for 4): the lock, the records with the reference
    // rows, the migration with the reads after it, the counts of the rows
    // that refer to removed reference rows, the sync with the foreign-key
    // check, the COMMIT.
    let traffic = report.traffic.clone().unwrap();
    assert!(traffic.requests <= 6, "{} requests", traffic.requests);

    let local_report = rt.block_on(migrate_local(&local, &v2)).unwrap();
    assert_eq!(local_report.reference, report.reference);
    assert_eq!(local_report.applied, report.applied);

    // Row for row the same as the local file; the schema the same as the
    // fingerprint sees it (the client re-renders SQL text).
    let rows_of = |path: &Path| {
        rt.block_on(common::dump(path))
            .into_iter()
            .filter(|l| !l.starts_with("_seedbake") && !l.contains(": CREATE"))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows_of(&served), rows_of(&local));
    assert_eq!(
        rt.block_on(schema_of(&served)),
        rt.block_on(schema_of(&local))
    );

    let status = rt.block_on(async {
        let target = open_remote(&server).await;
        ops::status(&*target, &v2).await.unwrap()
    });
    assert!(status.in_step, "{status:?}");
}
