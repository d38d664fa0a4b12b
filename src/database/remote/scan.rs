//! A whole table read in pages (`pages.rs`) on the stream of the open
//! snapshot or transaction, and the first pages of many tables fetched
//! ahead in one request.

use std::time::{Duration, Instant};

use super::batch::SIZE_SQL;
use super::{
    FIRST_PAGE_ROWS, MAX_PAGE_ROWS, PAGE_BYTES, PAGE_TIME, PREFETCH_BYTES, PREFETCH_TABLES, Remote,
    SMALL_DATABASE, WHOLE_TABLE,
};
use crate::database::failure::{DbError, Kind};
use crate::database::hrana::proto;
use crate::database::pages::{self, Cell, PageError, Pager, Shape, Shapes};
use crate::database::{RowFn, Target};
use crate::schema::TableScan;
use crate::value::{Value, ValueRef};

impl Remote {
    /// A table's columns and whether it has a rowid. Every table's shape is
    /// read at once, in one query, and kept until the next write.
    async fn shape(&self, table: &str) -> Result<Shape, DbError> {
        if self.shapes.borrow().is_none() {
            let shapes = pages::shapes(self as &dyn Target).await?;
            *self.shapes.borrow_mut() = Some(shapes);
        }
        self.shapes
            .borrow()
            .as_ref()
            .and_then(|s| s.get(table).cloned())
            .ok_or_else(|| DbError::new(Kind::Engine, format!("there is no table {table} to read")))
    }

    /// The time a page should take: a second, or less under a short
    /// `--timeout` (a page must never be what runs into it).
    fn page_aim(&self) -> Duration {
        PAGE_TIME.min(self.settings.request_timeout / 4)
    }

    /// One page: its rows handed to `f`; the last row's values, the number
    /// of rows and of bytes, and the limit it was fetched ahead with.
    async fn page(
        &self,
        pager: &Pager,
        after: Option<&[Value]>,
        limit: usize,
        f: RowFn<'_>,
    ) -> Result<(Option<Vec<Cell<'static>>>, usize, usize, Option<usize>), DbError> {
        let fetched = match after {
            None if limit == FIRST_PAGE_ROWS => {
                let mut held = self.first_pages.borrow_mut();
                match held.get(pager) {
                    // A whole table stays for another scan of the same
                    // state (extract reads its tables and fingerprints them).
                    Some((_, _, WHOLE_TABLE)) => held.get(pager).cloned(),
                    _ => held.remove(pager),
                }
            }
            _ => None,
        };
        let prefetched = fetched.as_ref().map(|(_, _, limit)| *limit);
        let (counted, text) = match fetched {
            Some((counted, text, _)) => (counted, text),
            None => {
                self.fetch_page(&pager.page_sql(after.is_some(), limit), after)
                    .await?
            }
        };
        let (last, n) = pages::each_row(&text, pager.width(), &mut |cells| {
            let values: Vec<ValueRef<'_>> = cells.iter().map(Cell::as_ref).collect();
            f(&values)
        })
        .map_err(|e| match e {
            PageError::Stopped(stopped) => stopped,
            PageError::Unreadable(why) => DbError::new(Kind::Engine, why),
        })?;
        if counted != n as i64 {
            return Err(DbError::new(
                Kind::Engine,
                format!("the server counted {counted} rows in a page of {n}"),
            ));
        }
        Ok((last, n, text.len(), prefetched))
    }

    /// A page from the server: its row count and its rows.
    async fn fetch_page(
        &self,
        sql: &str,
        after: Option<&[Value]>,
    ) -> Result<(i64, String), DbError> {
        let answer = self.ask(sql, args(after), true).await?;
        let Some(row) = answer.first() else {
            return Err(DbError::new(
                Kind::Engine,
                "the server answered a page with nothing",
            ));
        };
        let counted = match row.first() {
            Some(Value::Integer(n)) => *n,
            _ => -1,
        };
        let text = match row.get(1) {
            Some(Value::Text(t)) => t.clone(),
            _ => String::new(),
        };
        Ok((counted, text))
    }

    /// The next row alone, through a plain query (no page to make): its
    /// values go to `f`; its keys come back, or nothing at the table's end.
    async fn one_row(
        &self,
        pager: &Pager,
        after: Option<&[Value]>,
        f: RowFn<'_>,
    ) -> Result<Option<Vec<Value>>, DbError> {
        let sql = pager.row_sql(after.is_some());
        let answer = self.ask(&sql, args(after), true).await?;
        let Some(row) = answer.first() else {
            return Ok(None);
        };
        if row.len() < pager.width() {
            return Err(DbError::new(
                Kind::BadAnswer,
                "the server answered a row short of its columns",
            ));
        }
        let values: Vec<ValueRef<'_>> = row.iter().map(Value::as_ref).collect();
        f(&values[..pager.width()])?;
        Ok(Some(
            pager.key_positions().map(|i| row[i].clone()).collect(),
        ))
    }

