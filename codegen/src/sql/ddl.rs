//! How the schema's types are spelled in SQL.

use super::quote::qualified;
use hubgen_schema::ir;

/// The SQL spelling of a column type; enums are schema-qualified.
pub fn column_type(hub: &ir::Hub, ty: &hubgen_schema::types::ColumnType) -> String {
    use hubgen_schema::types::ColumnType;
    match ty {
        ColumnType::Enum(name) => {
            let schema = hub.enums.iter().find(|e| &e.name == name).map_or("public", |e| e.schema.as_str());
            qualified(schema, name)
        }
        ColumnType::Array(inner) => format!("{}[]", column_type(hub, inner)),
        other => other.to_string(),
    }
}
