//! Stopping an apply part way: a [`Gate`] every change passes through just
//! before its first request. Once stopped, no change starts; the gate knows
//! which changes are under way, so an apply cut short can name them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::model::Change;

/// Shared by every site of one apply.
#[derive(Debug, Default)]
pub struct Gate {
    stopped: AtomicBool,
    next: AtomicU64,
    /// Changes under way, by ticket, as `site S: user x created`.
    in_flight: Mutex<BTreeMap<u64, String>>,
    /// Advanced by one as each started change ends.
    progress: std::sync::OnceLock<crate::progress::Progress>,
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    /// No change starts from now on.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// The gate of one site.
    pub fn site<'a>(&'a self, site: &'a str) -> SiteGate<'a> {
        SiteGate { gate: self, site }
    }

    /// The changes under way now, in the order they started, each once.
    pub fn in_flight(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.in_flight
            .lock()
            .expect("gate lock")
            .values()
            .filter(|w| seen.insert(w.as_str()))
            .cloned()
            .collect()
    }

    /// Advance `progress` by one as each started change ends.
    pub fn count_into(&self, progress: crate::progress::Progress) {
        let _ = self.progress.set(progress);
    }

    fn enter(&self, what: String, first: bool) -> Pass<'_> {
        let ticket = self.next.fetch_add(1, Ordering::SeqCst);
        self.in_flight
            .lock()
            .expect("gate lock")
            .insert(ticket, what);
        Pass {
            gate: self,
            ticket,
            first,
        }
    }
}

/// One site's view of the gate.
#[derive(Clone, Copy)]
pub struct SiteGate<'a> {
    gate: &'a Gate,
    site: &'a str,
}

impl<'a> SiteGate<'a> {
    /// Lets `change` start, or `None` once the apply was stopped. The
    /// change counts as under way until the pass is dropped.
    pub fn start(&self, change: &Change) -> Option<Pass<'a>> {
        if self.gate.is_stopped() {
            return None;
        }
        Some(self.gate.enter(describe(self.site, change), true))
    }

    /// A further request of a change already started (it is finished even
    /// after a stop, so the change is not left half done).
    pub fn resume(&self, change: &Change) -> Pass<'a> {
        self.gate.enter(describe(self.site, change), false)
    }

    pub fn site_name(&self) -> &'a str {
        self.site
    }

    pub fn is_stopped(&self) -> bool {
        self.gate.is_stopped()
    }
}

/// A change under way; dropping it marks it done.
pub struct Pass<'a> {
    gate: &'a Gate,
    ticket: u64,
    /// Made by [`SiteGate::start`]: its end counts one change in progress.
    first: bool,
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.gate.in_flight.lock() {
            m.remove(&self.ticket);
        }
        if let (true, Some(progress)) = (self.first, self.gate.progress.get()) {
            progress.inc(1);
        }
    }
}

/// `site acme: create user ada@acme.com`.
fn describe(site: &str, change: &Change) -> String {
    let verb = match change.action() {
        crate::model::Action::Create => "create",
        crate::model::Action::Update => "update",
        crate::model::Action::Delete => match change {
            Change::DeactivateUser { .. } => "deactivate",
            _ => "delete",
        },
    };
    // Keys come from the state and from live sites: shown escaped.
    format!(
        "site {}: {verb} {} {}",
        crate::escape::text(site),
        change.kind().as_str(),
        crate::escape::text(change.key())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delete(email: &str) -> Change {
        Change::DeleteUser {
            email: email.into(),
        }
    }

    #[test]
    fn a_stopped_gate_starts_nothing_and_names_what_is_under_way() {
        let gate = Gate::new();
        let site = gate.site("acme");
        let a = site.start(&delete("a@x.com")).expect("open");
        let b = site.start(&delete("b@x.com")).expect("open");
        drop(a);
        gate.stop();
        assert!(site.start(&delete("c@x.com")).is_none());
        assert_eq!(gate.in_flight(), ["site acme: delete user b@x.com"]);
        let again = site.resume(&delete("b@x.com"));
        drop(b);
        drop(again);
        assert!(gate.in_flight().is_empty());
    }
}
