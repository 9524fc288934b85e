//! The drain state in memory (tests, the local runner), with the same rules as DynamoDB's; it
//! can be told to fail.

use super::{
    Claim, DrainRecord, DrainState, StateError, check_backend, check_record, check_seen_key,
};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default)]
pub struct MemoryState {
    records: Mutex<HashMap<String, DrainRecord>>,
    /// [`DrainState::note_once`] keys and when each expires.
    seen: Mutex<HashMap<String, i64>>,
    fail_next: Mutex<usize>,
}

impl MemoryState {
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// The next `n` calls (of any operation) fail with [`StateError::Unavailable`] and change
    /// nothing, as an unreachable table would.
    pub fn fail_next(&self, n: usize) {
        *self.fail_next.lock().expect("not poisoned") = n;
    }

    /// Forgets every record and noted key (a fresh table).
    pub fn clear(&self) {
        self.records.lock().expect("not poisoned").clear();
        self.seen.lock().expect("not poisoned").clear();
    }

    /// Every stored record, expired ones included, by backend.
    pub fn records(&self) -> Vec<DrainRecord> {
        let mut all: Vec<DrainRecord> = self
            .records
            .lock()
            .expect("not poisoned")
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.backend.cmp(&b.backend));
        all
    }

    /// Every key recorded by [`DrainState::note_once`], expired ones included, with its expiry.
    pub fn seen(&self) -> Vec<(String, i64)> {
        let mut all: Vec<(String, i64)> = self
            .seen
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|(k, e)| (k.clone(), *e))
            .collect();
        all.sort();
        all
    }

    /// The records, unless an injected failure is due.
    fn open(&self) -> Result<MutexGuard<'_, HashMap<String, DrainRecord>>, StateError> {
        let mut fail = self.fail_next.lock().expect("not poisoned");
        if *fail > 0 {
            *fail -= 1;
            return Err(StateError::Unavailable("injected failure".into()));
        }
        Ok(self.records.lock().expect("not poisoned"))
    }
}

impl DrainState for MemoryState {
    async fn claim(&self, record: &DrainRecord) -> Result<Claim, StateError> {
        check_record(record)?;
        let now = super::now_epoch();
        let mut records = self.open()?;
        match records.get(&record.backend) {
            Some(existing) if existing.is_expired_at(now) => {}
            Some(existing) if existing.refuses(record) => {
                return Ok(Claim::Resolved(existing.clone()));
            }
            Some(existing) if existing.is_resolution() => {}
            Some(existing) => return Ok(Claim::Held(existing.clone())),
            None => {}
        }
        records.insert(record.backend.clone(), record.clone());
        Ok(Claim::Created)
    }

    async fn resolve(
        &self,
        backend: &str,
        alert_key: &str,
        resolved_at: i64,
        expires_at: i64,
    ) -> Result<(), StateError> {
        check_backend(backend)?;
        let now = super::now_epoch();
        let mut records = self.open()?;
        match records.get(backend) {
            Some(r) if r.is_expired_at(now) => {}
            // A newer resolution of the same alert stays.
            Some(r)
                if r.is_resolution()
                    && r.alert_key == alert_key
                    && r.resolved_at >= Some(resolved_at) =>
            {
                return Ok(());
            }
            Some(r) if r.is_resolution() => {}
            Some(r) if r.alert_key != alert_key => {
                return Err(StateError::Conflict(format!(
                    "{backend}: held by {}",
                    r.alert_key
                )));
            }
            _ => {}
        }
        let resolution = DrainRecord::resolution(backend, alert_key, resolved_at, expires_at);
        records.insert(backend.to_string(), resolution);
        Ok(())
    }

    async fn get(&self, backend: &str) -> Result<Option<DrainRecord>, StateError> {
        check_backend(backend)?;
        let now = super::now_epoch();
        let records = self.open()?;
        Ok(records
            .get(backend)
            .filter(|r| !r.is_expired_at(now) && !r.is_resolution())
            .cloned())
    }

    async fn release(&self, backend: &str, alert_key: &str) -> Result<(), StateError> {
        check_backend(backend)?;
        let now = super::now_epoch();
        let mut records = self.open()?;
        match records.get(backend) {
            None => Ok(()),
            // A resolution holds nothing, so there is nothing to release.
            Some(r) if r.is_resolution() => Ok(()),
            Some(r) if r.alert_key == alert_key => {
                records.remove(backend);
                Ok(())
            }
            Some(r) if r.is_expired_at(now) => Ok(()),
            Some(r) => Err(StateError::Conflict(format!(
                "{backend}: held by {}",
                r.alert_key
            ))),
        }
    }

    async fn note_once(&self, key: &str, expires_at: i64) -> Result<bool, StateError> {
        check_seen_key(key)?;
        let now = super::now_epoch();
        // The records' lock first, as every operation takes it (and injected failures apply).
        let _records = self.open()?;
        let mut seen = self.seen.lock().expect("not poisoned");
        match seen.get(key) {
            Some(&live) if live >= now => Ok(false),
            _ => {
                seen.insert(key.to_string(), expires_at);
                Ok(true)
            }
        }
    }
}
