//! Import from live sites: edit the state so it describes what is live, and
//! the next plan is empty. Declared people and groups are updated in place
//! (comments kept); new ones go to `imported/<site>.toml`; a person on
//! several sites whose groups differ here gets an override for this site.
//! With `prune`, people and groups declared for the site who are no longer
//! on it are taken off it (their entry removed when it was their only site).
//! A live object under a declared previous name or email is that entry: the
//! rename was never applied, so the entry is written back to the live name.

use std::path::Path;

use toml_edit::{Item, Table, Value};

use std::collections::{BTreeMap, HashSet};

use crate::model::{DesiredSite, LiveGroup, LiveSite, LiveUser, ProviderKind, UserKind, email_key};
use crate::provider::kinds::ImportAt;
pub use crate::provider::kinds::entries::{ImportError, Undone};
pub(crate) use crate::provider::kinds::entries::{Matcher, list, list_name};
use crate::state::edit::{StateFiles, UserRef, set, strings};

/// What an import changed.
#[derive(Debug, Default)]
pub struct Imported {
    pub users_added: usize,
    pub users_updated: usize,
    /// Taken off this site by `prune`.
    pub users_removed: usize,
    /// Groups taken off this site by `prune`.
    pub groups_removed: usize,
    pub groups_added: usize,
    pub groups_updated: usize,
    /// Renames declared but not yet applied, written back to the live name.
    pub undone: Vec<Undone>,
    /// What the provider's own kinds are called in counts (`workspaces
    /// and connections`).
    pub kinds_imported: &'static str,
    /// The provider's own kinds added and updated.
    pub kinds_added: usize,
    pub kinds_updated: usize,
    /// The provider's own kinds taken off this site by `prune`.
    pub kinds_removed: usize,
    /// Live objects the state cannot declare, each with why: left out, so
    /// what is written still loads.
    pub skipped: Vec<String>,
}

