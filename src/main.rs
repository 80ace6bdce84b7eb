use std::process::ExitCode;

// glibc's allocator spends a quarter of a 100,000-person plan in malloc and
// free (BENCHMARKS.md); mimalloc is built for many small allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// main prints the error that ends a command, the one line it writes itself.
#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    // Exit 2 means "the plan has changes", so a usage error exits 1.
    let cli = match roster::cli::Cli::try_parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::from(e.use_stderr()));
        }
    };
    match roster::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!(
                "error: {}",
                roster::escape::terminal_safe(&roster::describe_error(&error))
            );
            ExitCode::from(1)
        }
    }
}
