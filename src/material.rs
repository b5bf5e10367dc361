//! Secret material a deployment needs — the shared cluster CA (and its PKCS#12 trust store), the
//! SCRAM password, the image pull secret — and where each came from. Nothing here is ever
//! defaulted to a fixed value.

use crate::certs::CertificateAuthority;
use crate::settings::Settings;
use crate::truststore::CaTrustStore;
use anyhow::{Context, Result};
use base64::Engine;
use rand::distr::{Alphanumeric, SampleString};
use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    Generated,
    File(String),
    /// Already in the cluster (site and Secret name): re-runs reuse it.
    Cluster(String),
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::Generated => f.write_str("generated"),
            Provenance::File(p) => write!(f, "file {p}"),
            Provenance::Cluster(s) => write!(f, "cluster Secret {s}"),
        }
    }
}

#[derive(Clone)]
pub struct Material {
    pub ca: CertificateAuthority,
    pub ca_provenance: Provenance,
    /// `ca.p12` / `ca.password` of `<cluster>-cluster-ca-cert`, the same in both sites.
    pub ca_truststore: CaTrustStore,
    pub password: String,
    pub password_provenance: Provenance,
    /// SCRAM password of the mirror's own user (`mirror.name`), the same on both sites.
    pub mirror_password: String,
    /// SCRAM password of the DR operations user (`dr.user`), the same on both sites.
    pub dr_password: String,
    /// dockerconfigjson bytes of the image pull secret.
    pub pull_secret: Option<Vec<u8>>,
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Material")
            .field("ca", &self.ca.subject())
            .field("ca_provenance", &self.ca_provenance)
            .field("ca_truststore", &self.ca_truststore)
            .field("password", &"<redacted>")
            .field("password_provenance", &self.password_provenance)
            .field("mirror_password", &"<redacted>")
            .field("dr_password", &"<redacted>")
            .field("pull_secret", &self.pull_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Material already present in the cluster(s), found by the install before planning.
#[derive(Default, Clone)]
pub struct Existing {
    pub ca: Option<(CertificateAuthority, String)>,
    /// CA trust stores found (`ca.p12` + `ca.password`), in site order; kept if one matches the CA.
    pub ca_truststores: Vec<CaTrustStore>,
    pub password: Option<(String, String)>,
    pub mirror_password: Option<(String, String)>,
    pub dr_password: Option<(String, String)>,
}

impl Material {
    /// Resolve material: what the cluster already holds wins (idempotent re-runs), then files
    /// named in the settings, then freshly generated values.
    pub fn resolve(settings: &Settings, existing: Existing) -> Result<Self> {
        let (ca, ca_provenance) = match (existing.ca, &settings.ca.cert_file, &settings.ca.key_file) {
            (Some((ca, from)), _, _) => (ca, Provenance::Cluster(from)),
            (None, Some(cert), Some(key)) => {
                (CertificateAuthority::from_pem_files(cert, key)?, Provenance::File(cert.display().to_string()))
            }
            _ => (CertificateAuthority::generate("amqdr-cluster-ca", settings.ca.validity_days)?, Provenance::Generated),
        };
        // A new store has a new salt and password: keep the cluster's while it still fits the CA.
        let ca_truststore = match existing.ca_truststores.into_iter().find(|t| t.trusts_only(&ca.cert_pem)) {
            Some(kept) => kept,
            None => CaTrustStore::generate(&ca.cert_pem)?,
        };
        let (password, password_provenance) = match (existing.password, &settings.user.password_file) {
            (Some((p, from)), _) => (p, Provenance::Cluster(from)),
            (None, Some(path)) => (
                read_password_file(path).map_err(anyhow::Error::msg).with_context(|| format!("user.passwordFile {}", path.display()))?,
                Provenance::File(path.display().to_string()),
            ),
            (None, None) => (generate_password(), Provenance::Generated),
        };
        let pull_secret = match &settings.operator.pull_secret_file {
            Some(path) => Some(
                read_pull_secret(path)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("operator.pullSecretFile {}", path.display()))?,
            ),
            None => None,
        };
        // A file given wins (as for the application user), then the cluster's, then a new one.
        let kept_or_new = |file: &Option<std::path::PathBuf>, field: &str, existing: Option<(String, String)>| -> Result<String> {
            match (file, existing) {
                (Some(path), _) => {
                    read_password_file(path).map_err(anyhow::Error::msg).with_context(|| format!("{field} {}", path.display()))
                }
                (None, Some((p, _))) => Ok(p),
                (None, None) => Ok(generate_password()),
            }
        };
        let mirror_password = kept_or_new(&settings.mirror.password_file, "mirror.passwordFile", existing.mirror_password)?;
        let dr_password = kept_or_new(&settings.dr.password_file, "dr.passwordFile", existing.dr_password)?;
        Ok(Material { ca, ca_provenance, ca_truststore, password, password_provenance, mirror_password, dr_password, pull_secret })
    }

    /// Material for offline rendering (`render`, `--dry-run`): files if given, else generated.
    pub fn offline(settings: &Settings) -> Result<Self> {
        Self::resolve(settings, Existing::default())
    }
}

/// A random 32-character alphanumeric password (about 190 bits).
pub fn generate_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// Read a password file: the first line, without its line ending.
pub fn read_password_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err("the password file is empty".into());
    }
    Ok(line.to_string())
}

