//! A call of a function under `/rpc/`: which overload the arguments name
//! (PostgREST's `findProc`), and where the argument values come from.

use std::collections::BTreeSet;

use crate::api_request::arguments::{ArgSource, Arguments};
use crate::api_request::payload::BodyJson;
use crate::contract::Param;
use crate::error::{ApiError, FnCandidate, FnSuggestion, RpcPayload};
use crate::fuzzy;
use crate::schema_cache::representation::Representation;
use crate::schema_cache::{Column, Routine, SchemaCache, Table};

/// The arguments of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallArgs {
    /// Query string or form arguments, by index into the routine's
    /// arguments, in its order: each value cast from text to the
    /// argument's type.
    Direct(Vec<(usize, DirectValue)>),
    /// A JSON body's arguments (`names`; omitted ones take their defaults):
    /// its object, or the first object of an array (`array`), read as a
    /// record of the arguments' types.
    Json {
        names: Vec<String>,
        json: BodyJson,
        array: bool,
    },
    /// The whole body as the one unnamed argument: the request body as it
    /// is (JSON, text, xml), or its bytes for a `bytea`.
    Single(Param),
}

/// A query string or form value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectValue {
    Text(String),
    /// A variadic argument's values, each time its name was given.
    Variadic(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CallPlan<'a> {
    pub routine: &'a Routine,
    pub args: CallArgs,
}

/// How `args` reach `routine`: a function with a single unnamed argument
/// takes the whole body (or the query's arguments as one JSON object),
/// whichever way it was found; others take their arguments by name.
pub fn call_args(routine: &Routine, args: &Arguments, body: &[u8]) -> CallArgs {
    if let Some(data_type) = routine.single_unnamed() {
        let whole = args.whole();
        return CallArgs::Single(match (data_type, whole) {
            ("bytea", BodyJson::Request) => Param::Bytes(body.to_vec()),
            ("bytea", BodyJson::Text(text)) => Param::Bytes(text.into_bytes()),
            (_, BodyJson::Request) => Param::RequestBody,
            (_, BodyJson::Text(text)) => Param::Text(text),
        });
    }
    match &args.source {
        ArgSource::Pairs(pairs) => CallArgs::Direct(
            routine
                .args
                .iter()
                .enumerate()
                .filter(|(_, a)| args.keys.contains(&a.name))
                .map(|(index, a)| {
                    let mut values = pairs.iter().filter(|(k, _)| *k == a.name).map(|(_, v)| v);
                    let value = if a.variadic {
                        DirectValue::Variadic(values.cloned().collect())
                    } else {
                        DirectValue::Text(values.next_back().cloned().unwrap_or_default())
                    };
                    (index, value)
                })
                .collect(),
        ),
        ArgSource::Body(json) => {
            let text: &[u8] = match json {
                BodyJson::Request => body,
                BodyJson::Text(text) => text.as_bytes(),
            };
            CallArgs::Json {
                names: args.keys.clone(),
                json: json.clone(),
                array: text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['),
            }
        }
    }
}

/// What the request passes: its argument names and how.
pub struct CallRequest<'r> {
    pub schema: &'r str,
    pub name: &'r str,
    /// Argument names (JSON keys or query parameters), sorted.
    pub keys: &'r [String],
    pub payload: RpcPayload,
    /// A POST: a single unnamed argument may take the body.
    pub post: bool,
}

/// The overload the call names: one whose required arguments are all given
/// and that has every given one; else, for a POST, the one function taking
/// the whole body; PGRST202 or PGRST203 otherwise.
pub fn resolve<'a>(cache: &'a SchemaCache, req: &CallRequest) -> Result<&'a Routine, ApiError> {
    let overloads: Vec<&Routine> = cache.routines_named(req.schema, req.name).collect();
    let named: Vec<&Routine> = overloads
        .iter()
        .copied()
        .filter(|r| matches_names(r, req))
        .collect();
    let single: Vec<&Routine> = overloads
        .iter()
        .copied()
        .filter(|r| takes_body(r, req))
        .collect();
    match (named.as_slice(), single.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one),
        ([], []) => Err(not_found(cache, req, &overloads)),
        ([], many) | (many, _) => Err(ApiError::AmbiguousFunction {
            candidates: many.iter().map(|r| candidate(r)).collect(),
        }),
    }
}

/// Required arguments ⊆ keys ⊆ arguments. Raw bodies name no arguments.
fn matches_names(routine: &Routine, req: &CallRequest) -> bool {
    if routine.args.is_empty() {
        return req.keys.is_empty() && !req.payload_is_raw();
    }
    let all: BTreeSet<&str> = routine.args.iter().map(|a| a.name.as_str()).collect();
    let keys_known = req.keys.iter().all(|k| all.contains(k.as_str()));
    let required_given = routine
        .args
        .iter()
        .filter(|a| !a.has_default)
        .all(|a| req.keys.contains(&a.name));
    keys_known && required_given
}

