//! The proof's reads asked for before the writes are sent, so that a
//! server reads the loaded tables back in the request that carries the
//! writes rather than in one of its own: after a load the schema is the
//! seed's, so the statements the proof will make can be made ahead from
//! the seed's own tables, in a database in memory. The server uses them
//! only if the tables it finds have exactly those shapes (see
//! [`Target::expect_prefetch`]); if not, the proof reads as before.

use crate::database::{self, Target};
use crate::fingerprint;
use crate::seed;

/// Asks `target` to read the loaded tables as the proof will, with its
/// next request. A model that cannot be made asks for nothing: the proof
/// then reads on its own.
pub(crate) async fn expect_proof(target: &dyn Target) {
    if !target.location().is_remote() {
        return;
    }
    let Ok(model) = super::draft::memory().await else {
        return;
    };
    if model.execute_batch(seed::get().schema_sql).await.is_err() {
        return;
    }
    let (Ok(shapes), Ok(tables)) = (
        database::shapes(&model).await,
        fingerprint::fingerprinted_tables(&model).await,
    ) else {
        return;
    };
    let excluded = seed::get().unfingerprinted();
    target.expect_prefetch(&shapes, &fingerprint::table_scans(&tables, &excluded));
}
