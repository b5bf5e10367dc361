//! Certificates for the Kafka test bed, made by amqdr's own CA code (the same code that makes
//! the cluster CA `amqdr install` gives Strimzi).
//!
//! `testbed-certs --out DIR [--ca-cert F --ca-key F] [--dns NAME]... [--ip ADDR]...` writes
//! DIR/ca.crt, DIR/ca.key (when generated), DIR/server.crt, DIR/server.key and DIR/server.pem
//! (PKCS#8 key followed by the certificate chain, for Kafka's `ssl.keystore.type=PEM`).

use amqdr::certs::CertificateAuthority;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut out: Option<PathBuf> = None;
    let (mut ca_cert, mut ca_key) = (None::<PathBuf>, None::<PathBuf>);
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => out = Some(value()?.into()),
            "--ca-cert" => ca_cert = Some(value()?.into()),
            "--ca-key" => ca_key = Some(value()?.into()),
            "--dns" => dns.push(value()?),
            "--ip" => ips.push(value()?.parse().context("--ip")?),
            other => bail!("unknown argument {other}"),
        }
    }
    let out = out.context("--out DIR is required")?;
    if dns.is_empty() && ips.is_empty() {
        dns.push("localhost".to_string());
        ips.push("127.0.0.1".parse()?);
    }
    std::fs::create_dir_all(&out)?;
    let ca = match (ca_cert, ca_key) {
        (Some(c), Some(k)) => CertificateAuthority::from_pem_files(&c, &k)?,
        (None, None) => {
            let ca = CertificateAuthority::generate("amqdr-testbed-ca", 365)?;
            write_private(&out.join("ca.key"), &ca.key_pem)?;
            ca
        }
        _ => bail!("--ca-cert and --ca-key go together"),
    };
    std::fs::write(out.join("ca.crt"), &ca.cert_pem)?;
    let server = ca.issue_server(dns.first().map(String::as_str).unwrap_or("localhost"), &dns, &ips, 365)?;
    std::fs::write(out.join("server.crt"), &server.cert_pem)?;
    write_private(&out.join("server.key"), &server.key_pem)?;
    write_private(&out.join("server.pem"), &format!("{}{}{}", server.key_pem, server.cert_pem, ca.cert_pem))?;
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
