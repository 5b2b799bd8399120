//! Qingling's custom search attributes on the Temporal side: the embedded dev server registers
//! them at start (`--search-attribute`), and a worker against a configured cluster checks at
//! start that the cluster has them, so a missing one is named before the first workflow start
//! is refused. Registering them on a cluster is the operators' step (README, Scaling): it changes
//! the namespace for everyone, and Temporal Cloud does not take it through the operator API.

use anyhow::{Result, bail};
use qingling_workflows::visibility;
use std::collections::HashMap;
use temporalio_client::tonic::Request;
use temporalio_client::{Client, NamespacedClient};
use temporalio_common::protos::temporal::api::operatorservice::v1::ListSearchAttributesRequest;

/// The attributes in the form `DevServerOptions::search_attributes` takes.
pub fn for_dev_server() -> Vec<(String, String)> {
    visibility::declared().into_iter().map(|(name, ty)| (name.to_string(), ty.to_string())).collect()
}

/// The `temporal operator search-attribute create` commands that register `missing`: one per
/// type (the command takes several `--name`s but one `--type`).
pub fn create_commands(namespace: &str, missing: &[(&str, &str)]) -> Vec<String> {
    let mut types: Vec<&str> = missing.iter().map(|(_, ty)| *ty).collect();
    types.sort_unstable();
    types.dedup();
    types
        .into_iter()
        .map(|ty| {
            let names: String = missing.iter().filter(|(_, t)| *t == ty).map(|(name, _)| format!(" --name {name}")).collect();
            format!("temporal operator search-attribute create --namespace {namespace}{names} --type {ty}")
        })
        .collect()
}

/// Our attributes the cluster lacks or knows under another type, from its list of custom ones
/// (name → `IndexedValueType` number).
pub fn missing(custom: &HashMap<String, i32>) -> Vec<(&'static str, &'static str)> {
    visibility::declared()
        .into_iter()
        .filter(|(name, ty)| {
            custom.get(*name).and_then(|t| temporalio_common::protos::temporal::api::enums::v1::IndexedValueType::try_from(*t).ok()).map(visibility::cli_type)
                != Some(*ty)
        })
        .collect()
}

/// Fails with the command to run when the cluster lacks one of the attributes. If the cluster
/// does not answer the question (no operator permission), says so and carries on: a start is
/// then refused with the attribute's name (`engine::start_error`).
pub async fn check(client: &Client) -> Result<()> {
    let namespace = client.namespace();
    let answer =
        client.connection().operator_service().list_search_attributes(Request::new(ListSearchAttributesRequest { namespace: namespace.clone() })).await;
    let custom = match answer {
        Ok(r) => r.into_inner().custom_attributes,
        Err(status) => {
            tracing::warn!(error = %status.message(), "cannot list the cluster's search attributes; starting anyway");
            return Ok(());
        }
    };
    let missing = missing(&custom);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|(n, t)| format!("{n} ({t})")).collect();
        bail!(
            "the Temporal namespace {namespace} lacks Qingling's search attributes {}; register them once with:\n  {}",
            names.join(", "),
            create_commands(&namespace, &missing).join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attribute_of_another_type_counts_as_missing() {
        let mut custom: HashMap<String, i32> = HashMap::new();
        custom.insert("QinglingKind".into(), 2);
        custom.insert("QinglingFacility".into(), 2);
        custom.insert("QinglingStatus".into(), 2);
        assert_eq!(missing(&custom), vec![("QinglingFacility", "Int"), ("QinglingRegion", "Keyword")]);
        assert_eq!(
            create_commands("default", &missing(&custom)),
            vec![
                "temporal operator search-attribute create --namespace default --name QinglingFacility --type Int",
                "temporal operator search-attribute create --namespace default --name QinglingRegion --type Keyword",
            ]
        );
    }
}
