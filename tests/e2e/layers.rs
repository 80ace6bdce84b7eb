//! The layers of `src/` as DESIGN.md ("Layers") draws them, checked on the
//! source: no import circle over three files, no provider variant named
//! outside the providers and the sandbox, and a sandbox that imports
//! nothing of the client.
//!
//! The import graph has a node per file under `src/` (its module: `a/b.rs`
//! and `a/b/mod.rs` are `a::b`; `lib.rs` is the root) and an edge from a
//! file to every file module it names by path: `crate::a::b::X`,
//! `super::x`, `self::x`, a child's `child::x`, each leaf of a grouped
//! `use` (a path names the longest module it starts with). Test code is
//! not read: `#[cfg(test)] mod x { .. }` blocks and the files `tests.rs`,
//! `*_tests.rs` and `test_fixtures.rs`; nor are comments and string
//! literals. `main.rs` is the binary, which names the library as `roster::`.
//!
//! What is still being untied elsewhere is listed below, exactly, each with
//! its reason: a circle or a naming not on a list fails, and so does one
//! that grew or shrank (shrink the list with it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The most files one import circle may hold.
const MOST_FILES_IN_A_CIRCLE: usize = 3;

/// Import circles over [`MOST_FILES_IN_A_CIRCLE`] files still being untied,
/// each with its files (exactly) and why it is still there.
const CIRCLES_BEING_UNTIED: &[(&[&str], &str)] = &[
    (
        &[
            "src/attrs.rs",
            "src/interrupt.rs",
            "src/model.rs",
            "src/model/access.rs",
            "src/model/change.rs",
            "src/model/kept.rs",
            "src/model/plan_error.rs",
            "src/provider/capabilities.rs",
            "src/provider/error.rs",
            "src/provider/ids.rs",
            "src/provider/kinds.rs",
            "src/provider/mod.rs",
            "src/provider/retry.rs",
            "src/provider/site_keys.rs",
            "src/state/checks.rs",
            "src/state/credentials.rs",
            "src/state/insight.rs",
            "src/state/load.rs",
            "src/state/lookalike.rs",
            "src/state/mod.rs",
            "src/state/schema.rs",
            "src/state/site.rs",
            "src/state/trust.rs",
            "src/state/validate.rs",
            "src/state/warnings.rs",
        ],
        "model <-> provider <-> state: the model takes ProviderKind, SiteConfig and Capabilities \
         from provider/, providers take their checks from state/ (DESIGN.md, Layers); being \
         untied in model/, provider/ and state/",
    ),
    (
        &[
            "src/plan/diff.rs",
            "src/plan/effective.rs",
            "src/plan/guards.rs",
            "src/plan/insight.rs",
            "src/plan/mod.rs",
            "src/plan/privileged.rs",
            "src/plan/saved.rs",
            "src/plan/seats.rs",
        ],
        "plan/mod.rs holds or re-exports what its children take with `use super::{..}` \
         (Plan, PlanError, Change, Diff) while it uses them; being untied in plan/",
    ),
    (
        &[
            "src/provider/sigma/attributes.rs",
            "src/provider/sigma/client.rs",
            "src/provider/sigma/mod.rs",
            "src/provider/sigma/settings.rs",
            "src/provider/sigma/write.rs",
        ],
        "Sigma's client, settings and kinds share provider/sigma/mod.rs; being untied in \
         provider/sigma/",
    ),
];

/// Types whose variants are providers, named only under `src/provider/`
/// and `src/sandbox/`.
const PROVIDER_ENUMS: [&str; 2] = ["ProviderKind", "SiteConfig"];

/// Files outside the providers and the sandbox that still name a provider
/// variant: how many times (exactly), and why.
const VARIANTS_STILL_NAMED: &[(&str, usize, &str)] = &[];

/// The modules the sandbox never imports: the client, from its model up.
const ABOVE_THE_SANDBOX: [&str; 8] = [
    "model", "provider", "state", "plan", "render", "import", "commands", "apply",
];

