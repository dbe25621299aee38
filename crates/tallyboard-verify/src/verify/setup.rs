//! Trust roots (spec/verify.md §4.1): the sources and the manifest signed by
//! the election authority.

use tallyboard_core::limits::MAX_SIGNED_MANIFEST;

use super::*;

pub(super) type Setup = (
    Vec<Source>,
    SignedManifest,
    Vec<Finding>,
    Vec<Option<String>>,
);

/// Bytes a source's manifest may have beyond twice the length of the
/// manifest given as a file.
const MANIFEST_MARGIN: usize = 64 * 1024;

/// The trusted manifest, and what each source serves as its manifest.
pub(super) async fn setup(config: &Config, sources: Vec<Source>) -> Result<Setup, String> {
    if sources.is_empty() {
        return Err(
            "no source given: name the server, a mirror or a local copy with --source".to_owned(),
        );
    }
    let mut findings = Vec::new();
    let mut trusted: Option<SignedManifest> = None;
    if let Some(bytes) = &config.manifest {
        let m = SignedManifest::from_bytes(bytes, Some(&config.authority)).map_err(|e| {
            format!(
                "the manifest file is not a manifest signed by the authority key given ({e}); check that you have the election authority's published key and manifest"
            )
        })?;
        trusted = Some(m);
    }
    // With the manifest given, a source's is read only up to twice its
    // size and 64 KiB more: enough for another edition of it (kept as
    // evidence), while an endless or huge body costs little.
    let cap = trusted.as_ref().map_or(MAX_SIGNED_MANIFEST, |m| {
        m.as_bytes()
            .len()
            .saturating_mul(2)
            .saturating_add(MANIFEST_MARGIN)
            .min(MAX_SIGNED_MANIFEST)
    });
    let fetched = join_all(sources.iter().map(|s| s.get("manifest", cap))).await;
    let mut per_source = vec![None; sources.len()];
    // A manifest from the sources is trusted only if it is signed by the
    // authority; the first one that is becomes the reference.
    for (i, r) in fetched.iter().enumerate() {
        let label = sources[i].label();
        match r {
            Err(FetchError::NotFound { .. }) => per_source[i] = Some("not served".to_owned()),
            Err(FetchError::TooLarge { .. }) if config.manifest.is_some() => {
                per_source[i] = Some("different".to_owned());
                findings.push(
                    Finding::new(FindingCode::ManifestMismatch, format!(
                            "{label} serves a manifest of more than {cap} bytes, far longer than the trusted one: it is not the manifest the election authority signed, and it was not read further."
                        ))
                    .source(label),
                );
            }
            Err(e) => per_source[i] = Some(format!("not fetched: {e}")),
            Ok(bytes) => match SignedManifest::from_bytes(bytes, Some(&config.authority)) {
                Err(e) => {
                    per_source[i] = Some("invalid".to_owned());
                    findings.push(
                        Finding::new(FindingCode::ManifestMismatch, format!(
                                "{label} serves a manifest that is not signed by the election authority's key ({e})."
                            ))
                        .source(label),
                    );
                }
                Ok(m) => match &trusted {
                    None => {
                        per_source[i] = Some("trusted".to_owned());
                        trusted = Some(m);
                    }
                    Some(t) if t.hash() == m.hash() => per_source[i] = Some("same".to_owned()),
                    Some(t) => {
                        per_source[i] = Some("different".to_owned());
                        let mut f = Finding::new(FindingCode::ManifestMismatch, format!(
                                "{label} serves a different manifest (SHA-256 {}) than the one trusted (SHA-256 {}), both signed by the authority: the authority signed two election definitions.",
                                m.hash(),
                                t.hash()
                            ))
                        .source(label);
                        if let Some(dir) = &config.evidence_dir {
                            for (name, bytes) in [
                                (
                                    format!(
                                        "manifest-mismatch-{}.manifest",
                                        &m.hash().to_hex()[..12]
                                    ),
                                    m.as_bytes(),
                                ),
                                (
                                    format!(
                                        "manifest-mismatch-{}.manifest",
                                        &t.hash().to_hex()[..12]
                                    ),
                                    t.as_bytes(),
                                ),
                            ] {
                                if write_file(dir, &name, bytes) {
                                    f.evidence.push(name);
                                }
                            }
                        }
                        findings.push(f);
                    }
                },
            },
        }
    }
    let Some(manifest) = trusted else {
        let errors: Vec<String> = fetched
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        if errors.len() == sources.len()
            && fetched
                .iter()
                .all(|r| matches!(r, Err(FetchError::Unreachable { .. })))
        {
            return Err(format!(
                "no source could be reached ({})",
                errors.join("; ")
            ));
        }
        let why = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join("; "))
        };
        return Err(format!(
            "no manifest signed by the authority key{why}: give it with --manifest FILE, or check the sources and the key"
        ));
    };
    Ok((sources, manifest, findings, per_source))
}
