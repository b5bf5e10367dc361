//! Secret material a deployment needs — the shared cluster CA (and its PKCS#12 trust store), the
//! SCRAM password, the image pull secret — and where each came from. Nothing here is ever
//! defaulted to a fixed value.

use crate::certs::CertificateAuthority;
use crate::settings::Settings;
use crate::truststore::CaTrustStore;
use anyhow::{Context, Result};
use rand::distr::{Alphanumeric, SampleString};
use std::fmt;

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
                crate::settings::files::read_password_file(path)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("user.passwordFile {}", path.display()))?,
                Provenance::File(path.display().to_string()),
            ),
            (None, None) => (generate_password(), Provenance::Generated),
        };
        let pull_secret = match &settings.operator.pull_secret_file {
            Some(path) => Some(
                crate::settings::files::read_pull_secret(path)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("operator.pullSecretFile {}", path.display()))?,
            ),
            None => None,
        };
        // A file given wins (as for the application user), then the cluster's, then a new one.
        let kept_or_new = |file: &Option<std::path::PathBuf>, field: &str, existing: Option<(String, String)>| -> Result<String> {
            match (file, existing) {
                (Some(path), _) => crate::settings::files::read_password_file(path)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("{field} {}", path.display())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_generated_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
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
