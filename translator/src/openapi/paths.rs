//! `paths` and the shared `parameters`: a path per table or view with the
//! verbs its updatability allows, each naming its parameters by reference.

use super::json::{Json, Obj, strings};
use super::types;
use crate::schema_cache::{Routine, RoutineArg, Table};

/// `GET /`, this document.
pub fn root_path() -> Obj {
    let get = Obj::new()
        .with("tags", strings(["Introspection"]))
        .with("summary", "OpenAPI description (this document)")
        .with(
            "produces",
            strings(["application/openapi+json", "application/json"]),
        )
        .with("responses", responses(&[("200", "OK")]));
    Obj::new().with("get", get)
}

pub fn table_path(table: &Table) -> Obj {
    let filters: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("rowFilter.{}.{}", table.name, c.name))
        .collect();
    let body = format!("body.{}", table.name);
    let operation = |params: Vec<&str>, responses: Obj| {
        described(
            Obj::new().with("tags", strings([&table.name])),
            table.description.as_deref(),
        )
        .with("parameters", refs(params))
        .with("responses", responses)
    };
    let with_filters = |extra: &[&'static str]| -> Vec<&str> {
        filters
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect()
    };
    let read = [
        "select",
        "order",
        "range",
        "rangeUnit",
        "offset",
        "limit",
        "preferCount",
    ];
    let ok = Obj::new().with("description", "OK").with(
        "schema",
        Obj::new()
            .with(
                "items",
                Obj::new().with("$ref", format!("#/definitions/{}", table.name)),
            )
            .with("type", "array"),
    );
    let mut path = Obj::new().with(
        "get",
        operation(
            with_filters(&read),
            Obj::new()
                .with("200", ok)
                .with("206", Obj::new().with("description", "Partial Content")),
        ),
    );
    // PostgREST lists the writes together, when any write is possible.
    if table.insertable || table.updatable || table.deletable {
        let mut patch = with_filters(&[]);
        patch.extend([body.as_str(), "preferReturn"]);
        path = path
            .with(
                "post",
                operation(
                    vec![body.as_str(), "select", "preferPost"],
                    responses(&[("201", "Created")]),
                ),
            )
            .with(
                "delete",
                operation(
                    with_filters(&["preferReturn"]),
                    responses(&[("204", "No Content")]),
                ),
            )
            .with(
                "patch",
                operation(patch, responses(&[("204", "No Content")])),
            );
    }
    path
}

/// `/rpc/name`: POST with the arguments as a body object; GET too (query
/// arguments) unless the function is VOLATILE.
pub fn routine_path(routine: &Routine) -> Obj {
    let operation = || {
        described(
            Obj::new().with("tags", strings([format!("(rpc) {}", routine.name)])),
            routine.description.as_deref(),
        )
        .with(
            "produces",
            strings([
                "application/json",
                "application/vnd.pgrst.object+json;nulls=stripped",
                "application/vnd.pgrst.object+json",
            ]),
        )
    };
    let required: Vec<&str> = routine
        .args
        .iter()
        .filter(|a| !a.has_default)
        .map(|a| a.name.as_str())
        .collect();
    let properties = routine.args.iter().fold(Obj::new(), |o, arg| {
        let format = types::format(&arg.data_type);
        o.with(
            &arg.name,
            Obj::new()
                .with_opt("type", types::swagger_type(&format))
                .with_opt("items", types::array_items(&format))
                .with("format", format.as_str()),
        )
    });
    let schema = Obj::new()
        .with_opt("description", routine.description.as_deref())
        .with("type", "object");
    let schema = if routine.args.is_empty() {
        schema
    } else {
        // Swagger forbids an empty `required`.
        schema.with("properties", properties).with_opt(
            "required",
            (!required.is_empty()).then(|| strings(required)),
        )
    };
    let args = Obj::new()
        .with("name", "args")
        .with("required", true)
        .with("in", "body")
        .with("schema", schema);
    let post = operation()
        .with(
            "parameters",
            Json::Array(vec![
                args.into(),
                Obj::new().with("$ref", "#/parameters/preferParams").into(),
            ]),
        )
        .with("responses", responses(&[("200", "OK")]));
    if routine.is_volatile() {
        return Obj::new().with("post", post);
    }
    let params: Vec<Json> = routine.args.iter().map(|a| query_arg(a).into()).collect();
    let get = if params.is_empty() {
        operation()
    } else {
        operation().with("parameters", Json::Array(params))
    };
    Obj::new()
        .with("get", get.with("responses", responses(&[("200", "OK")])))
        .with("post", post)
}