/// One file of the tree: where it is, its module, and its code as read.
struct File {
    /// Under the repository: `src/a/b.rs`.
    path: String,
    module: Vec<String>,
    /// Without test code, comments and string literals; empty for a
    /// test-only file.
    code: String,
}

/// Files and the imports between them.
struct Tree {
    files: Vec<File>,
    /// File index → the indices of the files it imports.
    imports: Vec<BTreeSet<usize>>,
}

impl Tree {
    /// Every file under `src/` of this repository.
    fn of_this_repository() -> Tree {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut sources = Vec::new();
        read_rust_files(&src, &src, &mut sources);
        Tree::from_sources(&sources)
    }

    /// A tree from `(path under src/, text)` pairs.
    fn from_sources(sources: &[(String, String)]) -> Tree {
        let files: Vec<File> = sources
            .iter()
            .filter(|(path, _)| path != "main.rs")
            .map(|(path, text)| File {
                path: format!("src/{path}"),
                module: module_of(path),
                code: if is_test_only(path) {
                    String::new()
                } else {
                    code_of(text)
                },
            })
            .collect();
        let by_module: BTreeMap<&[String], usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.as_slice(), i))
            .collect();
        let imports = files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                paths_named(file, &by_module)
                    .iter()
                    .filter_map(|path| longest_module(path, &by_module))
                    .filter(|&target| target != i)
                    .collect()
            })
            .collect();
        Tree { files, imports }
    }

    fn index_of(&self, path: &str) -> usize {
        self.files
            .iter()
            .position(|f| f.path == path)
            .unwrap_or_else(|| panic!("no file {path}"))
    }

    /// The import circles (strongly connected components) of more than one
    /// file, each as its sorted file paths, largest first.
    fn circles(&self) -> Vec<Vec<String>> {
        let mut circles: Vec<Vec<String>> = strongly_connected(&self.imports)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut paths: Vec<String> =
                    c.iter().map(|&i| self.files[i].path.clone()).collect();
                paths.sort();
                paths
            })
            .collect();
        circles.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        circles
    }
}

fn read_rust_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_rust_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(root)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            out.push((relative, text));
        }
    }
}

/// `a/b.rs` and `a/b/mod.rs` are `[a, b]`; `lib.rs` is the root, `[]`.
fn module_of(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts.last().is_some_and(|p| p == "mod") || parts == ["lib"] {
        parts.pop();
    }
    parts
}

fn is_test_only(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "tests.rs" || name == "test_fixtures.rs" || name.ends_with("_tests.rs")
}

/// The code of a file: `#[cfg(test)] mod x { .. }` blocks cut out, and
/// comments and the insides of string and character literals blanked.
fn code_of(text: &str) -> String {
    let blanked = blank_comments_and_literals(text);
    let mut code = String::with_capacity(blanked.len());
    let mut rest = blanked.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        match test_module_end(after) {
            Some(end) => rest = &after[end..],
            None => {
                code.push_str("#[cfg(test)]");
                rest = after;
            }
        }
    }
    code.push_str(rest);
    code
}

