//! Java trust stores. Writing: the PKCS#12 store of the cluster CA that Strimzi publishes as
//! `ca.p12` / `ca.password` in `<cluster>-cluster-ca-cert` (it only does so for a CA it generates
//! itself, so amqdr, which provides the CA, does it the same way). Reading: the stores Java
//! clients are configured with (`ssl.truststore.type` JKS, PKCS12 or PEM), so the certificates
//! a seed-style client properties file trusts become the CA librdkafka trusts.

use anyhow::{Context, Result, anyhow};
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use rand::Rng;
use sha1::{Digest, Sha1};
use std::fmt;

/// The alias Strimzi gives the CA certificate in `ca.p12` (the Secret key it came from).
pub const CA_STORE_ALIAS: &str = "ca.crt";

/// The first four bytes of a JKS key store.
const JKS_MAGIC: u32 = 0xFEED_FEED;
/// JCEKS (Java's other proprietary format), which Java's JKS and PKCS12 loaders do not read.
const JCEKS_MAGIC: u32 = 0xCECE_CECE;

/// A PKCS#12 trust store holding the cluster CA certificate, and its password.
#[derive(Clone, PartialEq, Eq)]
pub struct CaTrustStore {
    pub p12: Vec<u8>,
    pub password: String,
}

impl fmt::Debug for CaTrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaTrustStore").field("p12", &format!("{} bytes", self.p12.len())).field("password", &"<redacted>").finish()
    }
}

impl CaTrustStore {
    /// A new store with the CA certificate as its only trusted-certificate entry, protected by a
    /// fresh password. Written the way Java 17's `KeyStore.getInstance("PKCS12")` writes one
    /// (what the operator uses): certificates encrypted with PBES2/AES-256, HMAC-SHA-256 MAC,
    /// and the trusted-key-usage attribute Java needs to see a certificate bag as trusted.
    pub fn generate(ca_cert_pem: &str) -> Result<Self> {
        let der = first_certificate_der(ca_cert_pem)?;
        let cert = Certificate::from_der(&der).map_err(|e| anyhow!("cannot read the CA certificate for ca.p12: {e}"))?;
        let mut store = KeyStore::new();
        store.add_entry(CA_STORE_ALIAS, KeyStoreEntry::Certificate(cert));
        let password = generate_store_password();
        let p12 = store.writer(&password).write().map_err(|e| anyhow!("writing the CA trust store (ca.p12): {e}"))?;
        Ok(CaTrustStore { p12, password })
    }

    /// Whether the store opens with its password and trusts exactly the given CA certificate,
    /// so a store found in the cluster can be kept (re-runs change nothing).
    pub fn trusts_only(&self, ca_cert_pem: &str) -> bool {
        let Ok(expected) = first_certificate_der(ca_cert_pem) else { return false };
        match read_pkcs12(&self.p12, Some(&self.password)) {
            Ok(found) => found == [expected],
            Err(_) => false,
        }
    }
}

/// A store password like the operator's: 12 characters, a letter first (Java's JAAS parsing
/// dislikes a leading digit), then letters and digits.
pub fn generate_store_password() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let mut password = String::with_capacity(12);
    password.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    for _ in 1..12 {
        password.push(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())] as char);
    }
    password
}

fn first_certificate_der(pem_text: &str) -> Result<Vec<u8>> {
    let block = pem::parse_many(pem_text)
        .context("not PEM text")?
        .into_iter()
        .find(|p| p.tag() == "CERTIFICATE")
        .ok_or_else(|| anyhow!("no PEM CERTIFICATE found"))?;
    Ok(block.into_contents())
}

/// `ssl.truststore.type` as Java clients name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    Jks,
    Pkcs12,
    Pem,
}

impl StoreType {
    /// Java's default `KeyStore` type for Kafka clients (`ssl.truststore.type` unset).
    pub const JAVA_DEFAULT: StoreType = StoreType::Jks;