/// A POST whose body type fits the one unnamed argument.
fn takes_body(routine: &Routine, req: &CallRequest) -> bool {
    let Some(data_type) = routine.single_unnamed() else {
        return false;
    };
    req.post
        && match req.payload {
            RpcPayload::Json => matches!(data_type, "json" | "jsonb"),
            RpcPayload::Text => data_type == "text",
            RpcPayload::Xml => data_type == "xml",
            RpcPayload::Bytes => data_type == "bytea",
            RpcPayload::Named => false,
        }
}

impl CallRequest<'_> {
    fn payload_is_raw(&self) -> bool {
        matches!(
            self.payload,
            RpcPayload::Text | RpcPayload::Xml | RpcPayload::Bytes
        )
    }
}

fn not_found(cache: &SchemaCache, req: &CallRequest, overloads: &[&Routine]) -> ApiError {
    let suggestion = if overloads.is_empty() {
        cache
            .closest_routine(req.schema, req.name)
            .map(|name| FnSuggestion::Function(name.to_string()))
    } else {
        // The overload whose argument list reads closest to the call's,
        // each list written sorted and in parentheses.
        let list = |names: Vec<&str>| {
            let mut names = names;
            names.sort_unstable();
            ["(", &names.join(", "), ")"].concat()
        };
        let lists: Vec<String> = overloads
            .iter()
            .map(|r| list(r.args.iter().map(|a| a.name.as_str()).collect()))
            .collect();
        let call = list(req.keys.iter().map(String::as_str).collect());
        fuzzy::best(lists.iter().map(String::as_str), &call, fuzzy::DEFAULT).map(|list| {
            let names = &list[1..list.len() - 1];
            FnSuggestion::Params(names.split(", ").map(str::to_string).collect())
        })
    };
    ApiError::FunctionNotFound {
        schema: req.schema.to_string(),
        name: req.name.to_string(),
        args: req.keys.to_vec(),
        payload: req.payload,
        suggestion,
    }
}

fn candidate(routine: &Routine) -> FnCandidate {
    FnCandidate {
        schema: routine.schema.clone(),
        name: routine.name.clone(),
        params: routine
            .args
            .iter()
            .map(|a| (a.name.clone(), a.data_type.clone()))
            .collect(),
    }
}

impl<'a> CallPlan<'a> {
    /// The rows a set or composite result is read as: the returned table or
    /// view (so embedding works), else a relation named after the composite
    /// type with the returned columns. `None`: a scalar or void result.
    pub fn row_table(&self, cache: &'a SchemaCache) -> Option<Table> {
        let routine = self.routine;
        if let Some(t) = &routine.return_table {
            return cache.table(&t.schema, &t.name).cloned();
        }
        let columns = routine.return_columns.as_ref()?;
        let name = routine.composite_name.as_deref().unwrap_or(&routine.name);
        Some(
            self.relation(
                name,
                columns
                    .iter()
                    .map(|c| Column {
                        representation: Representation::of(&cache.representations, &c.data_type),
                        ..column(&c.name, &c.data_type)
                    })
                    .collect(),
            ),
        )
    }

    /// The rows a scalar (or void) result is read as, as PostgREST reads
    /// them: a relation named after the function whose one column is
    /// `pgrst_scalar`, so filters, `order` and `select` may name it (and
    /// naming another column is PostgreSQL's 42703). The value is not
    /// formatted by a domain's cast (PostgREST leaves it as it is).
    pub fn scalar_table(&self) -> Table {
        // `query::call` selects the value under this name.
        self.relation(
            &self.routine.name,
            vec![column("pgrst_scalar", &self.routine.return_type)],
        )
    }

    /// A relation `name` of the function's schema, with `columns`.
    fn relation(&self, name: &str, columns: Vec<Column>) -> Table {
        Table {
            schema: self.routine.schema.clone(),
            name: name.to_string(),
            is_view: false,
            insertable: false,
            updatable: false,
            deletable: false,
            description: None,
            columns,
            primary_key: Vec::new(),
        }
    }
}