fn sorted_keys(p: ProviderKind, names: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = names.iter().map(|n| p.group_key(n)).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Renames, in every person's `groups` and overrides, the groups in
/// `renames` (by key) to their new name.
fn rename_group_references(
    files: &mut StateFiles,
    p: ProviderKind,
    renames: &BTreeMap<String, String>,
) {
    if renames.is_empty() {
        return;
    }
    let rename = |a: &mut toml_edit::Array| {
        let mut changed = false;
        for v in a.iter_mut() {
            if let Some(new) = v.as_str().and_then(|n| renames.get(&p.group_key(n))) {
                let decor = v.decor().clone();
                *v = Value::from(new.as_str());
                *v.decor_mut() = decor;
                changed = true;
            }
        }
        changed
    };
    for r in files.users().into_values() {
        let Some(mut t) = files.entry("users", &r).cloned() else {
            continue;
        };
        let mut changed = t
            .get_mut("groups")
            .and_then(Item::as_array_mut)
            .is_some_and(&rename);
        if let Some(o) = t.get_mut("overrides").and_then(Item::as_table_like_mut) {
            for (_, site) in o.iter_mut() {
                if let Some(a) = site.get_mut("groups").and_then(Item::as_array_mut) {
                    changed |= rename(a);
                }
            }
        }
        if changed && let Some(entry) = files.user_mut(&r) {
            *entry = t;
        }
    }
}

/// Edits `files` so they describe `live` for `site`. `all_sites` names every
/// site of the state (with more than one, new entries name their site),
/// `provider_sites` those of the site's provider (where the provider's own
/// kinds go by default).
pub fn import_site(
    dir: &Path,
    files: &mut StateFiles,
    site: &DesiredSite,
    live: &LiveSite,
    (all_sites, provider_sites): (&[String], &[String]),
    prune: bool,
) -> Result<Imported, ImportError> {
    let name = site.site.name.clone();
    let mut import = SiteImport {
        target: dir.join("imported").join(format!("{name}.toml")),
        multi: all_sites.len() > 1,
        p: site.site.provider,
        deactivates: site.site.capabilities().can_deactivate(),
        name,
        done: Imported::default(),
    };
    import.groups(files, live)?;
    import.users(files, live)?;
    let at = ImportAt {
        site: &import.name,
        multi: import.multi,
        target: &import.target,
    };
    let notes = (&mut import.done.skipped, &mut import.done.undone);
    let (added, updated) = import.p.import_kinds(files, &at, live, notes)?;
    let mut done = Imported {
        kinds_imported: import.p.kinds_imported(),
        kinds_added: added,
        kinds_updated: updated,
        ..import.done
    };
    if prune {
        done.users_removed = prune_site(files, at.site, live, all_sites);
        done.groups_removed = prune_groups(files, import.p, at.site, live, all_sites);
        done.kinds_removed = import.p.prune_kinds(files, &at, live, provider_sites);
    }
    Ok(done)
}

/// One site's import under way.
struct SiteImport {
    name: String,
    p: ProviderKind,
    /// The provider deactivates people (so their `active` is kept).
    deactivates: bool,
    /// Where new entries go: `imported/<site>.toml`.
    target: std::path::PathBuf,
    /// The state has more than one site: new entries name theirs.
    multi: bool,
    done: Imported,
}

/// Whether entry `t` is declared for site `name` (no `sites`: every site).
fn on_site(t: &Table, name: &str) -> bool {
    t.get("sites").is_none() || list(t, "sites").iter().any(|s| s == name)
}

impl SiteImport {
    /// Every live group that is not built in: its entry updated, or added;
    /// then the renames undone carried into every person's groups.
    fn groups(&mut self, files: &mut StateFiles, live: &LiveSite) -> Result<(), ImportError> {
        let p = self.p;
        let group_key = |n: &str| p.group_key(n);
        let live_groups = live.groups.iter().map(|g| p.group_key(&g.name)).collect();
        let declared = Matcher::new(
            files,
            ("groups", "name", "previous_names", "group"),
            &group_key,
            live_groups,
        );
        for g in live.groups.iter().filter(|g| !p.is_builtin_group(&g.name)) {
            let before = self.done.undone.len();
            match declared.claim(files, &self.name, &g.name, &mut self.done.undone)? {
                Some(r) => {
                    let renamed = self.done.undone.len() > before
                        || self.take_live_spelling(files, &r, &g.name);
                    let Some(t) = files.entry("groups", &r) else {
                        continue;
                    };
                    let edits = self.group_edits(t, g);
                    let edited = !edits.is_empty();
                    if edited && let Some(t) = files.entry_mut("groups", &r) {
                        for (k, v) in edits {
                            set(t, k, v);
                        }
                    }
                    if renamed || edited {
                        self.done.groups_updated += 1;
                    }
                }
                None => {
                    files.add(&self.target, "groups", self.new_group(g));
                    self.done.groups_added += 1;
                }
            }
        }
        let renames: BTreeMap<String, String> = self
            .done
            .undone
            .iter()
            .map(|u| (p.group_key(&u.declared), u.live.clone()))
            .collect();
        rename_group_references(files, p, &renames);
        Ok(())
    }

    /// A declared group whose name differs from the live one only in a way
    /// the site does not tell apart (case, spacing) is a rename the plan
    /// would make: like a rename under `previous_names`, it is undone, so
    /// the entry says the live name and the next plan is empty.
    fn take_live_spelling(&mut self, files: &mut StateFiles, r: &UserRef, live: &str) -> bool {
        let Some(t) = files.entry_mut("groups", r) else {
            return false;
        };
        let declared = t.get("name").and_then(Item::as_str).unwrap_or_default();
        if declared == live {
            return false;
        }
        let declared = declared.to_string();
        set(t, "name", live);
        self.done.undone.push(Undone {
            what: "group",
            declared,
            live: live.to_string(),
        });
        true
    }

    /// What a declared group's entry `t` needs to describe live group `g`.
    fn group_edits(&self, t: &Table, g: &LiveGroup) -> Vec<(&'static str, Value)> {
        let mut edits: Vec<(&str, Value)> = Vec::new();
        if !on_site(t, &self.name) {
            let mut sites = list(t, "sites");
            sites.push(self.name.clone());
            edits.push(("sites", strings(&sites)));
        }
        let have = |key: &str| t.get(key).and_then(Item::as_str).unwrap_or_default();
        let fields = self.p.capabilities().group_fields;
        if let Some(a) = g
            .access
            .as_deref()
            .filter(|a| fields.access && !a.eq_ignore_ascii_case(have("access")))
        {
            edits.push(("access", a.to_lowercase().into()));
        }
        if let Some(d) = g
            .description
            .as_deref()
            .filter(|d| fields.description && !d.is_empty() && *d != have("description"))
        {
            edits.push(("description", d.into()));
        }
        if let Some(v) = g
            .visibility
            .as_deref()
            .filter(|v| fields.visibility && !v.eq_ignore_ascii_case(have("visibility")))
        {
            edits.push(("visibility", v.to_lowercase().into()));
        }
        edits
    }

    /// The entry of a live group nobody declared.
    fn new_group(&self, g: &LiveGroup) -> Table {
        let mut t = Table::new();
        set(&mut t, "name", g.name.clone());
        let fields = self.p.capabilities().group_fields;
        if fields.access {
            let access = g
                .access
                .as_deref()
                .filter(|a| crate::model::Access::parse(a).is_some());
            set(&mut t, "access", access.unwrap_or("view").to_lowercase());
        }
        if let Some(d) = g
            .description
            .as_deref()
            .filter(|d| fields.description && !d.is_empty())
        {
            set(&mut t, "description", d);
        }
        if let Some(v) = g.visibility.as_ref().filter(|_| fields.visibility) {
            set(&mut t, "visibility", v.to_lowercase());
        }
        if self.multi {
            set(&mut t, "sites", strings(std::slice::from_ref(&self.name)));
        }
        t
    }

    /// Every live person roster manages: their entry updated, or added.
    fn users(&mut self, files: &mut StateFiles, live: &LiveSite) -> Result<(), ImportError> {
        let live_users = live.users.iter().map(|u| email_key(&u.email)).collect();
        let declared = Matcher::new(
            files,
            ("users", "email", "previous_emails", "user"),
            &email_key,
            live_users,
        );
        // Embed users are never declared: roster leaves them alone.
        let managed = |u: &&LiveUser| u.locked.is_none() && u.kind != UserKind::Embed;
        for u in live.users.iter().filter(managed) {
            if !crate::state::is_valid_email(&u.email) {
                self.done.skipped.push(format!(
                    "live user `{}` is left out: roster declares people by email, and this is not one; the plan treats it as a member the state does not declare (see unmanaged_users)",
                    u.email
                ));
                continue;
            }
            let person = LivePerson::of(self.p, u);
            let before = self.done.undone.len();
            let Some(r) = declared.claim(files, &self.name, &u.email, &mut self.done.undone)?
            else {
                files.add(&self.target, "users", self.new_user(&person));
                self.done.users_added += 1;
                continue;
            };
            let renamed = self.done.undone.len() > before;
            let Some(t) = files.entry("users", &r) else {
                continue;
            };
            // A deactivated member who is declared for other sites only
            // stays undeclared here: the plan leaves deactivated members
            // alone.
            if !u.active && !on_site(t, &self.name) {
                continue;
            }
            let edits = self.user_edits(t, &person);
            if edits.is_empty() {
                self.done.users_updated += usize::from(renamed);
                continue;
            }
            let Some(t) = files.user_mut(&r) else {
                continue;
            };
            apply_user_edits(t, edits);
            self.done.users_updated += 1;
        }
        Ok(())
    }

    /// The entry of a live person nobody declared.
    fn new_user(&self, person: &LivePerson<'_>) -> Table {
        let u = person.user;
        let mut t = Table::new();
        set(&mut t, "email", u.email.clone());
        set(&mut t, "first_name", u.first_name.clone());
        set(&mut t, "last_name", u.last_name.clone());
        if let Some(m) = &person.member_type {
            set(&mut t, "member_type", m.clone());
        }
        if u.kind == UserKind::Guest {
            set(&mut t, "kind", "guest");
        }
        if !person.groups.is_empty() {
            set(&mut t, "groups", strings(&person.groups));
        }
        if self.multi {
            set(&mut t, "sites", strings(std::slice::from_ref(&self.name)));
        }
        if !u.active {
            set(&mut t, "active", false);
        }
        t
    }

    /// What a declared person's entry `t` needs to describe them as live;
    /// a key `overrides.SITE.FIELD` is a field of their override.
    fn user_edits(&self, t: &Table, person: &LivePerson<'_>) -> Vec<(String, Value)> {
        let (name, u, groups) = (&self.name, person.user, &person.groups);
        // On several sites once this one is counted: differences go in an
        // override for this site, never in what the other sites use.
        let on_several = self.multi
            && (t.get("sites").is_none() || list(t, "sites").len() > 1 || !on_site(t, name));
        let field_key = |key: &str| {
            if on_several {
                format!("overrides.{name}.{key}")
            } else {
                key.to_string()
            }
        };
        let declared = |key: &str| {
            t.get("overrides")
                .and_then(|o| o.get(name))
                .and_then(|o| o.get(key))
                .or_else(|| t.get(key))
                .and_then(Item::as_str)
        };
        let mut edits: Vec<(String, Value)> = Vec::new();
        if !on_site(t, name) {
            let mut sites = list(t, "sites");
            sites.push(name.clone());
            edits.push(("sites".into(), strings(&sites)));
        }
        for (key, want) in [("first_name", &u.first_name), ("last_name", &u.last_name)] {
            if declared(key) != Some(want.as_str()) {
                edits.push((field_key(key), want.as_str().into()));
            }
        }
        let override_groups = t
            .get("overrides")
            .and_then(|o| o.get(name))
            .and_then(|o| o.get("groups"))
            .and_then(Item::as_array)
            .map(|a| a.iter().filter_map(list_name).collect::<Vec<_>>());
        let effective = override_groups.clone().unwrap_or_else(|| list(t, "groups"));
        if sorted_keys(self.p, &effective) != sorted_keys(self.p, groups) {
            if on_several || override_groups.is_some() {
                edits.push((format!("overrides.{name}.groups"), strings(groups)));
            } else {
                edits.push(("groups".into(), strings(groups)));
            }
        }
        if let Some(m) = &person.member_type
            && !declared("member_type")
                .unwrap_or_default()
                .eq_ignore_ascii_case(m)
        {
            edits.push((field_key("member_type"), m.as_str().into()));
        }
        let declared_active = t.get("active").and_then(Item::as_bool).unwrap_or(true);
        if self.deactivates && declared_active != u.active {
            edits.push(("active".into(), u.active.into()));
        }
        edits
    }
}

/// A live person as the state would declare them.
struct LivePerson<'a> {
    user: &'a LiveUser,
    /// Their groups but the implicit one, sorted by key.
    groups: Vec<String>,
    /// Their account type, where the provider has them (Sigma).
    member_type: Option<String>,
}

