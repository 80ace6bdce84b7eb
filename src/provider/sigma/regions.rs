//! Sigma's API hosts by cloud and region (reference §2): the 13 production
//! hosts, the short names of Sigma's sample scripts, and their staging hosts.

/// `(name, base URL)`; names are what `cloud = "..."` accepts.
pub const CLOUDS: &[(&str, &str)] = &[
    ("gcp-us", "https://api.sigmacomputing.com"),
    ("gcp-ksa", "https://api.sa.gcp.sigmacomputing.com"),
    ("aws-us-west", "https://aws-api.sigmacomputing.com"),
    ("aws-us-east", "https://api.us-a.aws.sigmacomputing.com"),
    ("aws-ca", "https://api.ca.aws.sigmacomputing.com"),
    ("aws-eu", "https://api.eu.aws.sigmacomputing.com"),
    ("aws-au", "https://api.au.aws.sigmacomputing.com"),
    ("aws-uk", "https://api.uk.aws.sigmacomputing.com"),
    ("azure-us", "https://api.us.azure.sigmacomputing.com"),
    ("azure-eu", "https://api.eu.azure.sigmacomputing.com"),
    ("azure-ca", "https://api.ca.azure.sigmacomputing.com"),
    ("azure-uk", "https://api.uk.azure.sigmacomputing.com"),
    ("azure-au", "https://api.au.azure.sigmacomputing.com"),
    // The sample repository's `--cloud` names (production).
    ("aws", "https://aws-api.sigmacomputing.com"),
    ("gcp", "https://api.sigmacomputing.com"),
    ("azure", "https://api.us.azure.sigmacomputing.com"),
    // The sample repository's `--env staging` hosts.
    ("aws-staging", "https://staging-aws-api.sigmacomputing.io"),
    ("gcp-staging", "https://api.staging.sigmacomputing.io"),
    (
        "azure-staging",
        "https://api.staging.us.azure.sigmacomputing.io",
    ),
];

/// The base URL for a cloud name, compared ignoring case.
pub fn base_url(cloud: &str) -> Option<&'static str> {
    CLOUDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(cloud.trim()))
        .map(|(_, url)| *url)
}

/// Every accepted name, for error messages.
pub fn names() -> String {
    CLOUDS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(
        clippy::case_sensitive_file_extension_comparisons,
        reason = "these are URLs, written in lower case, not file names"
    )]
    fn every_production_region_and_the_sample_names_resolve() {
        assert_eq!(
            CLOUDS.iter().filter(|(_, u)| u.ends_with(".com")).count(),
            16
        );
        let distinct: std::collections::HashSet<_> = CLOUDS
            .iter()
            .map(|(_, u)| u)
            .filter(|u| u.ends_with(".com"))
            .collect();
        assert_eq!(distinct.len(), 13);
        assert_eq!(base_url("AWS"), Some("https://aws-api.sigmacomputing.com"));
        assert_eq!(
            base_url("azure-au"),
            Some("https://api.au.azure.sigmacomputing.com")
        );
        assert_eq!(base_url("mars"), None);
    }
}
