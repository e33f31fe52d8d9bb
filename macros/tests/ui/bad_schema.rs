// A schema error is a compile error that names the schema file, line and column.
// (trybuild compiles this in target/tests/trybuild/hubgen-macros, hence the path.)
hubgen_macros::hub!("../../../../macros/tests/ui/bad.hubs", app);

fn main() {}
