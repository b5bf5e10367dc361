//! The files the settings name (password files, the image pull secret), read and checked once
//! for both validation and install.

use base64::Engine;
use std::path::Path;

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
    fn password_file_first_line() {
        assert_eq!(read_password_file(file(b"s3cret\nignored\n").path()).unwrap(), "s3cret");
        assert!(read_password_file(file(b"\n").path()).is_err());
    }
}
