use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = amqdr::cli::Cli::parse();
    amqdr::logging::init(cli.verbosity());
    match amqdr::cli::run(cli) {
        Ok(code) => code,
        Err(err) if amqdr::output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", amqdr::error::report(&err));
            ExitCode::from(amqdr::error::exit_code(&err))
        }
    }
}
