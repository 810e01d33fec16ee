//! The `phigate` binary; all of it lives in [`phigate::cli`].

/// mimalloc rather than glibc malloc: a long-running relay allocates and
/// frees many short-lived buffers of every size per message, and glibc's
/// heap kept growing under the 10-minute soak although the live heap was
/// flat (heaptrack), i.e. fragmentation; mimalloc returns freed pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    phigate::cli::main()
}
