//! Report addresses on the command line: `report.NAME` also names every
//! `for_each` instance `report.NAME["KEY"]`, as a Terraform resource address
//! names its instances.

use std::collections::BTreeMap;

use costform_model::ids::ReportName;

/// The reports of `held` that `names` address, in the order named, each
/// once; a name that addresses none is kept as it is, so the command can
/// say it is unknown.
pub fn expand<V>(names: &[ReportName], held: &BTreeMap<ReportName, V>) -> Vec<ReportName> {
    let mut expanded: Vec<ReportName> = Vec::with_capacity(names.len());
    for name in names {
        let before = expanded.len();
        expanded.extend(held.keys().filter(|held| name.covers(held)).cloned());
        if expanded.len() == before {
            expanded.push(name.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    expanded.retain(|name| seen.insert(name.clone()));
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> ReportName {
        ReportName::parse(text).unwrap()
    }

    #[test]
    fn a_report_name_addresses_its_instances() {
        let held: BTreeMap<ReportName, u8> = [
            (name(r#"per-org["amer"]"#), 1),
            (name(r#"per-org["emea"]"#), 2),
            (name("per-orgs"), 3),
        ]
        .into();
        assert_eq!(
            expand(
                &[name("per-org"), name(r#"per-org["emea"]"#), name("gone")],
                &held
            ),
            [
                name(r#"per-org["amer"]"#),
                name(r#"per-org["emea"]"#),
                name("gone")
            ]
        );
    }
}
