fn main() -> std::process::ExitCode {
    fouro::cli::main()
}
