//! A gate on the plan's work that noise cannot fool: the plan of 10,000
//! people (the scale benchmark's case, no changes), counted by this
//! binary's allocator rather than timed. Allocations, bytes allocated and
//! the peak of the heap are the same from run to run and machine to
//! machine, so a change that makes the plan copy or index its people again
//! moves them, where a timing would drown in the noise of a shared machine.
//!
//! Counted: reading the state (load, checks, warnings), expiry, planning
//! both sites against their live state, and the text and JSON plans.
//! Reading the sites over HTTP is left out (its allocations follow how the
//! bytes arrive); `cargo bench --bench scale` times it.
//!
//! The two steps, reading the state and making and rendering the plan,
//! are counted apart, so that doubling either shows whole. Each figure
//! must stay within +25% of `tests/plan_work.baseline`; one more than 25%
//! under it fails too, so the baseline keeps up with improvements. Write the current figures into it with
//!
//!     ROSTER_WORK_BASELINE=write cargo test --test plan_work
//!
//! Its own binary (`harness = false`): no other test runs while it counts.

// The gate reports its figures on standard output.
#![allow(clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use roster::model::{LiveGroup, LiveSite, LiveUser};

const PEOPLE: usize = 10_000;
/// How far above (or below) its baseline a figure may go.
const ALLOWED: f64 = 0.25;
const BASELINE: &str = "tests/plan_work.baseline";

/// The system allocator, counting.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let live = LIVE.fetch_add(by, Relaxed) + by;
        PEAK.fetch_max(live, Relaxed);
    }
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        Counting::grew(layout.size());
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        Counting::grew(new_size);
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What one step of the plan's work came to.
#[derive(Debug, Clone, Copy)]
struct Work {
    allocations: usize,
    allocated: usize,
    peak: usize,
}

impl Work {
    /// Each figure, named as in the baseline file after its step.
    fn figures(self, step: &str) -> [(String, usize); 3] {
        [
            (format!("{step}.allocations"), self.allocations),
            (format!("{step}.bytes_allocated"), self.allocated),
            (format!("{step}.peak_heap_bytes"), self.peak),
        ]
    }
}

/// Counts what `f` allocates, and the most it holds at once beyond what
/// was held before.
fn counted<T>(f: impl FnOnce() -> T) -> (T, Work) {
    let (allocations, allocated) = (ALLOCATIONS.load(Relaxed), ALLOCATED.load(Relaxed));
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let value = f();
    let work = Work {
        allocations: ALLOCATIONS.load(Relaxed) - allocations,
        allocated: ALLOCATED.load(Relaxed) - allocated,
        peak: PEAK.load(Relaxed) - before,
    };
    (value, work)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let live = write_case(dir.path(), PEOPLE);
    // One thread: the pieces of the state file are read one after the
    // other, so the peak is the same on any machine.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let state = dir.path().join("state");
    // Each step counted apart: doubling either one shows.
    let figures: Vec<(String, usize)> = pool.install(|| {
        let ((desired, read), loading) =
            counted(|| roster::state::load_counted(&state, today).expect("the case is valid"));
        let (changes, planning) = counted(|| plan_and_render(&desired, read, &live, today));
        assert_eq!(changes, 0, "the case is live as declared");
        loading
            .figures("state")
            .into_iter()
            .chain(planning.figures("plan"))
            .collect()
    });
    let baseline_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(BASELINE);
    if std::env::var("ROSTER_WORK_BASELINE").as_deref() == Ok("write") {
        std::fs::write(&baseline_path, baseline_text(&figures)).unwrap();
        println!(
            "wrote {}:\n{}",
            baseline_path.display(),
            baseline_text(&figures)
        );
        return;
    }
    let baseline = std::fs::read_to_string(&baseline_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with ROSTER_WORK_BASELINE=write",
            baseline_path.display()
        )
    });
    println!(
        "plan of {PEOPLE} people, counted: the state read, then the plan made and rendered (baseline {BASELINE}, ±{:.0}% allowed):",
        ALLOWED * 100.0
    );
    let mut failed = false;
    for (name, now) in &figures {
        let then = baseline_figure(&baseline, name)
            .unwrap_or_else(|| panic!("{}: no `{name} N` line", baseline_path.display()));
        let change = *now as f64 / then as f64 - 1.0;
        let verdict = if change > ALLOWED {
            failed = true;
            "MORE THAN ALLOWED"
        } else if change < -ALLOWED {
            failed = true;
            "less than the baseline by more than allowed: write the new baseline"
        } else {
            "ok"
        };
        println!(
            "  {name}: {now} (baseline {then}, {:+.1}%) {verdict}",
            change * 100.0
        );
    }
    if failed {
        println!(
            "the plan's work moved past ±{:.0}% of its baseline. If the change is intended, write the new figures with `ROSTER_WORK_BASELINE=write cargo test --test plan_work` and commit them with the reason",
            ALLOWED * 100.0
        );
        std::process::exit(1);
    }
}