    /// Reads a whole table in pages, each sized from what the last cost.
    pub(super) async fn scan_table(
        &self,
        scan: &TableScan<'_>,
        f: RowFn<'_>,
    ) -> Result<(), DbError> {
        let shape = self.shape(scan.table).await?;
        let pager = Pager::new(scan, &shape).map_err(|m| DbError::new(Kind::Engine, m))?;
        let mut after: Option<Vec<Value>> = None;
        let mut limit = FIRST_PAGE_ROWS;
        loop {
            let started = Instant::now();
            let (last, n, bytes, prefetched) =
                match self.page(&pager, after.as_deref(), limit, f).await {
                    // Rows far larger than the last ones (or the first page of
                    // a table of big rows): the server refused to make the page
                    // (sqld's engine makes no string over 5,000,000 bytes, and
                    // answers no more than 10 MB) before sending any row, and
                    // the stream goes on. Smaller pages, down to one row; a row
                    // whose page alone is too big is read as it is.
                    Err(e) if e.kind == Kind::TooLarge && limit > 1 => {
                        limit = (limit / 8).max(1);
                        continue;
                    }
                    Err(e) if e.kind == Kind::TooLarge => {
                        match self.one_row(&pager, after.as_deref(), f).await? {
                            Some(keys) => after = Some(keys),
                            None => return Ok(()),
                        }
                        continue;
                    }
                    page => page?,
                };
            let Some(last) = last.filter(|_| n == prefetched.unwrap_or(limit)) else {
                return Ok(());
            };
            after = Some(
                pager
                    .key_positions()
                    .map(|i| Value::from(last[i].as_ref()))
                    .collect(),
            );
            let by_bytes = PAGE_BYTES * n / bytes.max(1);
            let took = started.elapsed().as_secs_f64().max(1e-3);
            // A page fetched ahead says nothing of what a page costs.
            let by_time = if prefetched.is_some() {
                n * 8
            } else {
                (self.page_aim().as_secs_f64() / took * n as f64) as usize
            };
            limit = by_bytes.min(by_time).clamp(1, MAX_PAGE_ROWS);
        }
    }

