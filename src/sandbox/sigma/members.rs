//! What an emulated organisation does with its people beyond their profile
//! (the details are in [`super::people`]): their kind, team admins, and
//! the files, schedules and token revocation endpoints.

use serde_json::{Value, json};

use super::people::MemberDetails;
use super::store::{SigmaOrg, paginate};
use crate::sandbox::answer::{Answer, ApiError};

impl SigmaOrg {
    /// A member's details (defaults for one never recorded).
    pub fn details(&self, member: &str) -> MemberDetails {
        self.member_details.get(member).cloned().unwrap_or_default()
    }

    pub fn details_mut(&mut self, member: &str) -> &mut MemberDetails {
        self.member_details.entry(member.to_string()).or_default()
    }

    pub fn user_kind(&self, member: &str) -> &str {
        self.member_details
            .get(member)
            .map_or("internal", |d| d.user_kind.as_str())
    }

    pub fn is_team_admin(&self, team: &str, member: &str) -> bool {
        self.team_admins
            .get(team)
            .is_some_and(|a| a.iter().any(|m| m == member))
    }

    /// Scheduled exports go with the documents, or are archived.
    pub fn hand_over_schedules(&mut self, from: &str, to: Option<&str>) {
        let schedules = std::mem::take(&mut self.details_mut(from).schedules);
        match to {
            Some(t) => self.details_mut(t).schedules += schedules,
            None => self.archived_schedules += schedules,
        }
    }

    /// `GET /v2/members/{id}/files`: every document the member can reach
    /// (Sigma's OpenAPI, `listAccessibleInodes`), as workbooks: their own
    /// (`ownerId` theirs), then those shared with them (the credentials
    /// owner's), then those with a null `ownerId`.
    pub fn member_files(
        &self,
        id: &str,
        limit: Option<&str>,
        page: Option<&str>,
    ) -> Result<Answer, ApiError> {
        let m = &self.members[self.member_position(id)?];
        let d = self.details(id);
        let owner = |n: u32| -> Option<&str> {
            if n < m.documents {
                Some(id)
            } else if n < m.documents + d.shared_documents {
                Some(&self.credentials_owner)
            } else {
                None
            }
        };
        let files: Vec<u32> = (0..m.documents + d.shared_documents + d.ownerless_documents).collect();
        paginate(&files, limit, page, |n| {
            json!({
                "id": format!("{id}-doc-{n}"),
                "urlId": format!("doc{n}"),
                "name": format!("Workbook {n}"),
                "type": "workbook",
                "parentId": format!("{id}-home"),
                "permission": "edit",
                "ownerId": owner(*n),
            })
        })
        .map(Answer::from)
    }

    /// `POST /v2/members/{id}/revoke` (Sigma's OpenAPI,
    /// `revokeMemberTokens`): the member's OAuth refresh tokens are revoked;
    /// answered `{memberId, results: {oauth: {tokensRevoked}}}`.
    pub fn revoke_member_tokens(&mut self, id: &str) -> Result<Value, ApiError> {
        self.member_position(id)?;
        let d = self.details_mut(id);
        let revoked = std::mem::take(&mut d.oauth_tokens);
        d.revocations += 1;
        Ok(json!({ "memberId": id, "results": { "oauth": { "tokensRevoked": revoked } } }))
    }

    /// `GET /v2/members/{id}/schedules`: the member's scheduled exports.
    pub fn member_schedules(
        &self,
        id: &str,
        limit: Option<&str>,
        page: Option<&str>,
    ) -> Result<Answer, ApiError> {
        self.member_position(id)?;
        let schedules: Vec<u32> = (0..self.details(id).schedules).collect();
        paginate(&schedules, limit, page, |n| {
            json!({
                "scheduledNotificationId": format!("{id}-schedule-{n}"),
                "workbookId": format!("{id}-doc-{n}"),
                "schedule": { "cronSpec": "0 9 * * 1", "timezone": "UTC" },
            })
        })
        .map(Answer::from)
    }

    fn member_position(&self, id: &str) -> Result<usize, ApiError> {
        self.members
            .iter()
            .position(|m| m.member_id == id)
            .ok_or_else(|| ApiError::new(404, format!("Member not found: {id}")))
    }
}
