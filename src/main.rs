//! The `redline` binary: a thin shell over `redline::cli`.

fn main() -> std::process::ExitCode {
    redline::cli::main()
}