impl<'a> LivePerson<'a> {
    fn of(p: ProviderKind, u: &'a LiveUser) -> LivePerson<'a> {
        let implicit = p.implicit_group().map(|g| p.group_key(g));
        let mut groups: Vec<String> = u
            .groups
            .iter()
            .filter(|g| Some(p.group_key(g)) != implicit)
            .cloned()
            .collect();
        groups.sort_by_cached_key(|n| p.group_key(n));
        LivePerson {
            user: u,
            groups,
            member_type: (p.capabilities().has_account_types())
                .then(|| u.member_type.clone())
                .flatten(),
        }
    }
}

/// Writes `edits` (see [`SiteImport::user_edits`]) into a person's entry.
fn apply_user_edits(t: &mut Table, edits: Vec<(String, Value)>) {
    for (key, value) in edits {
        match key.strip_prefix("overrides.") {
            Some(path) => {
                let (site_name, field) = path.split_once('.').expect("site.field");
                let overrides = t.entry("overrides").or_insert_with(|| {
                    // Only `[users.overrides.SITE]` is written, not an
                    // empty `[users.overrides]` above it.
                    let mut overrides = Table::new();
                    overrides.set_implicit(true);
                    Item::Table(overrides)
                });
                if let Some(o) = overrides.as_table_like_mut() {
                    let entry = o.entry(site_name).or_insert(Item::Table(Table::new()));
                    if let Some(e) = entry.as_table_like_mut() {
                        set(e, field, value);
                    }
                }
            }
            None if key == "active" && value.as_bool() == Some(true) => {
                t.remove("active");
            }
            None => set(t, &key, value),
        }
    }
}

/// Takes people no longer on the site `name` off it: off their `sites`
/// list (and their overrides for it) when they have other sites, out of the
/// state when it was their only one. Someone live under one of their
/// `previous_emails` is still there. How many were taken off.
fn prune_site(files: &mut StateFiles, name: &str, live: &LiveSite, all_sites: &[String]) -> usize {
    let live_keys: std::collections::HashSet<String> =
        live.users.iter().map(|u| email_key(&u.email)).collect();
    let mut remove = Vec::new();
    let mut narrow = Vec::new();
    for r in files.users().into_values() {
        let Some(t) = files.entry("users", &r) else {
            continue;
        };
        let sites = match t.get("sites") {
            Some(_) => list(t, "sites"),
            None => all_sites.to_vec(),
        };
        if !sites.iter().any(|s| s == name) {
            continue;
        }
        let mut emails = list(t, "previous_emails");
        emails.extend(t.get("email").and_then(Item::as_str).map(str::to_string));
        if emails.iter().any(|e| live_keys.contains(&email_key(e))) {
            continue;
        }
        let others: Vec<String> = sites.into_iter().filter(|s| s != name).collect();
        if others.is_empty() {
            remove.push(r);
        } else {
            narrow.push((r, others));
        }
    }
    let count = remove.len() + narrow.len();
    for (r, others) in narrow {
        if let Some(t) = files.user_mut(&r) {
            set(t, "sites", strings(&others));
            if let Some(o) = t.get_mut("overrides").and_then(Item::as_table_like_mut) {
                o.remove(name);
                if o.is_empty() {
                    t.remove("overrides");
                }
            }
        }
    }
    files.remove_users(&remove);
    count
}

/// Takes groups no longer on the site `name` (under their name or a previous
/// one) off it, as [`prune_site`] does people. How many were taken off.
fn prune_groups(
    files: &mut StateFiles,
    p: ProviderKind,
    name: &str,
    live: &LiveSite,
    all_sites: &[String],
) -> usize {
    let live_keys: HashSet<String> = live.groups.iter().map(|g| p.group_key(&g.name)).collect();
    let mut gone = Vec::new();
    for r in files
        .entries("groups", "name", |n| p.group_key(n))
        .into_values()
    {
        let Some(t) = files.entry("groups", &r) else {
            continue;
        };
        let sites = match t.get("sites") {
            Some(_) => list(t, "sites"),
            None => all_sites.to_vec(),
        };
        let mut names = list(t, "previous_names");
        names.extend(t.get("name").and_then(Item::as_str).map(str::to_string));
        if !sites.iter().any(|s| s == name)
            || names.iter().any(|n| live_keys.contains(&p.group_key(n)))
        {
            continue;
        }
        gone.push((
            r,
            sites.into_iter().filter(|s| s != name).collect::<Vec<_>>(),
        ));
    }
    let count = gone.len();
    // Removed from the last entry of a file to the first, as indexes shift.
    gone.sort_by(|a, b| (&b.0.file, b.0.index).cmp(&(&a.0.file, a.0.index)));
    for (r, others) in gone {
        if others.is_empty() {
            files.remove_entry("groups", &r);
        } else if let Some(t) = files.entry_mut("groups", &r) {
            set(t, "sites", strings(&others));
        }
    }
    count
}
