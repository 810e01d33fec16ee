//! The `phigate` binary; all of it lives in [`phigate::cli`].

fn main() -> std::process::ExitCode {
    phigate::cli::main()
}
