//! The shared cluster CA: one CA for both sites (so one client truststore trusts production and
//! DR), generated with rcgen at install time or loaded from PEM files or the cluster's Secrets.
//! Also issues server certificates (used by the Kafka test bed the same way Strimzi would).

use anyhow::{Context, Result, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use std::net::IpAddr;
use std::path::Path;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// A CA certificate with its private key, both PEM.
#[derive(Clone)]
pub struct CertificateAuthority {
    pub cert_pem: String,
    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`), the form Strimzi and Kafka's PEM stores read.
    pub key_pem: String,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority").field("cert_pem", &self.cert_pem).field("key_pem", &"<redacted>").finish()
    }
}

/// A leaf certificate issued by a [`CertificateAuthority`].
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

impl CertificateAuthority {
    /// A new self-signed ECDSA P-256 CA with Basic Constraints CA:true.
    pub fn generate(common_name: &str, validity_days: u32) -> Result<Self> {
        let key = KeyPair::generate().context("generating the CA key")?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "amqdr");
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(i64::from(validity_days));
        let cert = params.self_signed(&key).context("self-signing the CA certificate")?;
        Ok(CertificateAuthority { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Load and check a CA from PEM text: a CA certificate and the private key that matches it.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let info = inspect_certificate(cert_pem)?;
        if !info.is_ca {
            bail!("the certificate ({}) is not a CA: it lacks Basic Constraints CA:true", info.subject);
        }
        let key = KeyPair::from_pem(key_pem).context(
            "the CA key is not an unencrypted PKCS#8 PEM private key (BEGIN PRIVATE KEY); convert it with `openssl pkcs8 -topk8 -nocrypt`",
        )?;
        if key.public_key_raw() != info.public_key_raw.as_slice() {
            bail!("the CA key does not belong to the CA certificate ({})", info.subject);
        }
        Ok(CertificateAuthority { cert_pem: cert_pem.to_string(), key_pem: key_pem.to_string() })
    }

    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self> {
        let cert_pem = std::fs::read_to_string(cert).with_context(|| format!("cannot read CA certificate {}", cert.display()))?;
        let key_pem = std::fs::read_to_string(key).with_context(|| format!("cannot read CA key {}", key.display()))?;
        Self::from_pem(&cert_pem, &key_pem).with_context(|| format!("CA files {} / {}", cert.display(), key.display()))
    }

    /// Issue a TLS server certificate for the given DNS names and IP addresses.
    pub fn issue_server(&self, common_name: &str, dns_names: &[String], ips: &[IpAddr], validity_days: u32) -> Result<IssuedCertificate> {
        let ca_key = KeyPair::from_pem(&self.key_pem).context("reading the CA key")?;
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, ca_key).context("reading the CA certificate")?;
        let key = KeyPair::generate().context("generating the server key")?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "amqdr");
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.subject_alt_names = dns_names
            .iter()
            .map(|d| d.clone().try_into().map(SanType::DnsName).with_context(|| format!("invalid DNS name {d:?}")))
            .chain(ips.iter().map(|ip| Ok(SanType::IpAddress(*ip))))
            .collect::<Result<_>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(i64::from(validity_days));
        let cert = params.signed_by(&key, &issuer).context("signing the server certificate")?;
        Ok(IssuedCertificate { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// SHA-256-free short identity for logs: the subject of the CA certificate.
    pub fn subject(&self) -> String {
        inspect_certificate(&self.cert_pem).map(|i| i.subject).unwrap_or_else(|_| "<unreadable>".into())
    }
}

pub struct CertificateInfo {
    pub subject: String,
    pub is_ca: bool,
    pub public_key_raw: Vec<u8>,
    pub not_after: OffsetDateTime,
}

/// Parse the first certificate of a PEM text.
pub fn inspect_certificate(pem_text: &str) -> Result<CertificateInfo> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem_text.as_bytes())
        .map_err(|e| anyhow::anyhow!("not a PEM certificate (BEGIN CERTIFICATE): {e}"))?;
    if pem.label != "CERTIFICATE" {
        bail!("expected a PEM CERTIFICATE, found {}", pem.label);
    }
    let (_, cert) = X509Certificate::from_der(&pem.contents).map_err(|e| anyhow::anyhow!("cannot parse the certificate: {e}"))?;
    let is_ca = cert.basic_constraints().ok().flatten().map(|bc| bc.value.ca).unwrap_or(false);
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        is_ca,
        public_key_raw: cert.public_key().subject_public_key.data.to_vec(),
        not_after: cert.validity().not_after.to_datetime(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ca_is_a_ca_and_reloads() {
        let ca = CertificateAuthority::generate("test-ca", 365).unwrap();
        assert!(ca.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 expected");
        let info = inspect_certificate(&ca.cert_pem).unwrap();
        assert!(info.is_ca);
        assert!(info.subject.contains("test-ca"));
        let reloaded = CertificateAuthority::from_pem(&ca.cert_pem, &ca.key_pem).unwrap();
        assert_eq!(reloaded.cert_pem, ca.cert_pem);
    }

    #[test]
    fn mismatched_key_is_rejected() {
        let a = CertificateAuthority::generate("a", 365).unwrap();
        let b = CertificateAuthority::generate("b", 365).unwrap();
        let err = CertificateAuthority::from_pem(&a.cert_pem, &b.key_pem).unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }

    #[test]
    fn leaf_certificate_is_not_accepted_as_ca() {
        let ca = CertificateAuthority::generate("ca", 365).unwrap();
        let leaf = ca.issue_server("localhost", &["localhost".into()], &["127.0.0.1".parse().unwrap()], 30).unwrap();
        let err = CertificateAuthority::from_pem(&leaf.cert_pem, &leaf.key_pem).unwrap_err();
        assert!(err.to_string().contains("not a CA"), "{err}");
        assert!(!inspect_certificate(&leaf.cert_pem).unwrap().is_ca);
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        let err = inspect_certificate("hello").err().unwrap();
        assert!(err.to_string().contains("PEM"), "{err}");
    }
}
