//! Workspaces: independent states behind one `--state`, as Terraform's
//! are. A database keeps them in its tables; a local state file keeps the
//! `default` one itself and each other one in a directory beside it
//! (`terraform.tfstate.d/NAME/terraform.tfstate` in Terraform).

use std::path::{Path, PathBuf};

/// The workspace when none is named.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Checks a workspace (or schema) name: it goes into SQL identifiers, lock
/// keys and directory names, so letters, digits, `_` and `-`, up to 63
/// bytes (PostgreSQL's identifier limit). `what` names it in the error.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{what} `{name}` is not a valid name: use 1 to 63 letters, digits, `_` or `-`"
        ))
    }
}

/// The state file of `workspace` for the local state `file`: `file` itself
/// for the default workspace, else `STEM.d/WORKSPACE/FILE_NAME` beside it
/// (`costform.state.d/staging/costform.state.json`), so each workspace has
/// its own lock, journal, backup and `results/`.
pub fn local_file(file: &Path, workspace: &str) -> PathBuf {
    if workspace == DEFAULT_WORKSPACE {
        return file.to_owned();
    }
    let name = file.file_name().unwrap_or(file.as_os_str());
    let stem = file.file_stem().unwrap_or(name);
    let mut directory = stem.to_owned();
    directory.push(".d");
    file.with_file_name(directory).join(workspace).join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_workspace_is_the_file_and_others_live_beside_it() {
        let file = Path::new("ci/costform.state.json");
        assert_eq!(local_file(file, "default"), file);
        assert_eq!(
            local_file(file, "staging"),
            Path::new("ci/costform.state.d/staging/costform.state.json")
        );
        assert_eq!(
            local_file(Path::new("prod.json"), "eu-1"),
            Path::new("prod.d/eu-1/prod.json")
        );
    }

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        for bad in ["", "..", "a/b", "a b", "x".repeat(64).as_str()] {
            assert!(check_name("workspace", bad).is_err(), "{bad:?}");
        }
        assert!(check_name("workspace", "team_a-2").is_ok());
    }
}
