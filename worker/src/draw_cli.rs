//! `qingling draw …`: the verifiable draw from the command line (DRAW.md). `select` is RFC 3797's
//! primitive; `commit`, `run` and `verify` are a campaign's ceremony on files, and what anyone
//! holding a published bundle runs to check it.

use anyhow::{Context, Result, bail};
use qingling_app::exit::ProblemsFound;
use qingling_rules::draw::{self, Bundle, Commitment, InspectorDirectory, Plan, SourceName, SourceValues, Target};
use qingling_rules::messages::Locale;
use std::path::Path;

/// Reads a JSON file into `T`, naming the file and the place of a problem.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| anyhow::anyhow!("{} is not {what}: {} (at {})", path.display(), e.inner(), e.path()))
}

/// `qingling draw select`: the 1-based positions, one a line, in selection order.
pub fn select(sources: &[SourceValues], pool: usize, count: usize) -> Result<()> {
    let key = draw::key_string(sources).map_err(|e| anyhow::anyhow!(e.message(Locale::En)))?;
    let chosen = draw::select(&key, pool, count).map_err(|e| anyhow::anyhow!(e.message(Locale::En)))?;
    let mut out = String::with_capacity(chosen.len() * 6);
    for i in chosen {
        out.push_str(&(i + 1).to_string());
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// `qingling draw commit`: the commitment to publish before the randomness exists.
pub fn commit(plan: &Path, targets: &Path, inspectors: &Path, sources: &[String]) -> Result<()> {
    let plan: Plan = read_json(plan, "a draw plan")?;
    let targets: Vec<Target> = read_json(targets, "a targets directory (a list of targets)")?;
    let inspectors: InspectorDirectory = read_json(inspectors, "an inspectors directory ({inspectors, conflicts})")?;
    if sources.is_empty() {
        bail!("name at least one public random source (--source NAME, or --source text:NAME for a source that is not numbers)");
    }
    let sources = sources
        .iter()
        .map(|s| match s.strip_prefix("text:") {
            Some(name) => SourceName { name: name.trim().to_string(), kind: "text".into() },
            None => SourceName { name: s.trim().to_string(), kind: "numbers".into() },
        })
        .collect();
    let commitment = Commitment::new(plan, &targets, &inspectors, sources);
    println!("{}", serde_json::to_string_pretty(&commitment)?);
    Ok(())
}

/// `qingling draw run`: the draw under a published commitment, as a bundle on stdout. The
/// directories must be the committed ones.
pub fn run(commitment: &Path, targets: &Path, inspectors: &Path, values: &str, witnesses: &[String]) -> Result<()> {
    let commitment: Commitment = read_json(commitment, "a draw commitment")?;
    let targets: Vec<Target> = read_json(targets, "a targets directory (a list of targets)")?;
    let inspectors: InspectorDirectory = read_json(inspectors, "an inspectors directory ({inspectors, conflicts})")?;
    let values = parse_values(values, &commitment.sources)?;
    let bundle = Bundle::run(commitment, targets, inspectors, values, witnesses.to_vec()).map_err(|e| anyhow::anyhow!(e.message(Locale::En)))?;
    // Directories other than the committed ones would make a draw nobody can check.
    if let Err(difference) = bundle.verify() {
        bail!("these are not the committed directories: {difference}");
    }
    println!("{}", serde_json::to_string_pretty(&bundle)?);
    Ok(())
}

/// The values as entered: sources separated by `/`, a numbers source as whole numbers separated
/// by spaces, a text source as written.
fn parse_values(values: &str, named: &[SourceName]) -> Result<Vec<SourceValues>> {
    let parts: Vec<&str> = values.split('/').collect();
    if parts.len() != named.len() {
        bail!("the commitment names {} random sources, but {} values were entered (separate them with /)", named.len(), parts.len());
    }
    parts
        .iter()
        .zip(named)
        .enumerate()
        .map(|(i, (part, source))| {
            if source.kind == "text" {
                return Ok(SourceValues::Text(part.trim().to_string()));
            }
            draw::parse_source(i, part).map_err(|e| anyhow::anyhow!("{} ({})", e.message(Locale::En), source.name))
        })
        .collect()
}

/// `qingling draw verify BUNDLE`: `verified`, or the first difference (exit 3).
pub fn verify(bundle: &Path) -> Result<()> {
    let bundle: Bundle = read_json(bundle, "a draw bundle")?;
    match bundle.verify() {
        Ok(()) => {
            println!("verified");
            Ok(())
        }
        Err(difference) => {
            println!("{difference}");
            Err(ProblemsFound("the bundle does not verify".into()).into())
        }
    }
}
