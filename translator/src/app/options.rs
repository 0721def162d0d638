//! `OPTIONS`: the methods a resource accepts, in PostgREST's `Allow`.

use crate::contract::HttpResponse;
use crate::schema_cache::{Routine, Table};

/// A table or view: reads always; each write as its updatability allows
/// (views: auto-updatable columns or INSTEAD OF triggers); PUT also needs a
/// primary key.
pub(super) fn table_methods(table: &Table) -> String {
    let put = table.insertable && table.updatable && !table.primary_key.is_empty();
    let writes = [
        (table.insertable, ",POST"),
        (put, ",PUT"),
        (table.updatable, ",PATCH"),
        (table.deletable, ",DELETE"),
    ];
    writes
        .iter()
        .filter(|(allowed, _)| *allowed)
        .fold("OPTIONS,GET,HEAD".to_string(), |all, (_, m)| all + m)
}

/// A function: POST always; GET and HEAD unless it is VOLATILE (those run
/// read-only).
pub(super) fn routine_methods(routine: &Routine) -> &'static str {
    if routine.is_volatile() {
        "OPTIONS,POST"
    } else {
        "OPTIONS,GET,HEAD,POST"
    }
}

/// 200 with no body and the `Allow` header, after the
/// `Access-Control-Allow-Origin: *` PostgREST puts on every OPTIONS answer
/// (CORS or not; a preflight never gets here).
pub(super) fn allow(methods: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![
            ("access-control-allow-origin".to_string(), "*".to_string()),
            ("allow".to_string(), methods.to_string()),
        ],
        body: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_follow_updatability() {
        let mut t = Table::for_tests("api", "t");
        t.primary_key = vec!["id".into()];
        assert_eq!(table_methods(&t), "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE");
        t.primary_key.clear();
        assert_eq!(table_methods(&t), "OPTIONS,GET,HEAD,POST,PATCH,DELETE");
        (t.insertable, t.updatable) = (false, false);
        assert_eq!(table_methods(&t), "OPTIONS,GET,HEAD,DELETE");
    }
}