    /// Fetches the first pages of `scans`' tables, several tables a
    /// statement and every statement in one request: in a small database
    /// each table whole, and a read snapshot committed with them (nothing
    /// is left to read in it). When the server refuses that request (one
    /// answer over its cap), a statement a request, as long as they are
    /// cheap.
    pub(super) async fn prefetch_pages(&self, scans: &[TableScan<'_>]) -> Result<(), DbError> {
        let mut pagers = Vec::with_capacity(scans.len());
        for scan in scans {
            // A table that cannot be paged is refused by its own scan; one
            // asked for twice is fetched once.
            if let Ok(pager) = Pager::new(scan, &self.shape(scan.table).await?)
                && !pagers.contains(&pager)
            {
                pagers.push(pager);
            }
        }
        {
            let mut held = self.first_pages.borrow_mut();
            // Fetched ahead already, with more (extract's own scans and the
            // fingerprint's, in the request that ends the snapshot).
            if pagers.iter().all(|p| held.contains_key(p)) {
                return Ok(());
            }
            held.clear();
        }
        let groups: Vec<&[Pager]> = pagers.chunks(PREFETCH_TABLES).collect();
        let small = self.database_bytes().is_some_and(|b| b <= SMALL_DATABASE);
        let limit = if small { WHOLE_TABLE } else { FIRST_PAGE_ROWS };
        // Only whole tables may end the transaction: nothing of them is
        // left to read. Pages follow first pages, so nothing read after
        // them is the last either.
        let ends = small.then(|| self.ending()).flatten();
        if !small {
            self.last_reads.set(false);
        }
        let statements: Vec<String> = groups
            .iter()
            .map(|g| pages::first_pages_sql(&g.iter().collect::<Vec<_>>(), limit))
            .collect();
        if let Some(answers) = small.then(|| self.speculated(&statements)).flatten() {
            self.keep_prefetched(&groups, answers, limit);
            return Ok(());
        }
        let reads: Vec<&str> = statements.iter().map(String::as_str).collect();
        let wrote = self.has_pending() || self.reopens();
        match self.exchange(&reads, false, ends).await {
            Ok(answers) => {
                self.keep_prefetched(&groups, answers, limit);
                Ok(())
            }
            // An answer over the server's cap (sqld: 10 MB): the first
            // pages a group a request. A step's failure leaves the
            // transaction open (its end did not run); a failed request
            // that may have ended it has it begun again, checked
            // (`ending.rs`).
            Err(e) if !wrote && e.kind == Kind::TooLarge => self.prefetch_by_group(&groups).await,
            Err(e) => Err(e),
        }
    }

    /// Keeps the first pages `answers` hold, a group's in each.
    fn keep_prefetched(&self, groups: &[&[Pager]], answers: Vec<super::Answer>, limit: usize) {
        for (group, answer) in groups.iter().zip(answers) {
            self.keep_first_pages(group, &answer, limit);
        }
    }

    /// Sends, with the next request, the whole tables `scans` will read
    /// once the pending writes give them `shapes` (see
    /// [`Target::expect_prefetch`]): each group's statement as
    /// `prefetch_pages` would make it for a small database, with a guard
    /// that answers no row in a database that is not small.
    pub(super) fn speculate(&self, shapes: &Shapes, scans: &[TableScan<'_>]) {
        let pagers: Vec<Pager> = scans
            .iter()
            .filter_map(|scan| Pager::new(scan, shapes.get(scan.table)?).ok())
            .collect();
        let mut speculated = self.speculated.borrow_mut();
        let mut expected = self.expected.borrow_mut();
        for group in pagers.chunks(PREFETCH_TABLES) {
            let sql = pages::first_pages_sql(&group.iter().collect::<Vec<_>>(), WHOLE_TABLE);
            let guarded = format!("{sql} WHERE ({SIZE_SQL}) <= {SMALL_DATABASE}");
            expected.push(guarded.clone());
            speculated.insert(sql, guarded);
        }
    }

    /// The answers to `statements` read ahead by [`Remote::speculate`] at
    /// the database's current state, if every one was. The statements are
    /// made from the tables' shapes as this state has them, so one that
    /// equals a speculated one reads what it would read itself.
    fn speculated(&self, statements: &[String]) -> Option<Vec<super::Answer>> {
        let speculated = self.speculated.borrow();
        statements
            .iter()
            .map(|sql| {
                let answer = self.answered(speculated.get(sql)?)?;
                // The guard held: a row, however empty the tables.
                (answer.len() == 1).then_some(answer)
            })
            .collect()
    }

    /// The first pages a group a request: a group too large is left to its
    /// scans.
    async fn prefetch_by_group(&self, groups: &[&[Pager]]) -> Result<(), DbError> {
        let mut held = 0;
        for group in groups {
            if held >= PREFETCH_BYTES {
                break;
            }
            let started = Instant::now();
            let refs: Vec<&Pager> = group.iter().collect();
            let sql = pages::first_pages_sql(&refs, FIRST_PAGE_ROWS);
            let answer = match self.ask(&sql, Vec::new(), true).await {
                // A page longer than the server's longest string: these
                // tables' scans read them in smaller pages.
                Err(e) if e.kind == Kind::TooLarge => continue,
                read => read?,
            };
            held += self.keep_first_pages(group, &answer, FIRST_PAGE_ROWS);
            // First pages that cost more than a page should (a table
            // without a key is sorted whole to find its first rows): the
            // rest are read a table a request, each inside the aim.
            if started.elapsed() > self.page_aim() {
                break;
            }
        }
        Ok(())
    }

    /// Keeps each pager's first page from the group's answer, one text
    /// (count, space, rows) a table in its one row; answers how many bytes
    /// are now held.
    fn keep_first_pages(&self, group: &[Pager], answer: &super::Answer, limit: usize) -> usize {
        let mut held = 0;
        let mut cache = self.first_pages.borrow_mut();
        let texts = answer.first().into_iter().flatten();
        for (pager, text) in group.iter().zip(texts) {
            let Value::Text(text) = text else { continue };
            let mut text = text.clone();
            let Some((count, rows)) = pages::split_first_page(&text) else {
                continue;
            };
            let count_len = text.len() - rows.len();
            text.drain(..count_len);
            held += text.len();
            cache.insert(pager.clone(), (count, text, limit));
        }
        held
    }
}

/// A page's arguments: the keys of the row it starts after.
fn args(after: Option<&[Value]>) -> Vec<proto::Value> {
    after
        .into_iter()
        .flatten()
        .map(|v| proto::Value::of(v.as_ref()))
        .collect()
}
