//! `mrs-dsl config`: merge and interpolate compose files as docker compose
//! does, with every error located at file:line:col.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use mrs_compose::interpolate::Resolve;
use mrs_compose::loader::{self, Options};
use mrs_compose::output::{self, Format};
use mrs_compose::project::{Layered, ProcessEnv};
use mrs_compose::{Diagnostic, Kind, Location, Overlay, Sources, VariableIndex};

/// Compose files, checked.
#[derive(Debug, Parser)]
#[command(name = "mrs-dsl", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the merged, interpolated project in compose's canonical form.
    Config(ConfigArgs),
}

#[derive(Debug, clap::Args)]
struct ConfigArgs {
    /// Compose files, merged in order (default: compose.yaml, compose.yml,
    /// docker-compose.yaml or docker-compose.yml in the current folder).
    #[arg(short = 'f', long = "file")]
    files: Vec<PathBuf>,
    /// Project name (must already be valid; empty means not given).
    #[arg(short = 'p', long = "project-name")]
    project_name: Option<String>,
    /// The project folder (default: the first file's).
    #[arg(long)]
    project_directory: Option<PathBuf>,
    /// A `.env` file of variables (default: `.env` in the project folder;
    /// the process environment wins).
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// Activate a profile (repeatable; `*` activates all; default:
    /// COMPOSE_PROFILES).
    #[arg(long = "profile")]
    profiles: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
    format: OutFormat,
    /// List the variables the files use, with where, instead.
    #[arg(long)]
    variables: bool,
    /// Only check; print nothing on success.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutFormat {
    Yaml,
    Json,
    /// YAML that docker-compose v1 also reads.
    YamlV1,
}

/// The files compose looks for when none is given.
const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

fn main() -> ExitCode {
    let Command::Config(args) = Cli::parse().command;
    let mut sources = Sources::default();
    match config(args, &mut sources) {
        Ok(()) => ExitCode::SUCCESS,
        Err(errors) => {
            eprintln!("{}", errors.render(&sources));
            ExitCode::from(1)
        }
    }
}

fn config(args: ConfigArgs, sources: &mut Sources) -> Result<(), mrs_compose::Diagnostics> {
    let files = if args.files.is_empty() {
        let found = DEFAULT_FILES.iter().map(PathBuf::from).find(|p| p.exists());
        vec![found.ok_or_else(|| {
            Diagnostic::new(
                Kind::Io,
                Location::synthetic("mrs-dsl config"),
                "no compose file given, and none of compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml here",
            )
            .with_help("name the files with -f")
        })?]
    } else {
        args.files.clone()
    };
    if args.variables {
        let mut overlays = Vec::new();
        for path in &files {
            let name = path.display().to_string();
            let overlay = Overlay::read(path, &name);
            if let Ok(text) = std::fs::read_to_string(path) {
                sources.insert(mrs_compose::Source {
                    name: name.as_str().into(),
                    text,
                });
            }
            overlays.push(overlay?);
        }
        let index = VariableIndex::build(&overlays);
        match args.format {
            OutFormat::Yaml | OutFormat::YamlV1 => print!("{}", index.table()),
            OutFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&index).unwrap_or_default()
            ),
        }
        return Ok(());
    }
    let project_dir = args.project_directory.clone().unwrap_or_else(|| {
        files
            .first()
            .and_then(|f| std::path::absolute(f).ok())
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .unwrap_or_default()
    });
    let dotenv = read_dotenv(args.env_file.as_deref(), &project_dir)?;
    let env = Layered(vec![&ProcessEnv as &dyn Resolve, &dotenv]);
    let loaded = loader::load_files(
        &Options {
            files: &files,
            project_dir: Some(&project_dir),
            env: &env,
            project_name: args.project_name.as_deref(),
            profiles: &args.profiles,
        },
        sources,
    )?;
    for (name, at) in &loaded.unset {
        eprintln!(
            "warning: {at}: the \"{name}\" variable is not set. Defaulting to a blank string."
        );
    }
    let format = match args.format {
        OutFormat::Yaml => Format::Yaml,
        OutFormat::Json => Format::Json,
        OutFormat::YamlV1 => Format::YamlV1,
    };
    let text = output::try_render_with(&loaded.project, format, &|s| s.to_owned())?;
    if !args.quiet {
        print!("{text}");
    }
    Ok(())
}

/// The `.env` file: the one named, else the project folder's when there is one.
fn read_dotenv(
    named: Option<&Path>,
    project_dir: &Path,
) -> Result<indexmap::IndexMap<String, String>, Diagnostic> {
    let default = project_dir.join(".env");
    let path = match named {
        Some(p) => p.to_path_buf(),
        None if default.exists() => default,
        None => return Ok(Default::default()),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::new(
            Kind::Io,
            Location::synthetic("--env-file"),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    mrs_compose::env_file::parse(&path.display().to_string(), &text, &ProcessEnv)
}
