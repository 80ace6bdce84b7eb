//! Sigma account types: read with their permissions; custom ones created and
//! deleted (the API never edits one), a replacement carried out as delete
//! (people held on another type), create, and the people moved back.

use std::sync::Mutex;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{Call, Effect, SigmaClient};
use super::wire;
use crate::attrs::LiveAccountType;
use crate::model::Change;
use crate::provider::error::ProviderError;
use crate::provider::ids::SiteIds;
use crate::provider::lenient;
use crate::provider::path_segment as encode;

/// Account types whose permissions are read at once.
const PERMISSION_READS: usize = 2;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
#[expect(
    clippy::struct_field_names,
    reason = "the fields are the API's own names (camelCase)"
)]
struct AccountType {
    #[serde(deserialize_with = "lenient::id")]
    account_type_id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    account_type_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    description: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    is_custom: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Permission {
    #[serde(deserialize_with = "lenient::text")]
    permission: Option<String>,
}

impl SigmaClient {
    /// Every account type, with its permissions.
    pub(super) async fn live_account_types(&self) -> Result<Vec<LiveAccountType>, ProviderError> {
        let listed = self.list_account_types().await?;
        let permissions = crate::provider::run_all(
            listed.iter().map(|(id, _)| async move {
                let path = format!("/v2/accountTypes/{}/permissions", encode(id));
                let page: wire::Page<Permission> = self
                    .read(path, "list the permissions of an account type")
                    .await?;
                let mut names: Vec<String> =
                    page.items.into_iter().filter_map(|p| p.permission).collect();
                names.sort();
                names.dedup();
                Ok::<_, ProviderError>(names)
            }),
            PERMISSION_READS,
        )
        .await;
        listed
            .into_iter()
            .zip(permissions)
            .map(|((id, t), permissions)| {
                Ok(LiveAccountType {
                    id,
                    name: t.account_type_name.unwrap_or_default(),
                    description: t.description,
                    custom: t.is_custom,
                    permissions: permissions?,
                })
            })
            .collect()
    }

    /// Every account type with its id.
    async fn list_account_types(&self) -> Result<Vec<(String, AccountType)>, ProviderError> {
        let types: Vec<AccountType> = self.all_account_types("list account types").await?;
        let mut listed = Vec::with_capacity(types.len());
        for t in types {
            let Some(id) = t.account_type_id.clone() else {
                continue;
            };
            let name = t.account_type_name.as_deref().unwrap_or_default();
            let id = crate::provider::ids::usable_id(&self.name, "account type", name, id)?;
            listed.push((id, t));
        }
        Ok(listed)
    }

    /// Creates, replaces or deletes a custom account type.
    pub(super) async fn apply_account_type_change(
        &self,
        change: &Change,
        ids: &Mutex<SiteIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateAccountType {
                name,
                description,
                permissions,
            } => self.create_account_type(name, description, permissions).await,
            Change::ReplaceAccountType {
                name,
                id,
                description,
                permissions,
                moved,
                via_id,
                ..
            } => {
                self.delete_account_type(name, id, Some(via_id)).await?;
                self.create_account_type(name, &description.after, &permissions.after)
                    .await?;
                for email in moved {
                    self.move_member(ids, email, name).await?;
                }
                Ok(())
            }
            Change::DeleteAccountType { name, id, to, .. } => {
                let to = to.as_ref().map(|(_, id)| id);
                self.delete_account_type(name, id, to).await
            }
            _ => unreachable!("only account type changes come here"),
        }
    }

    async fn create_account_type(
        &self,
        name: &str,
        description: &str,
        permissions: &[String],
    ) -> Result<(), ProviderError> {
        self.send(&Call {
            method: Method::POST,
            path: "/v2/accountTypes".into(),
            action: "create account type",
            object: name,
            body: Some(json!({
                "name": name,
                "description": description,
                "permissions": permissions,
            })),
            effect: Effect::AccountTypeExists(name),
        })
        .await
        .map(|_| ())
    }

    async fn delete_account_type(
        &self,
        name: &str,
        id: &str,
        reassign_to: Option<&String>,
    ) -> Result<(), ProviderError> {
        let mut path = format!("/v2/accountTypes/{}", encode(id));
        if let Some(to) = reassign_to {
            path.push_str("?reassignToAccountTypeId=");
            path.push_str(&encode(to));
        }
        self.send(&Call {
            method: Method::DELETE,
            path,
            action: "delete account type",
            object: name,
            body: None,
            effect: Effect::Gone,
        })
        .await
        .map(|_| ())
    }

    /// Gives a member an account type (`memberType`).
    async fn move_member(
        &self,
        ids: &Mutex<SiteIds>,
        email: &str,
        account_type: &str,
    ) -> Result<(), ProviderError> {
        let member = self.member_id_of(ids, email)?;
        self.send(&Call {
            method: Method::PATCH,
            path: format!("/v2/members/{}", encode(&member)),
            action: "move member to account type",
            object: email,
            body: Some(json!({ "memberType": account_type })),
            effect: Effect::None,
        })
        .await
        .map(|_: Value| ())
    }
}
