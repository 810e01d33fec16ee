//! The gateway under test: the same entry point as the `phigate` binary.

fn main() -> std::process::ExitCode {
    phigate::cli::main()
}
