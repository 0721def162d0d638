//! The command line, as PostgREST's: `pgrest-host [OPTION] [FILENAME]`.

use std::path::PathBuf;

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run,
    Help,
    Version,
    Example,
    DumpConfig,
    DumpSchema,
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    pub command: Command,
    pub config_file: Option<PathBuf>,
}

pub const USAGE: &str = "\
Usage: pgrest-host [-v|--version] [-e|--example] [--dump-config | --dump-schema]
                   [--ready] [FILENAME]

  pgrest: a PostgREST-compatible REST API for a PostgreSQL database

Available options:
  -h,--help                Show this help text
  -v,--version             Show the version
  -e,--example             Show an example configuration file
  --dump-config            Show the resolved configuration and exit
  --dump-schema            Show the loaded schema cache as JSON and exit (for
                           debugging; its structure may change)
  --ready                  Probe the admin server's /ready: exit 0 when the
                           running server is ready, 1 otherwise
  FILENAME                 Configuration file (PostgREST's format); PGRST_*
                           environment variables override its values
";

/// The example file `--example` prints; every value is the default.
pub const EXAMPLE: &str = include_str!("example.conf");

pub fn version() -> String {
    format!(
        "pgrest {} (PostgREST 16 compatible)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Arguments the binary does not take, worded as PostgREST words them.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    #[error("Invalid option `{0}'")]
    Option(String),
    #[error("Invalid argument `{0}'")]
    Argument(String),
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Cli, CliError> {
    let mut cli = Cli {
        command: Command::Run,
        config_file: None,
    };
    for arg in args {
        let command = match arg.as_str() {
            "-h" | "--help" => Command::Help,
            "-v" | "--version" => Command::Version,
            "-e" | "--example" => Command::Example,
            "--dump-config" => Command::DumpConfig,
            "--dump-schema" => Command::DumpSchema,
            "--ready" => Command::Ready,
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(CliError::Option(flag.to_string()));
            }
            _ if cli.config_file.is_some() => {
                return Err(CliError::Argument(arg));
            }
            _ => {
                cli.config_file = Some(PathBuf::from(arg));
                continue;
            }
        };
        // Help wins over everything, as in PostgREST; otherwise the first flag.
        if cli.command == Command::Run || command == Command::Help {
            cli.command = command;
        }
    }
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Cli, CliError> {
        parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn commands_and_file() {
        assert_eq!(
            parse_args(&[]).unwrap(),
            Cli {
                command: Command::Run,
                config_file: None
            }
        );
        let cli = parse_args(&["/etc/postgrest.conf"]).unwrap();
        assert_eq!(cli.command, Command::Run);
        assert_eq!(cli.config_file, Some(PathBuf::from("/etc/postgrest.conf")));
        let cli = parse_args(&["--dump-config", "app.conf"]).unwrap();
        assert_eq!(cli.command, Command::DumpConfig);
        assert_eq!(cli.config_file, Some(PathBuf::from("app.conf")));
        assert_eq!(parse_args(&["-v"]).unwrap().command, Command::Version);
        assert_eq!(parse_args(&["-e"]).unwrap().command, Command::Example);
        assert_eq!(
            parse_args(&["--dump-schema"]).unwrap().command,
            Command::DumpSchema
        );
        assert_eq!(parse_args(&["--ready"]).unwrap().command, Command::Ready);
        assert_eq!(
            parse_args(&["--version", "--help"]).unwrap().command,
            Command::Help
        );
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(
            parse_args(&["--nope"]).unwrap_err().to_string(),
            "Invalid option `--nope'"
        );
        assert_eq!(
            parse_args(&["a.conf", "b.conf"]).unwrap_err().to_string(),
            "Invalid argument `b.conf'"
        );
    }
}
