//! Submissions in flight: written before the generate call (what was asked, no id yet) and
//! ended when the id is kept. One left behind means the process stopped during the call: the
//! service may have created (and billed) a task no client can find again, since it has no
//! endpoint that lists tasks. The history shows these as "submitted, id unknown".

use rusqlite::params;
use serde::Serialize;

use super::history::{History, Params, Result};
use crate::api::GenerateRequest;

/// What the history shows for a submission whose task id never arrived.
pub const ID_UNKNOWN: &str = "submitted, id unknown: check the service's logs";

/// A generate call whose answer was never kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InFlight {
    pub key: String,
    pub base_url: String,
    pub params: Params,
    /// Milliseconds since the epoch.
    pub started_at: i64,
}

impl History {
    /// Records that a generate call for `request` is about to be made.
    pub fn begin_in_flight(
        &self,
        key: &str,
        base_url: &str,
        request: &GenerateRequest,
        started_at: i64,
    ) -> Result<()> {
        let request = serde_json::to_string(request).unwrap_or_else(|_| "{}".into());
        self.conn()
            .execute(
                "INSERT INTO in_flight (key, base_url, request, started_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
                params![key, base_url, request, started_at],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The call's answer is known (its task kept, or surely no task made).
    pub fn end_in_flight(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM in_flight WHERE key = ?1", params![key])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every submission still in flight, oldest first.
    pub fn in_flight(&self) -> Result<Vec<InFlight>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, base_url, request, started_at FROM in_flight
                 ORDER BY started_at ASC, rowid ASC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let request: String = r.get(2)?;
                let request: GenerateRequest = serde_json::from_str(&request).unwrap_or_default();
                Ok(InFlight {
                    key: r.get(0)?,
                    base_url: r.get(1)?,
                    params: Params::from_request(&request),
                    started_at: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}