/// A returned column: nullable, no default, plain representation.
fn column(name: &str, data_type: &str) -> Column {
    Column {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nullable: true,
        default: None,
        description: None,
        representation: Representation::default(),
        enum_labels: None,
        base_type: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_cache::RoutineArg;

    fn routine(oid: i64, name: &str, args: &[(&str, &str, bool)]) -> Routine {
        Routine {
            oid,
            schema: "api".into(),
            name: name.into(),
            description: None,
            args: args
                .iter()
                .map(|(n, t, d)| RoutineArg {
                    name: n.to_string(),
                    data_type: t.to_string(),
                    has_default: *d,
                    variadic: false,
                })
                .collect(),
            return_type: "integer".into(),
            returns_set: false,
            returns_void: false,
            return_columns: None,
            return_table: None,
            composite_name: None,
            media_type: None,
            volatility: "v".into(),
            settings: vec![],
        }
    }

    fn cache() -> SchemaCache {
        SchemaCache {
            routines: vec![
                routine(1, "add", &[("a", "integer", false), ("b", "integer", true)]),
                routine(2, "over", &[("a", "integer", false)]),
                routine(3, "over", &[("a", "text", false), ("b", "text", false)]),
                routine(4, "body", &[("", "json", false)]),
                routine(5, "dup", &[("x", "integer", true)]),
                routine(6, "dup", &[("y", "integer", true)]),
            ],
            ..SchemaCache::default()
        }
    }

    fn call(name: &str, keys: &[&str], post: bool) -> Result<i64, ApiError> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let cache = cache();
        let req = CallRequest {
            schema: "api",
            name,
            keys: &keys,
            payload: if post {
                RpcPayload::Json
            } else {
                RpcPayload::Named
            },
            post,
        };
        resolve(&cache, &req).map(|r| r.oid)
    }

    #[test]
    fn required_and_optional_arguments() {
        assert_eq!(call("add", &["a"], false), Ok(1));
        assert_eq!(call("add", &["a", "b"], false), Ok(1));
        assert!(matches!(
            call("add", &["b"], false),
            Err(ApiError::FunctionNotFound { .. })
        ));
        assert!(matches!(
            call("add", &["a", "c"], false),
            Err(ApiError::FunctionNotFound { .. })
        ));
    }

    #[test]
    fn overloads_by_names() {
        assert_eq!(call("over", &["a"], true), Ok(2));
        assert_eq!(call("over", &["a", "b"], true), Ok(3));
        assert!(matches!(
            call("dup", &[], true),
            Err(ApiError::AmbiguousFunction { candidates }) if candidates.len() == 2
        ));
    }

    #[test]
    fn single_unnamed_json_takes_any_post_body() {
        assert_eq!(call("body", &["whatever"], true), Ok(4));
        assert!(call("body", &["whatever"], false).is_err());
    }

    #[test]
    fn hints_name_the_closest() {
        let Err(ApiError::FunctionNotFound { suggestion, .. }) = call("addd", &["a"], false) else {
            panic!("expected PGRST202");
        };
        assert_eq!(suggestion, Some(FnSuggestion::Function("add".into())));
        let hint = |keys: &[&str]| match call("over", keys, false) {
            Err(ApiError::FunctionNotFound { suggestion, .. }) => suggestion,
            other => panic!("expected PGRST202, got {other:?}"),
        };
        assert_eq!(
            hint(&["a", "c"]),
            Some(FnSuggestion::Params(vec!["a".into(), "b".into()]))
        );
        // Nothing close enough: no hint.
        assert_eq!(hint(&["c"]), None);
    }

    fn arguments(keys: &[&str], source: ArgSource) -> Arguments {
        Arguments {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            payload: RpcPayload::Json,
            source,
        }
    }

    #[test]
    fn a_single_unnamed_argument_takes_the_whole_body_however_found() {
        let json = routine(1, "f", &[("", "json", false)]);
        let named_empty = arguments(&[""], ArgSource::Body(BodyJson::Request));
        assert_eq!(
            call_args(&json, &named_empty, br#"{"": 1}"#),
            CallArgs::Single(Param::RequestBody)
        );
        let bytes = routine(2, "g", &[("", "bytea", false)]);
        assert_eq!(
            call_args(&bytes, &named_empty, b"\x00"),
            CallArgs::Single(Param::Bytes(b"\x00".to_vec()))
        );
        let query = arguments(&[], ArgSource::Pairs(vec![]));
        assert_eq!(
            call_args(&json, &query, b""),
            CallArgs::Single(Param::Text("{}".into()))
        );
    }

    #[test]
    fn query_values_in_the_routines_order_variadic_ones_collected() {
        let mut f = routine(1, "f", &[("b", "text", false), ("v", "text[]", false)]);
        f.args[1].variadic = true;
        let pairs = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let args = arguments(
            &["b", "v"],
            ArgSource::Pairs(pairs(&[("v", "1"), ("b", "x"), ("v", "2"), ("b", "y")])),
        );
        assert_eq!(
            call_args(&f, &args, b""),
            CallArgs::Direct(vec![
                (0, DirectValue::Text("y".into())),
                (1, DirectValue::Variadic(vec!["1".into(), "2".into()])),
            ])
        );
    }

    #[test]
    fn json_arguments_know_an_array_body() {
        let f = routine(1, "f", &[("a", "integer", false)]);
        let args = arguments(&["a"], ArgSource::Body(BodyJson::Request));
        let array = |body: &[u8]| match call_args(&f, &args, body) {
            CallArgs::Json { array, .. } => array,
            other => panic!("expected JSON arguments, got {other:?}"),
        };
        assert!(array(b" \n [{\"a\": 1}]"));
        assert!(!array(br#"{"a": 1}"#));
    }
}