/// Read an image pull secret: dockerconfigjson as raw JSON, or base64 of it (as the seed's
/// `pull-secret.base64`). Returns the JSON bytes.
pub fn read_pull_secret(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let trimmed = text.trim();
    let json_bytes = if trimmed.starts_with('{') {
        trimmed.as_bytes().to_vec()
    } else {
        let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| "neither JSON nor base64 of a dockerconfigjson".to_string())?
    };
    let value: serde_json::Value =
        serde_json::from_slice(&json_bytes).map_err(|e| format!("not a dockerconfigjson (invalid JSON: {e})"))?;
    if !value.get("auths").is_some_and(|a| a.is_object()) {
        return Err("not a dockerconfigjson: it has no \"auths\" object".into());
    }
    Ok(serde_json::to_vec(&value).expect("re-serialize JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(content: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn pull_secret_raw_and_base64() {
        let json = br#"{"auths":{"registry.redhat.io":{"auth":"dXNlcjpwYXNz"}}}"#;
        let raw = read_pull_secret(file(json).path()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let decoded = read_pull_secret(file(format!("{b64}\n").as_bytes()).path()).unwrap();
        assert_eq!(raw, decoded);
        assert!(read_pull_secret(file(b"{\"x\":1}").path()).unwrap_err().contains("auths"));
        assert!(read_pull_secret(file(b"%%%").path()).unwrap_err().contains("base64"));
    }

    #[test]
    fn passwords_are_generated_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn password_file_first_line() {
        assert_eq!(read_password_file(file(b"s3cret\nignored\n").path()).unwrap(), "s3cret");
        assert!(read_password_file(file(b"\n").path()).is_err());
    }

    #[test]
    fn cluster_material_wins() {
        let settings = Settings::default();
        let ca = CertificateAuthority::generate("in-cluster", 365).unwrap();
        let m = Material::resolve(
            &settings,
            Existing {
                ca: Some((ca.clone(), "a/my-cluster-cluster-ca".into())),
                ca_truststores: vec![],
                password: Some(("pw".into(), "a/my-user-password".into())),
                ..Existing::default()
            },
        )
        .unwrap();
        assert_eq!(m.ca.cert_pem, ca.cert_pem);
        assert!(m.ca_truststore.trusts_only(&ca.cert_pem), "a trust store is made for the CA when the cluster has none");
        assert_eq!(m.password, "pw");
        assert!(matches!(m.ca_provenance, Provenance::Cluster(_)));
        assert!(!format!("{m:?}").contains("pw\""), "Debug must not print the password");
    }

    #[test]
    fn cluster_trust_store_is_kept_while_it_fits_the_ca() {
        let settings = Settings::default();
        let ca = CertificateAuthority::generate("in-cluster", 365).unwrap();
        let other = CertificateAuthority::generate("other", 365).unwrap();
        let kept = CaTrustStore::generate(&ca.cert_pem).unwrap();
        let stale = CaTrustStore::generate(&other.cert_pem).unwrap();
        let resolve = |stores: Vec<CaTrustStore>| {
            Material::resolve(
                &settings,
                Existing { ca: Some((ca.clone(), "a/my-cluster-cluster-ca".into())), ca_truststores: stores, ..Existing::default() },
            )
            .unwrap()
            .ca_truststore
        };
        // Site a's store is for another CA, site b's fits: b's is kept (and both sites get it).
        assert_eq!(resolve(vec![stale.clone(), kept.clone()]), kept);
        let fresh = resolve(vec![stale.clone()]);
        assert_ne!(fresh, stale);
        assert!(fresh.trusts_only(&ca.cert_pem));
    }
}