/// Where the `mod x { .. }` that opens `text` ends (after its closing
/// brace), when `text` opens with one.
fn test_module_end(text: &str) -> Option<usize> {
    let trimmed = text.trim_start();
    let declaration = ["pub(crate) mod ", "pub(super) mod ", "pub mod ", "mod "]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p))?;
    let name_end = declaration
        .find(|c: char| !is_ident_char(c))
        .unwrap_or(declaration.len());
    let body = declaration[name_end..].trim_start();
    if !body.starts_with('{') {
        return None;
    }
    let open = text.len() - body.len();
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with every comment, and the inside of every string and
/// character literal, replaced by spaces (line breaks kept).
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_at(&chars, i) {
            // r"..", r#".."#, br#".."#: closed by a quote and as many #.
            let open = chars[i..].iter().position(|&c| c == '"').unwrap_or(0);
            for _ in 0..=open {
                out.push(chars[i]);
                i += 1;
            }
            while i < chars.len() {
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#') {
                    for _ in 0..=hashes {
                        out.push(chars[i]);
                        i += 1;
                    }
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' || c == '\'' && is_char_literal(&chars, i) {
            i = blank_quoted(&chars, i, &mut out);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// A space for any character but a line break.
fn blank(c: char) -> char {
    if c == '\n' { '\n' } else { ' ' }
}

/// Copies the string or character literal opening at `i` (its quote) to
/// `out` with its inside blanked; returns where it ends.
fn blank_quoted(chars: &[char], mut i: usize, out: &mut String) -> usize {
    let quote = chars[i];
    out.push(quote);
    i += 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' {
            out.push(' ');
            i += 1;
        }
        if let Some(&c) = chars.get(i) {
            out.push(blank(c));
            i += 1;
        }
    }
    out.push(quote);
    i + 1
}

/// The number of `#` of a raw string literal opening at `i`.
fn raw_string_at(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && is_ident_char(chars[i - 1]) {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

/// Whether the quote at `i` opens a character literal (`'x'`, `'\n'`,
/// `'\u{1F600}'`) rather than a lifetime (`'a`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path `file` names that may lead to another file, made absolute
/// (from the crate's root): `crate::..`, `super::..`, `self::..` and
/// `child::..` for each module declared under the file's own.
fn paths_named(file: &File, modules: &BTreeMap<&[String], usize>) -> Vec<Vec<String>> {
    let code = &file.code;
    let children: BTreeSet<&str> = modules
        .keys()
        .filter(|m| m.len() == file.module.len() + 1 && m.starts_with(&file.module))
        .map(|m| m[m.len() - 1].as_str())
        .collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while let Some(c) = code[i..].chars().next() {
        let starts_word = code[..i]
            .chars()
            .next_back()
            .is_none_or(|before| !is_ident_char(before) && before != ':');
        if !starts_word || !(c.is_alphabetic() || c == '_') {
            i += c.len_utf8();
            continue;
        }
        let word_end = code[i..]
            .find(|c: char| !is_ident_char(c))
            .map_or(code.len(), |n| i + n);
        let word = &code[i..word_end];
        if !code[word_end..].starts_with("::") {
            i = word_end;
            continue;
        }
        let base: Option<Vec<String>> = match word {
            "crate" => Some(Vec::new()),
            "self" => Some(file.module.clone()),
            "super" => Some(file.module[..file.module.len().saturating_sub(1)].to_vec()),
            child if children.contains(child) => {
                let mut base = file.module.clone();
                base.push(child.to_string());
                Some(base)
            }
            _ => None,
        };
        if let Some(base) = base {
            let mut at = word_end + 2;
            let mut leaves = Vec::new();
            use_tree(code, &mut at, base, &mut leaves);
            paths.extend(leaves.into_iter().map(climb_supers));
            i = at.max(word_end);
        } else {
            i = word_end;
        }
    }
    paths
}

/// Reads a path or a grouped `use` tree at `at`, pushing each leaf's path
/// (after `prefix`) to `leaves`.
fn use_tree(code: &str, at: &mut usize, prefix: Vec<String>, leaves: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        skip_whitespace(code, at);
        if code[*at..].starts_with('{') {
            *at += 1;
            loop {
                skip_whitespace(code, at);
                if *at >= code.len() {
                    return;
                }
                if code[*at..].starts_with('}') {
                    *at += 1;
                    return;
                }
                let before = *at;
                use_tree(code, at, path.clone(), leaves);
                skip_whitespace(code, at);
                if code[*at..].starts_with(',') {
                    *at += 1;
                } else if *at == before {
                    // Not a use tree (a macro's `{` after `$crate::`): stop.
                    return;
                }
            }
        }
        let ident_end = code[*at..]
            .find(|c: char| !is_ident_char(c))
            .map_or(code.len(), |n| *at + n);
        let ident = &code[*at..ident_end];
        if ident.is_empty() {
            break;
        }
        if ident != "self" {
            path.push(ident.to_string());
        }
        *at = ident_end;
        if code[*at..].starts_with("::") {
            *at += 2;
        } else {
            break;
        }
    }
    leaves.push(path);
}

fn skip_whitespace(code: &str, at: &mut usize) {
    while code[*at..].starts_with(char::is_whitespace) {
        *at += code[*at..].chars().next().map_or(1, char::len_utf8);
    }
}

/// `a::b::super::super::c` is `c`: each `super` after the base climbs one
/// module more.
fn climb_supers(path: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(path.len());
    for segment in path {
        if segment == "super" {
            out.pop();
        } else {
            out.push(segment);
        }
    }
    out
}

/// The file of the longest module `path` starts with (never the root).
fn longest_module(path: &[String], modules: &BTreeMap<&[String], usize>) -> Option<usize> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).copied())
}

