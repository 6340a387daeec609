//! `mrs-dsl config`: merge and interpolate compose overlays as docker compose
//! does, with every error located at file:line:col.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use mrs_compose::interpolate::Resolve;
use mrs_compose::output::{self, Format};
use mrs_compose::project::{self, Layered, NameSources, ProcessEnv};
use mrs_compose::{Overlay, Sources, VariableIndex};

/// Compose overlays, checked.
#[derive(Debug, Parser)]
#[command(name = "mrs-dsl", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the merged, interpolated project in compose's canonical form.
    Config {
        /// Compose files, merged in order.
        #[arg(short = 'f', long = "file", required = true)]
        files: Vec<PathBuf>,
        /// Project name (must already be valid).
        #[arg(short = 'p', long = "project-name")]
        project_name: Option<String>,
        /// A `.env` file of variables (the process environment wins).
        #[arg(long)]
        env_file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
        format: OutFormat,
        /// List the variables the files use, with where, instead.
        #[arg(long)]
        variables: bool,
        /// Only check; print nothing on success.
        #[arg(short, long)]
        quiet: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutFormat {
    Yaml,
    Json,
    /// YAML that docker-compose v1 also reads.
    YamlV1,
}

fn main() -> ExitCode {
    let Command::Config {
        files,
        project_name,
        env_file,
        format,
        variables,
        quiet,
    } = Cli::parse().command;
    let mut sources = Sources::default();
    let mut overlays = Vec::new();
    let mut failed = false;
    for path in &files {
        let name = path.display().to_string();
        if let Ok(text) = std::fs::read_to_string(path) {
            sources.insert(mrs_compose::Source {
                name: name.as_str().into(),
                text,
            });
        }
        match Overlay::read(path, &name) {
            Ok(o) => overlays.push(o),
            Err(e) => {
                eprintln!("{}", e.render(&sources));
                failed = true;
            }
        }
    }
    if failed {
        return ExitCode::from(1);
    }
    if variables {
        let index = VariableIndex::build(&overlays);
        match format {
            OutFormat::Yaml | OutFormat::YamlV1 => print!("{}", index.table()),
            OutFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&index).unwrap_or_default()
            ),
        }
        return ExitCode::SUCCESS;
    }
    let dotenv = match env_file
        .as_ref()
        .or(Some(&PathBuf::from(".env")).filter(|p| p.exists()))
    {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(text) => {
                match mrs_compose::env_file::parse(&p.display().to_string(), &text, &ProcessEnv) {
                    Ok(v) => v,
                    Err(e) => {
                        eprintln!("{}", e.render(&sources));
                        return ExitCode::from(1);
                    }
                }
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
        None => Default::default(),
    };
    let vars = Layered(vec![&ProcessEnv as &dyn Resolve, &dotenv]);
    // The project folder: the first file's (compose's default project directory).
    let project_dir = files
        .first()
        .and_then(|f| std::fs::canonicalize(f).ok())
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default();
    let env_name = match vars.resolve("COMPOSE_PROJECT_NAME") {
        mrs_compose::interpolate::Binding::Set(v) => Some(v),
        _ => None,
    };
    let names = NameSources {
        flag: project_name.as_deref(),
        env: env_name,
        file: None,
        dir: project_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    };
    match project::load(&overlays, &vars, names) {
        Ok(mut loaded) => {
            project::resolve_paths(&mut loaded.project, &project_dir);
            for (name, at) in &loaded.unset {
                eprintln!(
                    "warning: {at}: the \"{name}\" variable is not set. Defaulting to a blank string."
                );
            }
            if !quiet {
                let f = match format {
                    OutFormat::Yaml => Format::Yaml,
                    OutFormat::Json => Format::Json,
                    OutFormat::YamlV1 => Format::YamlV1,
                };
                print!("{}", output::render(&loaded.project, f));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.render(&sources));
            ExitCode::from(1)
        }
    }
}
