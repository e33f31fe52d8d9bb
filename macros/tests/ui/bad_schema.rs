// A schema error is a compile error that names the schema file, line and column.
// (The path is found next to this file: trybuild builds it in a crate of its own.)
hubgen_macros::hub!("bad.hubs", app);

fn main() {}