/// Tarjan's strongly connected components of the graph `edges`.
fn strongly_connected(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct Walk<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().expect("v is on the stack");
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }
    let n = edges.len();
    let mut walk = Walk {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if walk.index[v].is_none() {
            walk.visit(v);
        }
    }
    walk.components
}

/// What is wrong with `circles` against the allowed list: circles over
/// the limit not on it (new, grown or shrunk), and entries no circle
/// matches any more.
fn circle_problems(circles: &[Vec<String>], allowed: &[(&[&str], &str)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut matched = vec![false; allowed.len()];
    for circle in circles.iter().filter(|c| c.len() > MOST_FILES_IN_A_CIRCLE) {
        let listed = allowed
            .iter()
            .position(|(files, _)| files.iter().copied().eq(circle.iter().map(String::as_str)));
        match listed {
            Some(i) => matched[i] = true,
            None => problems.push(format!(
                "an import circle of {} files (over {MOST_FILES_IN_A_CIRCLE}) not listed as \
                 it is in CIRCLES_BEING_UNTIED; untie it, or if it is one being untied \
                 that shrank, list it as it is now:\n    {}",
                circle.len(),
                circle.join("\n    ")
            )),
        }
    }
    for ((files, reason), found) in allowed.iter().zip(matched) {
        if !found {
            problems.push(format!(
                "CIRCLES_BEING_UNTIED lists a circle no longer there ({reason}): remove or \
                 shrink it:\n    {}",
                files.join("\n    ")
            ));
        }
    }
    problems
}

/// How many times each file outside `src/provider/` and `src/sandbox/`
/// names a variant of a provider enum (`ProviderKind::Sigma`; not
/// `ProviderKind::ALL` or `ProviderKind::from`).
fn variants_named(tree: &Tree) -> BTreeMap<String, usize> {
    let mut named = BTreeMap::new();
    for file in &tree.files {
        if file.path.starts_with("src/provider/") || file.path.starts_with("src/sandbox/") {
            continue;
        }
        let count = PROVIDER_ENUMS
            .iter()
            .map(|e| {
                file.code
                    .match_indices(&format!("{e}::"))
                    .filter(|(at, _)| {
                        let before = file.code[..*at].chars().next_back();
                        !before.is_some_and(is_ident_char)
                    })
                    .filter(|(at, m)| is_variant_name(&file.code[at + m.len()..]))
                    .count()
            })
            .sum::<usize>();
        if count > 0 {
            named.insert(file.path.clone(), count);
        }
    }
    named
}

/// Whether `text` opens with a variant's name: a capital, then a small
/// letter (`Sigma`, not `ALL`).
fn is_variant_name(text: &str) -> bool {
    text.starts_with(char::is_uppercase)
        && text
            .chars()
            .take_while(|&c| is_ident_char(c))
            .any(char::is_lowercase)
}

fn variant_problems(
    named: &BTreeMap<String, usize>,
    allowed: &[(&str, usize, &str)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, &count) in named {
        match allowed.iter().find(|(p, _, _)| p == path) {
            Some(&(_, listed, _)) if listed == count => {}
            Some(&(_, listed, reason)) => problems.push(format!(
                "{path} names a provider variant {count} times, VARIANTS_STILL_NAMED says \
                 {listed} ({reason}): ask the provider through its interface, or write the \
                 new count if it went down"
            )),
            None => problems.push(format!(
                "{path} names a provider variant ({count} time{}): only src/provider/ and \
                 src/sandbox/ may; ask the provider through its interface",
                if count == 1 { "" } else { "s" }
            )),
        }
    }
    for (path, _, reason) in allowed {
        if !named.contains_key(*path) {
            problems.push(format!(
                "{path} no longer names a provider variant ({reason}): remove it from \
                 VARIANTS_STILL_NAMED"
            ));
        }
    }
    problems
}

/// Each import from a file under `src/sandbox/` of a module above it.
fn sandbox_imports_above(tree: &Tree) -> Vec<String> {
    let mut found = Vec::new();
    for (i, file) in tree.files.iter().enumerate() {
        if file.module.first().is_none_or(|m| m != "sandbox") {
            continue;
        }
        for &target in &tree.imports[i] {
            let to = &tree.files[target];
            if to
                .module
                .first()
                .is_some_and(|m| ABOVE_THE_SANDBOX.contains(&m.as_str()))
            {
                found.push(format!("{} imports {}", file.path, to.path));
            }
        }
    }
    found
}

#[test]
fn no_import_circle_over_three_files() {
    let tree = Tree::of_this_repository();
    let problems = circle_problems(&tree.circles(), CIRCLES_BEING_UNTIED);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn provider_variants_are_named_only_by_providers_and_the_sandbox() {
    let tree = Tree::of_this_repository();
    let problems = variant_problems(&variants_named(&tree), VARIANTS_STILL_NAMED);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_sandbox_imports_nothing_of_the_client() {
    let tree = Tree::of_this_repository();
    let found = sandbox_imports_above(&tree);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The face and the sandbox: their mod.rs composes, their other files
/// import what they share from siblings, never from the mod.rs.
#[test]
fn commands_and_sandbox_are_in_no_circle() {
    let tree = Tree::of_this_repository();
    let knotted: Vec<String> = tree
        .circles()
        .into_iter()
        .filter(|c| {
            c.iter()
                .any(|p| p.starts_with("src/commands/") || p.starts_with("src/sandbox/"))
        })
        .map(|c| c.join(", "))
        .collect();
    assert!(knotted.is_empty(), "{}", knotted.join("\n"));
}

fn tree_of(sources: &[(&str, &str)]) -> Tree {
    let owned: Vec<(String, String)> = sources
        .iter()
        .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
        .collect();
    Tree::from_sources(&owned)
}

fn imports_of(tree: &Tree, path: &str) -> Vec<String> {
    tree.imports[tree.index_of(path)]
        .iter()
        .map(|&i| tree.files[i].path.clone())
        .collect()
}

/// The reading finds each kind of path, and skips what is not code.
#[test]
fn the_reading_finds_every_kind_of_path() {
    let tree = tree_of(&[
        (
            "lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\npub use a::Thing;",
        ),
        (
            "a/mod.rs",
            "mod x;\nmod y;\nuse self::x::X;\nfn f() { y::run(); }",
        ),
        ("a/x.rs", "use super::{y::Y, super::b};"),
        ("a/y.rs", "use crate::{b::B, c::{self, C}};"),
        (
            "b.rs",
            "// use crate::c;\nconst S: &str = \"crate::a\";\nfn f() -> char { '{' }\n\
             #[cfg(test)]\nmod tests {\n    use crate::a::x;\n    fn g() { let _ = \"}\"; }\n}\n\
             fn h() { crate::c::go() }",
        ),
        ("c.rs", "/* crate::a */"),
        ("c_tests.rs", "use crate::a::x;"),
    ]);
    assert_eq!(imports_of(&tree, "src/lib.rs"), ["src/a/mod.rs"]);
    assert_eq!(
        imports_of(&tree, "src/a/mod.rs"),
        ["src/a/x.rs", "src/a/y.rs"]
    );
    assert_eq!(imports_of(&tree, "src/a/x.rs"), ["src/a/y.rs", "src/b.rs"]);
    assert_eq!(imports_of(&tree, "src/a/y.rs"), ["src/b.rs", "src/c.rs"]);
    assert_eq!(imports_of(&tree, "src/b.rs"), ["src/c.rs"]);
    assert!(imports_of(&tree, "src/c.rs").is_empty());
    assert!(imports_of(&tree, "src/c_tests.rs").is_empty());
}

/// A circle over the limit fails, naming its files; so does one listed
/// but grown, shrunk or gone.
#[test]
fn a_circle_over_three_files_is_found_and_refused() {
    let tree = tree_of(&[
        ("lib.rs", "mod p;"),
        ("p/mod.rs", "mod q;\nmod r;\nmod s;\nfn go() { q::go() }"),
        ("p/q.rs", "pub fn go() { super::r::go() }"),
        ("p/r.rs", "pub fn go() { super::s::go() }"),
        ("p/s.rs", "pub fn go() { crate::p::go() }"),
    ]);
    let circle = ["src/p/mod.rs", "src/p/q.rs", "src/p/r.rs", "src/p/s.rs"];
    assert_eq!(tree.circles(), [circle]);
    let refused = circle_problems(&tree.circles(), &[]);
    assert_eq!(refused.len(), 1);
    assert!(circle.iter().all(|f| refused[0].contains(f)), "{refused:?}");
    assert!(circle_problems(&tree.circles(), &[(&circle, "being untied")]).is_empty());
    let grown_from = &circle[..3];
    assert_eq!(
        circle_problems(&tree.circles(), &[(grown_from, "")]).len(),
        2
    );
    let gone = ["src/p/q.rs", "src/p/r.rs", "src/p/s.rs", "src/p/t.rs"];
    assert_eq!(
        circle_problems(&tree.circles(), &[(&circle, ""), (&gone, "")]).len(),
        1
    );
    // Three files in a circle are allowed.
    let three = tree_of(&[
        ("lib.rs", "mod p;"),
        ("p/mod.rs", "mod q;\nmod r;\nfn go() { q::go() }"),
        ("p/q.rs", "pub fn go() { super::r::go() }"),
        ("p/r.rs", "pub fn go() { crate::p::go() }"),
    ]);
    assert_eq!(three.circles().len(), 1);
    assert!(circle_problems(&three.circles(), &[]).is_empty());
}

#[test]
fn provider_variants_and_sandbox_imports_are_found() {
    let tree = tree_of(&[
        ("lib.rs", "mod model;\nmod provider;\nmod sandbox;"),
        (
            "model.rs",
            "fn f(k: ProviderKind) { if k == ProviderKind::Sigma {} \
             let _ = (ProviderKind::ALL, crate::provider::SiteConfig::Periscope(x)); }",
        ),
        ("provider/mod.rs", "fn f() { ProviderKind::Sigma; }"),
        ("sandbox/mod.rs", "mod x;"),
        ("sandbox/x.rs", "use super::super::model::Access;"),
    ]);
    let named = variants_named(&tree);
    assert_eq!(named, BTreeMap::from([("src/model.rs".to_string(), 2)]));
    assert_eq!(variant_problems(&named, &[]).len(), 1);
    assert!(variant_problems(&named, &[("src/model.rs", 2, "")]).is_empty());
    assert_eq!(
        variant_problems(&named, &[("src/model.rs", 3, "")]).len(),
        1
    );
    assert_eq!(
        sandbox_imports_above(&tree),
        ["src/sandbox/x.rs imports src/model.rs"]
    );
}
