//! `EXPLAIN` around a request's main statement, for
//! `Accept: application/vnd.pgrst.plan`.

use crate::api_request::accept::{Plan, PlanFormat};
use crate::contract::{RowUse, Statement};

/// The statement explained: `EXPLAIN (FORMAT …, OPTION…)` before its SQL,
/// the same parameters, and every row (one per text line, or one JSON
/// document) going to `respond`.
pub fn wrap(main: Statement, plan: &Plan) -> Statement {
    let format = match plan.format {
        PlanFormat::Text => "FORMAT TEXT",
        PlanFormat::Json => "FORMAT JSON",
    };
    let options: Vec<String> = std::iter::once(format.to_string())
        .chain(plan.options.iter().map(|o| o.name().to_ascii_uppercase()))
        .collect();
    Statement {
        sql: format!("EXPLAIN ({}) {}", options.join(", "), main.sql),
        params: main.params,
        rows: RowUse::ToRespond,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_request::accept::{MediaType, PlanOption};
    use crate::contract::Param;

    #[test]
    fn options_follow_the_format_and_parameters_stay() {
        let main = Statement {
            sql: "SELECT $1".into(),
            params: vec![Param::Text("x".into())],
            rows: RowUse::Body,
        };
        let plan = Plan {
            for_: Box::new(MediaType::Json),
            format: PlanFormat::Json,
            options: vec![PlanOption::Analyze, PlanOption::Wal],
        };
        let wrapped = wrap(main, &plan);
        assert_eq!(wrapped.sql, "EXPLAIN (FORMAT JSON, ANALYZE, WAL) SELECT $1");
        assert_eq!(wrapped.params, vec![Param::Text("x".into())]);
        assert_eq!(wrapped.rows, RowUse::ToRespond);
    }
}
