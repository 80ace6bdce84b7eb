//! Why a plan cannot be made: plain data, shared by the plan of people
//! and groups and by the plans of providers' own kinds.

/// A plan that cannot be made without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "site `{site}`: group `{name}` lists `{previous}` in previous_names, but both `{live_current}` and `{live_previous}` exist on the site; roster will not guess which one to keep. Delete one of them on the site, or remove `{previous}` from previous_names"
    )]
    GroupRenameConflict {
        site: String,
        name: String,
        previous: String,
        live_current: String,
        live_previous: String,
    },
    #[error(
        "site `{site}`: user `{email}` lists `{previous}` in previous_emails, but both addresses exist on the site; roster will not guess which account to keep. Deactivate or delete `{previous}` on the site (the plan then keeps `{email}`), or remove `{previous}` from previous_emails"
    )]
    EmailRenameConflict {
        site: String,
        email: String,
        previous: String,
    },
    #[error(
        "site `{site}`: user `{email}` lists `{previous}` in previous_emails; `{previous}` is active on the site and `{email}` exists there deactivated, so the email cannot change to `{email}`. Delete the deactivated `{email}` on the site, or remove `{previous}` from previous_emails (the plan then reactivates `{email}` and removes `{previous}`)"
    )]
    EmailRenameOntoDeactivated {
        site: String,
        email: String,
        previous: String,
    },
    #[error(
        "site `{site}`: the site has two {noun}, \"{first}\" and \"{second}\", that roster cannot tell apart ({rule}); it will not guess which one the state means. Rename or remove one of them in {product}'s UI, then plan again"
    )]
    LiveDuplicate {
        site: String,
        noun: &'static str,
        first: String,
        second: String,
        rule: &'static str,
        product: &'static str,
    },
    #[error(
        "site `{site}`: invited_by `{inviter}` is not a user of the site, and Periscope creates users only in the name of one; add them in Periscope's UI, or set invited_by to a user the site has"
    )]
    InviterMissing { site: String, inviter: String },
    #[error(
        "site `{site}`: group \"{shown}\" ({chars} characters) has a name too long for the URL that Periscope's API addresses a group by; rename it in Periscope's UI, or set unmanaged_groups = \"keep\" for the site"
    )]
    GroupNameTooLong {
        site: String,
        /// The name's first characters, with how many more there are.
        shown: String,
        chars: usize,
    },
    #[error(
        "site `{site}`: group \"{name}\" cannot be addressed by Periscope's API: the URL path names the group, and `.` and `..` are dot segments that every HTTP client and server removes (even percent-encoded), so the request would reach another endpoint; rename it in Periscope's UI, or set unmanaged_groups = \"keep\" for the site"
    )]
    GroupNameDotSegment { site: String, name: String },
    #[error(
        "site `{site}`: user \"{email}\" has an email that Periscope's API cannot carry: the HTTP-X-EMAIL header that names a user to update or delete carries printable ASCII only. {hint}"
    )]
    EmailNotAscii {
        site: String,
        email: String,
        hint: &'static str,
    },
    #[error(
        "site `{site}`: user `{email}` lists `{previous}` in previous_emails, but Periscope's API cannot change an email. Remove previous_emails to delete `{previous}` and create `{email}`, or limit the user's sites"
    )]
    EmailChangeUnsupported {
        site: String,
        email: String,
        previous: String,
    },
    #[error(
        "{at}site `{site}`: user `{email}` has member_type `{given}`, which is not an account type of the organisation. Valid types: {valid}"
    )]
    UnknownMemberType {
        /// `file:line:column: ` of the `member_type`, when known.
        at: String,
        site: String,
        email: String,
        given: String,
        valid: String,
    },
    #[error(
        "site `{site}`: the plan {what} `{email}`, who is {why} and is never removed, deactivated or demoted. Declare them as they are, or remove them from protected"
    )]
    Protected {
        site: String,
        email: String,
        what: String,
        why: String,
    },
    #[error(
        "site `{site}`: the plan leaves {after} administrator(s), fewer than min_admins = {min} (there are {before} now). Keep enough administrators declared, or lower min_admins"
    )]
    TooFewAdmins {
        site: String,
        before: usize,
        after: usize,
        min: usize,
    },
    #[error(
        "site `{site}`: new_owner `{owner}` must be an active member of the site that SCIM does not manage, to receive deactivated members' documents{why}. Set new_owner under [sites.{site}] to such a member, or set archive_documents = true instead"
    )]
    NewOwnerUnavailable {
        site: String,
        owner: String,
        why: String,
    },
    #[error(transparent)]
    Access(#[from] super::access::AccessPlanError),
    #[error(
        "{at}site `{site}`: account type `{account_type}` lists permission `{permission}`, which no account type of the organisation has. Permissions the site offers: {offered}"
    )]
    UnknownPermission {
        /// `file:line:column: ` of the permission, when known.
        at: String,
        site: String,
        account_type: String,
        permission: String,
        offered: String,
    },
    #[error(
        "{place}: site `{site}`: `{name}` is one of the organisation's built-in account types, which cannot be declared in [[account_types]]. Remove the entry (people may still have member_type = \"{name}\")"
    )]
    BuiltinAccountType {
        place: String,
        site: String,
        name: String,
    },
    #[error(
        "site `{site}`: account type `{name}` must be replaced or deleted, and the organisation has no built-in account type to hold its people meanwhile; roster will not guess one"
    )]
    NoHoldingType { site: String, name: String },
    #[error(
        "{at}site `{site}`: user `{email}` has member_type `{name}`, a custom account type the state does not declare, and unmanaged_account_types = \"remove\" deletes it. Declare it in [[account_types]], or give the user another member_type"
    )]
    MemberTypeDeleted {
        /// `file:line:column: ` of the `member_type`, when known.
        at: String,
        site: String,
        email: String,
        name: String,
    },
    #[error(
        "{place}: site `{site}`: seats budgets `{name}`, which is not an account type of the organisation, so it would never be enforced. Its account types: {valid}{declared}. Fix the spelling, or remove it from `seats`"
    )]
    UnknownSeatType {
        place: String,
        site: String,
        name: String,
        valid: String,
        declared: String,
    },
}