/// A GET argument: a query parameter, repeated for a variadic one. Arrays
/// and JSON travel as strings.
fn query_arg(arg: &RoutineArg) -> Obj {
    let format = types::format(&arg.data_type);
    let param = Obj::new()
        .with("name", arg.name.as_str())
        .with("required", !arg.has_default)
        .with("in", "query");
    match format.strip_suffix("[]").filter(|_| arg.variadic) {
        Some(element) => param
            .with("type", types::swagger_type(&format).unwrap_or("string"))
            .with("collectionFormat", "multi")
            .with(
                "items",
                Obj::new()
                    .with_opt("type", types::swagger_type(element))
                    .with("format", element),
            ),
        None => {
            let kind = match types::swagger_type(&format) {
                None | Some("array") => "string",
                Some(kind) => kind,
            };
            param.with("type", kind).with("format", format.as_str())
        }
    }
}

/// `summary` from a comment's first line, `description` from the rest
/// (after blank lines).
fn described(operation: Obj, comment: Option<&str>) -> Obj {
    let (summary, description) = match comment {
        Some(d) => match d.split_once('\n') {
            Some((first, rest)) => (Some(first), Some(rest.trim_start_matches('\n'))),
            None => (Some(d), None),
        },
        None => (None, None),
    };
    operation
        .with_opt("summary", summary)
        .with_opt("description", description.filter(|d| !d.is_empty()))
}

fn responses(codes: &[(&str, &str)]) -> Obj {
    codes.iter().fold(Obj::new(), |o, (code, text)| {
        o.with(code, Obj::new().with("description", *text))
    })
}

fn refs(names: Vec<&str>) -> Json {
    Json::Array(
        names
            .into_iter()
            .map(|n| Obj::new().with("$ref", format!("#/parameters/{n}")).into())
            .collect(),
    )
}

/// The shared parameters, then a body and a filter per column for each
/// table. Filters carry no `format`: their values are `op.value` strings
/// (PostgREST dropped it in 12.2).
pub fn parameters<'a>(tables: impl IntoIterator<Item = &'a Table>) -> Obj {
    // No `enum` when no value is listed (`params`, whose only value
    // PostgREST 13 removed).
    let prefer = |values: &[&str]| {
        let param = Obj::new()
            .with("name", "Prefer")
            .with("description", "Preference")
            .with("required", false);
        let param = if values.is_empty() {
            param
        } else {
            param.with("enum", strings(values))
        };
        param.with("in", "header").with("type", "string")
    };
    let plain = |name: &str, description: &str, location: &str| {
        Obj::new()
            .with("name", name)
            .with("description", description)
            .with("required", false)
            .with("in", location)
            .with("type", "string")
    };
    const RETURN: [&str; 3] = ["return=representation", "return=minimal", "return=none"];
    let paging = "Limiting and Pagination";
    let mut params = Obj::new()
        .with("preferParams", prefer(&[]))
        .with("preferReturn", prefer(&RETURN))
        .with("preferCount", prefer(&["count=none"]))
        .with(
            "preferPost",
            prefer(&[
                RETURN[0],
                RETURN[1],
                RETURN[2],
                "resolution=ignore-duplicates",
                "resolution=merge-duplicates",
            ]),
        )
        .with("select", plain("select", "Filtering Columns", "query"))
        .with("on_conflict", plain("on_conflict", "On Conflict", "query"))
        .with("order", plain("order", "Ordering", "query"))
        .with("range", plain("Range", paging, "header"))
        .with(
            "rangeUnit",
            Obj::new()
                .with("name", "Range-Unit")
                .with("description", paging)
                .with("required", false)
                .with("default", "items")
                .with("in", "header")
                .with("type", "string"),
        )
        .with("offset", plain("offset", paging, "query"))
        .with("limit", plain("limit", paging, "query"));
    for table in tables {
        params = params.with(
            &format!("body.{}", table.name),
            Obj::new()
                .with("name", table.name.as_str())
                .with("description", table.name.as_str())
                .with("required", false)
                .with("in", "body")
                .with(
                    "schema",
                    Obj::new().with("$ref", format!("#/definitions/{}", table.name)),
                ),
        );
        for col in &table.columns {
            params = params.with(
                &format!("rowFilter.{}.{}", table.name, col.name),
                Obj::new()
                    .with("name", col.name.as_str())
                    .with_opt("description", col.description.as_deref())
                    .with("required", false)
                    .with("in", "query")
                    .with("type", "string"),
            );
        }
    }
    params
}