/// What `roster plan` does with the state it read once the sites are
/// read, with `--format json` too; how many changes the plan makes.
fn plan_and_render(
    desired: &roster::model::DesiredState,
    read: roster::state::StateRead,
    live: &[LiveSite],
    today: chrono::NaiveDate,
) -> usize {
    let resolved: Vec<_> = desired
        .sites
        .iter()
        .map(|s| roster::plan::expiry::resolve(s, today))
        .collect();
    let mut plan = roster::plan::plan_sites(resolved.iter().map(|(s, _)| &**s).zip(live))
        .expect("the case plans");
    for (site_plan, (_, expiry)) in plan.sites.iter_mut().zip(resolved) {
        site_plan.insight.expiry = expiry;
    }
    plan.warnings = read.warnings;
    let fingerprint = roster::plan::DesiredFingerprint::of(desired);
    let text = roster::render::render(&plan, &fingerprint, roster::render::Format::Text);
    let json = roster::render::json::render(&plan, fingerprint.get());
    assert!(!text.is_empty() && !json.is_empty());
    plan.sites.iter().map(|s| s.changes.len()).sum()
}

fn baseline_text(figures: &[(String, usize)]) -> String {
    let mut text = String::new();
    for (name, n) in figures {
        text.push_str(&format!("{name} {n}\n"));
    }
    text
}

fn baseline_figure(baseline: &str, name: &str) -> Option<usize> {
    baseline
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// The two sites and their groups (never contacted: the live state is
/// given).
const SITES: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"
base_url = "http://127.0.0.1:1"
allow_removals = 1000000

[sites.acme-sigma]
provider = "sigma"
base_url = "http://127.0.0.1:1"
client_id = { env = "I" }
client_secret = { env = "S" }
allow_removals = 1000000

[[groups]]
name = "Analysts"
access = "sql"
sites = ["acme"]

[[groups]]
name = "Team"
sites = ["acme-sigma"]
"#;

/// The scale benchmark's case: `people` over a Periscope site and a Sigma
/// organisation, declared in `dir`'s state and live as declared; the live
/// state of both sites, as the providers read it.
fn write_case(dir: &Path, people: usize) -> Vec<LiveSite> {
    let half = people / 2;
    let mut state = String::with_capacity(people * 120);
    state.push_str("[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\nsites = [\"acme\"]\n\n");
    state.push_str("[[users]]\nemail = \"sadmin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\nsites = [\"acme-sigma\"]\n\n");
    let user = |email: String, first: &str, last: String, groups: Vec<String>, id| LiveUser {
        id,
        email,
        first_name: first.into(),
        last_name: last,
        groups,
        active: true,
        ..LiveUser::default()
    };
    let mut periscope = LiveSite {
        groups: ["All Users", "Administrators", "Analysts"]
            .map(|name| LiveGroup {
                name: name.into(),
                access: (name == "Analysts").then(|| "sql".into()),
                ..LiveGroup::default()
            })
            .into(),
        users: vec![user(
            "admin@acme.com".into(),
            "Site",
            "Admin".into(),
            vec!["All Users".into(), "Administrators".into()],
            None,
        )],
        ..LiveSite::default()
    };
    let mut sigma = LiveSite {
        groups: vec![LiveGroup {
            id: Some("team".into()),
            name: "Team".into(),
            visibility: Some("private".into()),
            ..LiveGroup::default()
        }],
        account_types: ["Admin", "Creator", "Viewer"].map(String::from).into(),
        api_identity: Some("sadmin@acme.com".into()),
        users: vec![LiveUser {
            member_type: Some("Admin".into()),
            ..user(
                "sadmin@acme.com".into(),
                "Org",
                "Admin".into(),
                Vec::new(),
                Some("m-admin".into()),
            )
        }],
        ..LiveSite::default()
    };
    for i in 0..half {
        state.push_str(&format!("[[users]]\nemail = \"p{i}@acme.com\"\nfirst_name = \"P\"\nlast_name = \"{i}\"\ngroups = [\"Analysts\"]\nsites = [\"acme\"]\n\n"));
        periscope.users.push(user(
            format!("p{i}@acme.com"),
            "P",
            i.to_string(),
            vec!["All Users".into(), "Analysts".into()],
            None,
        ));
        state.push_str(&format!("[[users]]\nemail = \"s{i}@acme.com\"\nfirst_name = \"S\"\nlast_name = \"{i}\"\ngroups = [\"Team\"]\nsites = [\"acme-sigma\"]\n\n"));
        sigma.users.push(LiveUser {
            member_type: Some("Viewer".into()),
            ..user(
                format!("s{i}@acme.com"),
                "S",
                i.to_string(),
                vec!["Team".into()],
                Some(format!("m{i:028}")),
            )
        });
    }
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::write(dir.join("state/sites.toml"), SITES).unwrap();
    std::fs::write(dir.join("state/people.toml"), state).unwrap();
    vec![periscope, sigma]
}