    /// The name as `ssl.truststore.type` spells it.
    pub fn name(self) -> &'static str {
        match self {
            StoreType::Jks => "JKS",
            StoreType::Pkcs12 => "PKCS12",
            StoreType::Pem => "PEM",
        }
    }

    /// Key store type names are case-insensitive in Java.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "JKS" => Some(StoreType::Jks),
            "PKCS12" => Some(StoreType::Pkcs12),
            "PEM" => Some(StoreType::Pem),
            _ => None,
        }
    }
}

/// What a trust store file turned out to be and the certificates Java would trust from it.
#[derive(Debug, Clone)]
pub struct LoadedStore {
    /// `JKS`, `PKCS#12` or `PEM`: the format found by content.
    pub format: &'static str,
    /// DER certificates: trusted-certificate entries, and the first certificate of each
    /// private-key entry (Java's trust managers trust those too).
    pub certificates: Vec<Vec<u8>>,
}

impl LoadedStore {
    /// The certificates as PEM text (librdkafka's `ssl.ca.pem`).
    pub fn to_pem(&self) -> String {
        let lf = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
        self.certificates.iter().map(|der| pem::encode_config(&pem::Pem::new("CERTIFICATE", der.clone()), lf)).collect()
    }
}

/// Why a trust store could not be read. The caller names the file and the properties.
#[derive(Debug, thiserror::Error)]
pub enum TrustStoreError {
    #[error("the {format} store's integrity check failed: the password is wrong (or the file is damaged)")]
    WrongPassword { format: &'static str },
    #[error("it is a PKCS#12 store and its certificates are encrypted: Java reads none of them without the store password")]
    PasswordRequired,
    #[error("it is PEM text, which Java's {declared} loader does not read")]
    PemText { declared: &'static str },
    #[error("it is a PEM trust store, and PEM trust stores have no password (Kafka clients reject a password for them)")]
    PemWithPassword,
    #[error("it is a JCEKS store, which Java's JKS and PKCS12 loaders do not read")]
    Jceks,
    #[error("it holds no trusted certificate")]
    NoCertificates,
    #[error("it is not a readable {format} store: {reason}")]
    Malformed { format: &'static str, reason: String },
}

/// Read a trust store as a Java client would: `declared` is `ssl.truststore.type`. Java's JKS and
/// PKCS12 loaders each read both formats (`keystore.type.compat`), so those two are told apart
/// by content (the JKS magic number), not by the declared type. Without a password, Java skips
/// the JKS integrity check, and finds nothing in a PKCS#12 store's encrypted certificates.
pub fn read_trust_store(bytes: &[u8], declared: StoreType, password: Option<&str>) -> Result<LoadedStore, TrustStoreError> {
    if declared == StoreType::Pem {
        if password.is_some() {
            return Err(TrustStoreError::PemWithPassword);
        }
        let certificates = read_pem(bytes)?;
        return Ok(LoadedStore { format: "PEM", certificates });
    }
    let magic = bytes.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let certificates = match magic {
        Some(JKS_MAGIC) => read_jks(bytes, password)?,
        Some(JCEKS_MAGIC) => return Err(TrustStoreError::Jceks),
        _ if bytes.trim_ascii_start().starts_with(b"-----BEGIN") => {
            return Err(TrustStoreError::PemText { declared: declared.name() });
        }
        _ => read_pkcs12(bytes, password)?,
    };
    if certificates.is_empty() {
        return Err(TrustStoreError::NoCertificates);
    }
    let format = if magic == Some(JKS_MAGIC) { "JKS" } else { "PKCS#12" };
    Ok(LoadedStore { format, certificates })
}

fn read_pem(bytes: &[u8]) -> Result<Vec<Vec<u8>>, TrustStoreError> {
    let malformed = |reason: String| TrustStoreError::Malformed { format: "PEM", reason };
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("binary data, not PEM text".into()))?;
    let blocks = pem::parse_many(text).map_err(|e| malformed(e.to_string()))?;
    let certificates: Vec<Vec<u8>> = blocks.into_iter().filter(|b| b.tag() == "CERTIFICATE").map(pem::Pem::into_contents).collect();
    if certificates.is_empty() {
        return Err(TrustStoreError::NoCertificates);
    }
    Ok(certificates)
}

fn read_pkcs12(bytes: &[u8], password: Option<&str>) -> Result<Vec<Vec<u8>>, TrustStoreError> {
    let Some(password) = password else { return Err(TrustStoreError::PasswordRequired) };
    // Strict is Java's rule: a certificate without a key counts only with the trusted-key-usage attribute.
    let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict).map_err(|e| match e {
        p12_keystore::error::Error::MacError(_) => TrustStoreError::WrongPassword { format: "PKCS#12" },
        other => TrustStoreError::Malformed { format: "PKCS#12", reason: other.to_string() },
    })?;
    Ok(store
        .entries()
        .filter_map(|(_, entry)| match entry {
            KeyStoreEntry::Certificate(c) => Some(c.as_der().to_vec()),
            KeyStoreEntry::PrivateKeyChain(chain) => chain.certs().first().map(|c| c.as_der().to_vec()),
            KeyStoreEntry::Secret(_) => None,
        })
        .collect())
}

/// JKS, read by hand (a small, fixed format; `sun.security.provider.JavaKeyStore`):
/// magic `0xFEEDFEED`, version (1 or 2), entry count, entries, then a SHA-1 digest over the
/// password (UTF-16BE), the bytes of "Mighty Aphrodite" and everything before the digest.
/// Entry: tag (1 private key, 2 trusted certificate), alias (modified UTF-8 with a u16 length),
/// creation time (u64 ms); a trusted certificate is [type name (version 2)] + u32 length + DER;
/// a private key is u32 length + protected key, then a chain of such certificates.
fn read_jks(bytes: &[u8], password: Option<&str>) -> Result<Vec<Vec<u8>>, TrustStoreError> {
    const DIGEST_LEN: usize = 20;
    let malformed = |reason: &str| TrustStoreError::Malformed { format: "JKS", reason: reason.into() };
    if bytes.len() < 12 + DIGEST_LEN {
        return Err(malformed("too short"));
    }
    let (data, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    let mut r = Reader { bytes: data, at: 4 };
    let version = r.u32().ok_or_else(|| malformed("truncated header"))?;
    if version != 1 && version != 2 {
        return Err(malformed(&format!("unknown version {version}")));
    }
    let count = r.u32().ok_or_else(|| malformed("truncated header"))?;
    let mut certificates = Vec::new();
    for _ in 0..count {
        let truncated = || malformed("truncated entry");
        let tag = r.u32().ok_or_else(truncated)?;
        r.utf().ok_or_else(truncated)?; // alias
        r.take(8).ok_or_else(truncated)?; // creation time
        let certificate = |r: &mut Reader| -> Option<Vec<u8>> {
            if version == 2 {
                r.utf()?; // certificate type, "X.509"
            }
            let len = r.u32()? as usize;
            r.take(len).map(<[u8]>::to_vec)
        };
        match tag {
            1 => {
                let key_len = r.u32().ok_or_else(truncated)? as usize;
                r.take(key_len).ok_or_else(truncated)?;
                let chain_len = r.u32().ok_or_else(truncated)?;
                for i in 0..chain_len {
                    let cert = certificate(&mut r).ok_or_else(truncated)?;
                    if i == 0 {
                        certificates.push(cert);
                    }
                }
            }
            2 => certificates.push(certificate(&mut r).ok_or_else(truncated)?),
            other => return Err(malformed(&format!("unknown entry tag {other}"))),
        }
    }
    if r.at != data.len() {
        return Err(malformed("trailing data before the digest"));
    }
    if let Some(password) = password
        && jks_digest(password, data) != digest
    {
        return Err(TrustStoreError::WrongPassword { format: "JKS" });
    }
    Ok(certificates)
}

/// The JKS integrity digest of `data` under `password`.
fn jks_digest(password: &str, data: &[u8]) -> [u8; 20] {
    let mut sha = Sha1::new();
    for unit in password.encode_utf16() {
        sha.update(unit.to_be_bytes());
    }
    sha.update(b"Mighty Aphrodite");
    sha.update(data);
    sha.finalize().into()
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A `DataOutput.writeUTF` string, skipped: u16 length, then that many bytes.
    fn utf(&mut self) -> Option<&'a [u8]> {
        let len = self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))?;
        self.take(usize::from(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::CertificateAuthority;

    /// A JKS store as `keytool -importcert -storetype JKS` writes it (version 2).
    fn jks(password: &str, entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(JKS_MAGIC.to_be_bytes());
        out.extend(2u32.to_be_bytes());
        out.extend((entries.len() as u32).to_be_bytes());
        for (alias, der) in entries {
            out.extend(2u32.to_be_bytes());
            out.extend((alias.len() as u16).to_be_bytes());
            out.extend(alias.as_bytes());
            out.extend(1_700_000_000_000u64.to_be_bytes());
            out.extend(5u16.to_be_bytes());
            out.extend(b"X.509");
            out.extend((der.len() as u32).to_be_bytes());
            out.extend(*der);
        }
        let digest = jks_digest(password, &out);
        out.extend(digest);
        out
    }

    fn ca_der(ca: &CertificateAuthority) -> Vec<u8> {
        first_certificate_der(&ca.cert_pem).unwrap()
    }

    #[test]
    fn ca_store_is_pkcs12_with_one_trusted_entry_named_like_strimzi() {
        let ca = CertificateAuthority::generate("test-ca", 30).unwrap();
        let store = CaTrustStore::generate(&ca.cert_pem).unwrap();
        assert_eq!(store.password.len(), 12);
        assert!(store.password.chars().next().unwrap().is_ascii_alphabetic());
        assert!(store.password.chars().all(|c| c.is_ascii_alphanumeric()));
        // What Java sees: the archive's bags, with the trusted-key-usage attribute.
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&store.p12, &store.password).unwrap();
        assert_eq!(archive.certs.len(), 1);
        assert!(archive.certs[0].trusted, "Java ignores certificate bags without the trusted-key-usage attribute");
        assert!(archive.keys.is_empty());
        let ks = KeyStore::from_pkcs12(&store.p12, &store.password, Pkcs12ImportPolicy::Strict).unwrap();
        assert!(matches!(ks.entry(CA_STORE_ALIAS), Some(KeyStoreEntry::Certificate(c)) if c.as_der() == ca_der(&ca)));
        // And the reader used for client trust stores finds the CA.
        let loaded = read_trust_store(&store.p12, StoreType::Pkcs12, Some(&store.password)).unwrap();
        assert_eq!(loaded.format, "PKCS#12");
        assert_eq!(loaded.certificates, vec![ca_der(&ca)]);
        assert!(loaded.to_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn ca_store_is_kept_only_for_its_own_ca() {
        let ca = CertificateAuthority::generate("a", 30).unwrap();
        let other = CertificateAuthority::generate("b", 30).unwrap();
        let store = CaTrustStore::generate(&ca.cert_pem).unwrap();
        assert!(store.trusts_only(&ca.cert_pem));
        assert!(!store.trusts_only(&other.cert_pem));
        let wrong_password = CaTrustStore { password: "nope".into(), ..store.clone() };
        assert!(!wrong_password.trusts_only(&ca.cert_pem));
        let passwords: std::collections::HashSet<String> = (0..20).map(|_| generate_store_password()).collect();
        assert_eq!(passwords.len(), 20);
        assert!(!format!("{store:?}").contains(&store.password));
    }

    #[test]
    fn jks_trusted_entries_with_and_without_password() {
        let a = CertificateAuthority::generate("a", 30).unwrap();
        let b = CertificateAuthority::generate("b", 30).unwrap();
        let bytes = jks("test1234", &[("caroot", &ca_der(&a)), ("other", &ca_der(&b))]);
        for declared in [StoreType::Jks, StoreType::Pkcs12] {
            let loaded = read_trust_store(&bytes, declared, Some("test1234")).unwrap();
            assert_eq!(loaded.format, "JKS");
            assert_eq!(loaded.certificates, vec![ca_der(&a), ca_der(&b)]);
        }
        // Java skips the integrity check without a password.
        assert_eq!(read_trust_store(&bytes, StoreType::Jks, None).unwrap().certificates.len(), 2);
        let err = read_trust_store(&bytes, StoreType::Jks, Some("wrong")).unwrap_err();
        assert!(matches!(err, TrustStoreError::WrongPassword { format: "JKS" }), "{err}");
        let mut damaged = bytes.clone();
        damaged[100] ^= 1; // inside the first certificate
        assert!(matches!(read_trust_store(&damaged, StoreType::Jks, Some("test1234")), Err(TrustStoreError::WrongPassword { .. })));
        let truncated = &bytes[..bytes.len() - 30];
        assert!(matches!(read_trust_store(truncated, StoreType::Jks, None), Err(TrustStoreError::Malformed { .. })));
        assert!(matches!(read_trust_store(&jks("x", &[]), StoreType::Jks, None), Err(TrustStoreError::NoCertificates)));
    }

    #[test]
    fn jks_digest_matches_javas_definition() {
        // SHA-1 over UTF-16BE password bytes, the whitener, then the data.
        let mut sha = Sha1::new();
        sha.update([0, b'p', 0, b'w']);
        sha.update(b"Mighty Aphrodite");
        sha.update(b"data");
        let expected: [u8; 20] = sha.finalize().into();
        assert_eq!(jks_digest("pw", b"data"), expected);
    }

    #[test]
    fn pkcs12_needs_its_password() {
        let ca = CertificateAuthority::generate("a", 30).unwrap();
        let store = CaTrustStore::generate(&ca.cert_pem).unwrap();
        // Declared JKS (Java's default type): still read as PKCS#12, by content.
        assert_eq!(read_trust_store(&store.p12, StoreType::Jks, Some(&store.password)).unwrap().format, "PKCS#12");
        assert!(matches!(read_trust_store(&store.p12, StoreType::Pkcs12, None), Err(TrustStoreError::PasswordRequired)));
        assert!(matches!(
            read_trust_store(&store.p12, StoreType::Pkcs12, Some("wrong")),
            Err(TrustStoreError::WrongPassword { format: "PKCS#12" })
        ));
        assert!(matches!(read_trust_store(b"\x30\x03garbage", StoreType::Pkcs12, Some("x")), Err(TrustStoreError::Malformed { .. })));
    }

    #[test]
    fn pem_stores() {
        let ca = CertificateAuthority::generate("a", 30).unwrap();
        let loaded = read_trust_store(ca.cert_pem.as_bytes(), StoreType::Pem, None).unwrap();
        assert_eq!(loaded.certificates, vec![ca_der(&ca)]);
        assert!(matches!(read_trust_store(ca.cert_pem.as_bytes(), StoreType::Pem, Some("x")), Err(TrustStoreError::PemWithPassword)));
        assert!(matches!(
            read_trust_store(ca.cert_pem.as_bytes(), StoreType::Jks, Some("x")),
            Err(TrustStoreError::PemText { declared: "JKS" })
        ));
        assert!(matches!(read_trust_store(b"hello", StoreType::Pem, None), Err(TrustStoreError::NoCertificates)));
        assert!(matches!(read_trust_store(&JCEKS_MAGIC.to_be_bytes(), StoreType::Jks, None), Err(TrustStoreError::Jceks)));
        assert_eq!(StoreType::parse("pkcs12"), Some(StoreType::Pkcs12));
        assert_eq!(StoreType::parse("BCFKS"), None);
    }
}
