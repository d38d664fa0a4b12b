//! Compiles this app's seed folder into `OUT_DIR/seed.rs`: a seed that
//! breaks the schema stops the build with its file, line and cause.

fn main() {
    seedbake_compiler::build_from("seed-data");
}
