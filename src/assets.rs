//! Files embedded in the binary: Strimzi's CRDs and ClusterRoles of both supported releases
//! (Apache-2.0, see crd/README.md) and amqdr's own minijinja templates. The single binary
//! works from any directory.

use crate::profile::Profile;
use include_dir::{Dir, include_dir};

static CRDS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/crd");
static CLUSTER_ROLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/clusterrole");
static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// An embedded YAML file: its path (for error messages) and text.
pub struct Asset {
    pub path: String,
    pub text: &'static str,
}

fn yaml_files(dir: &'static Dir<'static>, sub: &str) -> Vec<Asset> {
    let folder = dir.get_dir(sub).unwrap_or_else(|| panic!("embedded folder {sub} is missing"));
    let mut files: Vec<Asset> = folder
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "yaml"))
        .map(|f| Asset {
            path: f.path().display().to_string(),
            text: f.contents_utf8().unwrap_or_else(|| panic!("{} is not UTF-8", f.path().display())),
        })
        .collect();
    // Upstream's numeric prefixes give the apply order.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

pub fn crds(profile: Profile) -> Vec<Asset> {
    yaml_files(&CRDS, profile.strimzi_version())
}

pub fn cluster_roles(profile: Profile) -> Vec<Asset> {
    yaml_files(&CLUSTER_ROLES, profile.strimzi_version())
}

/// Template source by name (`common/topic.yaml.j2`), for the minijinja loader.
pub fn template(name: &str) -> Option<&'static str> {
    TEMPLATES.get_file(name).and_then(|f| f.contents_utf8())
}

/// Every embedded template name (for tests and `render --list-templates`).
pub fn template_names() -> Vec<String> {
    fn walk(dir: &Dir<'_>, out: &mut Vec<String>) {
        for f in dir.files() {
            out.push(f.path().display().to_string());
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    let mut out = Vec::new();
    walk(&TEMPLATES, &mut out);
    out.sort();
    out
}
