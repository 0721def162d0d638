//! Tests of the query-string grammar.

use super::ast::*;
use super::query_params::*;
use crate::error::ApiError;

/// Views of the parsed parameters by level, which only these tests need
/// (the plan walks the lists itself).
impl QueryParams {
    fn embedded_filters(&self) -> impl Iterator<Item = &PathFilter> {
        self.filters.iter().filter(|f| !f.path.is_empty())
    }

    fn order_at<'a>(&'a self, path: &'a [String]) -> impl Iterator<Item = &'a OrderTerm> {
        self.order
            .iter()
            .filter(move |o| o.path == path)
            .flat_map(|o| o.terms.iter())
    }

    fn logic_at<'a>(&'a self, path: &'a [String]) -> impl Iterator<Item = &'a LogicTree> {
        self.logic
            .iter()
            .filter(move |l| l.path == path)
            .map(|l| &l.tree)
    }
}

fn ok(q: &str) -> QueryParams {
    match parse_query_with(q, ParseOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("{q}: {}: {}", e.message(), e.details),
    }
}

fn err(q: &str) -> QueryParamError {
    match parse_query_with(q, ParseOptions::default()) {
        Ok(p) => panic!("{q} parsed: {p:?}"),
        Err(e) => e,
    }
}

fn rpc(q: &str) -> Result<QueryParams, QueryParamError> {
    parse_query_with(q, ParseOptions { rpc_read: true })
}

fn field(name: &str) -> Field {
    Field::plain(name)
}

fn col(name: &str) -> SelectItem {
    SelectItem::Field {
        field: field(name),
        alias: None,
        cast: None,
        aggregate: None,
        aggregate_cast: None,
    }
}

fn rel(name: &str, children: Vec<SelectItem>) -> SelectItem {
    SelectItem::Relation {
        name: name.into(),
        alias: None,
        hint: None,
        join: None,
        children,
    }
}

/// The single root filter's operation.
fn op(q: &str) -> OpExpr {
    let p = ok(q);
    assert_eq!(p.filters.len(), 1, "{q}");
    p.filters[0].filter.expr.clone()
}

fn quant(op: QuantOperator, value: &str) -> OpExpr {
    OpExpr {
        negated: false,
        operation: Operation::Quant {
            op,
            quantifier: None,
            value: value.into(),
        },
    }
}

fn key(k: &str) -> JsonOperation {
    JsonOperation {
        arrow: JsonArrow::Arrow,
        operand: JsonOperand::Key(k.into()),
    }
}

fn key2(k: &str) -> JsonOperation {
    JsonOperation {
        arrow: JsonArrow::DoubleArrow,
        operand: JsonOperand::Key(k.into()),
    }
}

fn in_list(q: &str) -> Vec<String> {
    match op(q).operation {
        Operation::In(v) => v,
        other => panic!("{q}: {other:?}"),
    }
}

fn tree(q: &str) -> LogicTree {
    let p = ok(q);
    assert_eq!(p.logic.len(), 1, "{q}");
    p.logic[0].tree.clone()
}

fn leaf(name: &str, expr: OpExpr) -> LogicTree {
    LogicTree::Stmnt(Filter {
        field: field(name),
        expr,
    })
}

// ---------------------------------------------------------------- the example

#[test]
fn brief_example() {
    let p = ok("select=a,b:c::text&a=eq.1&or=(b.gt.2,c.is.null)&order=a.desc");
    assert_eq!(
        p.select,
        vec![
            col("a"),
            SelectItem::Field {
                field: field("c"),
                alias: Some("b".into()),
                cast: Some("text".into()),
                aggregate: None,
                aggregate_cast: None,
            }
        ]
    );
    assert_eq!(
        p.filters,
        vec![PathFilter {
            path: vec![],
            filter: Filter {
                field: field("a"),
                expr: quant(QuantOperator::Equal, "1"),
            }
        }]
    );
    assert_eq!(
        p.logic,
        vec![PathLogic {
            path: vec![],
            tree: LogicTree::Expr {
                negated: false,
                op: LogicOperator::Or,
                children: vec![
                    leaf("b", quant(QuantOperator::GreaterThan, "2")),
                    leaf(
                        "c",
                        OpExpr {
                            negated: false,
                            operation: Operation::Is(IsValue::Null)
                        }
                    ),
                ],
            },
        }]
    );
    assert_eq!(
        p.order,
        vec![PathOrder {
            path: vec![],
            terms: vec![OrderTerm {
                relation: None,
                field: field("a"),
                direction: Some(OrderDirection::Desc),
                nulls: None,
            }],
        }]
    );
    assert!(p.ranges.is_empty());
    assert_eq!(p.raw.len(), 4);
}

// ---------------------------------------------------------------- decoding

#[test]
fn percent_decoding_and_plus() {
    let p = ok("a=eq.x+y&b=eq.%22q%22%2C%28&c%2Ed=eq.1");
    assert_eq!(p.filters[0].filter.expr, quant(QuantOperator::Equal, "x y"));
    assert_eq!(
        p.filters[1].filter.expr,
        quant(QuantOperator::Equal, "\"q\",(")
    );
    assert_eq!(p.filters[2].path, vec!["c".to_string()]);
    assert_eq!(p.filters[2].filter.field, field("d"));
    // %2B is a literal plus
    assert_eq!(op("a=eq.1%2B1"), quant(QuantOperator::Equal, "1+1"));
}

#[test]
fn invalid_percent_escapes_stay() {
    assert_eq!(op("a=eq.100%"), quant(QuantOperator::Equal, "100%"));
    assert_eq!(op("a=eq.%zz%4"), quant(QuantOperator::Equal, "%zz%4"));
    // invalid UTF-8 is replaced, not rejected
    assert_eq!(op("a=eq.%FF"), quant(QuantOperator::Equal, "\u{FFFD}"));
    // multi-byte UTF-8
    assert_eq!(op("a=eq.%C3%A9"), quant(QuantOperator::Equal, "é"));
}

#[test]
fn separators_and_pairs_without_value() {
    assert_eq!(
        split_query("?a=eq.1;b=eq.2&&flag&c="),
        vec![
            ("a".into(), Some("eq.1".into())),
            ("b".into(), Some("eq.2".into())),
            ("".into(), None),
            ("flag".into(), None),
            ("c".into(), Some("".into())),
        ]
    );
    // `c=` has a value (empty) and so is a filter that does not parse
    let e = err("c=");
    assert_eq!(e.kind, ParamKind::Filter);
    assert_eq!(
        e.message(),
        "\"failed to parse filter ()\" (line 1, column 1)"
    );
    // without `c=`
    let p = ok("a=eq.1;b=eq.2&&flag");
    assert_eq!(p.filters.len(), 2);
}

#[test]
fn empty_query() {
    let p = ok("");
    assert_eq!(p.select, vec![SelectItem::star()]);
    assert!(p.filters.is_empty() && p.logic.is_empty() && p.order.is_empty());
    assert_eq!(p.on_conflict, None);
    assert_eq!(p.columns, None);
}

// ---------------------------------------------------------------- select

#[test]
fn select_default_first_and_empty() {
    assert_eq!(ok("select").select, vec![SelectItem::star()]);
    assert_eq!(ok("select=a&select=b").select, vec![col("a")]);
    assert_eq!(ok("select=").select, vec![]);
    assert_eq!(ok("select=*").select, vec![SelectItem::star()]);
}

#[test]
fn select_names() {
    assert_eq!(
        ok("select=a b,c-d,$x,_y,%C3%A9t%C3%A9, sp ").select,
        vec![
            col("a b"),
            col("c-d"),
            col("$x"),
            col("_y"),
            col("été"),
            col("sp")
        ]
    );
    // quoted names may hold any character, with backslash escapes
    assert_eq!(
        ok("select=\"a.b,c(d)\",\"q\\\"x\\\\\"").select,
        vec![col("a.b,c(d)"), col("q\"x\\")]
    );
}

#[test]
fn select_json_paths() {
    let p = ok("select=data->a->>b,data->0,data->>-1,x:data->\"k.1\"->0::int");
    let items = p.select;
    assert_eq!(
        items[0],
        SelectItem::Field {
            field: Field {
                name: "data".into(),
                json_path: vec![key("a"), key2("b")]
            },
            alias: None,
            cast: None,
            aggregate: None,
            aggregate_cast: None,
        }
    );
    let SelectItem::Field { field: f1, .. } = &items[1] else {
        panic!()
    };
    assert_eq!(
        f1.json_path,
        vec![JsonOperation {
            arrow: JsonArrow::Arrow,
            operand: JsonOperand::Index("0".into())
        }]
    );
    let SelectItem::Field { field: f2, .. } = &items[2] else {
        panic!()
    };
    assert_eq!(
        f2.json_path,
        vec![JsonOperation {
            arrow: JsonArrow::DoubleArrow,
            operand: JsonOperand::Index("-1".into())
        }]
    );
    let SelectItem::Field {
        field: f3,
        alias,
        cast,
        ..
    } = &items[3]
    else {
        panic!()
    };
    assert_eq!(alias.as_deref(), Some("x"));
    assert_eq!(cast.as_deref(), Some("int"));
    assert_eq!(
        f3.json_path,
        vec![
            key("k.1"),
            JsonOperation {
                arrow: JsonArrow::Arrow,
                operand: JsonOperand::Index("0".into())
            }
        ]
    );
    // special characters in keys
    let SelectItem::Field { field, .. } = &ok("select=j->!@%23$%25^%26*_a").select[0] else {
        panic!()
    };
    assert_eq!(field.json_path, vec![key("!@#$%^&*_a")]);
}

#[test]
fn select_json_path_errors() {
    let e = err("select=data->>-78xy");
    assert_eq!(e.column, 11);
    assert!(e.details.contains("unexpected 'x'"), "{}", e.details);
    let e = err("select=data->");
    assert_eq!(e.kind, ParamKind::Select);
    assert!(
        e.details.starts_with("unexpected end of input"),
        "{}",
        e.details
    );
}

#[test]
fn select_aggregates() {
    let p = ok(
        "select=amount.sum(),amount::int.avg()::text,c:count(),count()::int,x.max(),x.min(),x.count()",
    );
    let agg = |i: usize| match &p.select[i] {
        SelectItem::Field {
            field,
            alias,
            cast,
            aggregate,
            aggregate_cast,
        } => (
            field.name.clone(),
            alias.clone(),
            cast.clone(),
            *aggregate,
            aggregate_cast.clone(),
        ),
        other => panic!("{other:?}"),
    };
    use AggregateFunction::*;
    assert_eq!(agg(0), ("amount".into(), None, None, Some(Sum), None));
    assert_eq!(
        agg(1),
        (
            "amount".into(),
            None,
            Some("int".into()),
            Some(Avg),
            Some("text".into())
        )
    );
    assert_eq!(
        agg(2),
        ("*".into(), Some("c".into()), None, Some(Count), None)
    );
    assert_eq!(
        agg(3),
        ("*".into(), None, None, Some(Count), Some("int".into()))
    );
    assert_eq!(agg(4).3, Some(Max));
    assert_eq!(agg(5).3, Some(Min));
    assert_eq!(agg(6).3, Some(Count));
    // a column named count
    assert_eq!(ok("select=count").select, vec![col("count")]);
    // unknown aggregate
    let e = err("select=a.median()");
    assert_eq!(e.kind, ParamKind::Select);
    assert_eq!(e.column, 3);
}

#[test]
fn select_embedding() {
    let p = ok(
        "select=*,client(id,nested(*)),al:proj!fk_proj!inner(name),x!left(*),y!inner!h(*),...sp!h2(a),...sp2(),e()",
    );
    assert_eq!(p.select[0], SelectItem::star());
    assert_eq!(
        p.select[1],
        rel(
            "client",
            vec![col("id"), rel("nested", vec![SelectItem::star()])]
        )
    );
    assert_eq!(
        p.select[2],
        SelectItem::Relation {
            name: "proj".into(),
            alias: Some("al".into()),
            hint: Some("fk_proj".into()),
            join: Some(JoinType::Inner),
            children: vec![col("name")],
        }
    );
    assert_eq!(
        p.select[3],
        SelectItem::Relation {
            name: "x".into(),
            alias: None,
            hint: None,
            join: Some(JoinType::Left),
            children: vec![SelectItem::star()],
        }
    );
    assert_eq!(
        p.select[4],
        SelectItem::Relation {
            name: "y".into(),
            alias: None,
            hint: Some("h".into()),
            join: Some(JoinType::Inner),
            children: vec![SelectItem::star()],
        }
    );
    assert_eq!(
        p.select[5],
        SelectItem::Spread {
            name: "sp".into(),
            hint: Some("h2".into()),
            join: None,
            children: vec![col("a")],
        }
    );
    assert_eq!(
        p.select[6],
        SelectItem::Spread {
            name: "sp2".into(),
            hint: None,
            join: None,
            children: vec![],
        }
    );
    assert_eq!(p.select[7], rel("e", vec![]));
}

#[test]
fn select_errors() {
    // PostgREST's own examples
    let e = err("select=id,clients(name[])");
    assert_eq!(
        e.message(),
        "\"failed to parse select parameter (id,clients(name[]))\" (line 1, column 16)"
    );
    assert!(e.details.starts_with("unexpected '['"), "{}", e.details);
    let e = err("select=name!hint");
    assert_eq!(e.column, 5);
    // PostgREST reads these as an empty select (parsec's `sepBy` ends the
    // list at an item that fails without consuming); the whole value must
    // parse here
    let e = err("select=*!hint");
    assert_eq!(
        (e.column, e.details.as_str()),
        (2, "unexpected '!' expecting \")\", \",\" or end of input")
    );
    err("select=*::text");
    err("select=a(*!hint)");
    let e = err("select=name::");
    assert_eq!(e.column, 7);
    assert!(
        e.details.contains("unexpected end of input"),
        "{}",
        e.details
    );
    // unclosed embed
    let e = err("select=a(b");
    assert_eq!(e.kind, ParamKind::Select);
    // relations cannot have JSON paths
    err("select=rel->x(*)");
    // a spread has no alias
    err("select=al:...rel(*)");
    // unterminated quote
    err("select=\"abc");
}

#[test]
fn select_must_parse_whole() {
    let e = err("select=a,b)x");
    assert_eq!(
        e.message(),
        "\"failed to parse select parameter (a,b)x)\" (line 1, column 4)"
    );
    assert_eq!(
        e.details,
        "unexpected ')' expecting \"->>\", \"->\", \"::\", \".\", \",\" or end of input"
    );
    let e = err("select=a(b)x");
    assert_eq!(
        (e.column, e.details.as_str()),
        (5, "unexpected 'x' expecting \",\" or end of input")
    );
    assert_eq!(err("select=,a").column, 1);
    // `%3B` is part of the value (a raw `;` separates pairs, as in PostgREST)
    let e = err("select=title%3Bdrop%20table%20x");
    assert_eq!(e.column, 6);
}

#[test]
fn select_nesting_limit() {
    let deep_ok = format!(
        "select={}x{}",
        "a(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    ok(&deep_ok);
    let too_deep = format!(
        "select={}x{}",
        "a(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let e = err(&too_deep);
    assert_eq!(e.kind, ParamKind::Select);
    assert!(e.details.contains("nested"), "{}", e.details);
    // very deep input: an error, never a stack overflow
    let huge = format!("select={}", "a(".repeat(100_000));
    err(&huge);
}

// ---------------------------------------------------------------- filters

#[test]
fn every_quant_operator() {
    use QuantOperator::*;
    for (name, o) in [
        ("eq", Equal),
        ("gte", GreaterThanEqual),
        ("gt", GreaterThan),
        ("lte", LessThanEqual),
        ("lt", LessThan),
        ("match", Match),
        ("imatch", IMatch),
    ] {
        assert_eq!(op(&format!("a={name}.v.1")), quant(o, "v.1"), "{name}");
        // with quantifiers
        for (m, qf) in [("any", OpQuantifier::Any), ("all", OpQuantifier::All)] {
            assert_eq!(
                op(&format!("a={name}({m}).{{1,2}}")).operation,
                Operation::Quant {
                    op: o,
                    quantifier: Some(qf),
                    value: "{1,2}".into()
                }
            );
        }
        // negated
        let e = op(&format!("a=not.{name}.x"));
        assert!(e.negated);
        // missing delimiter
        let e = err(&format!("a={name}"));
        assert_eq!(e.kind, ParamKind::Filter);
        // bad quantifier
        err(&format!("a={name}(some).x"));
        err(&format!("a={name}().x"));
    }
}

#[test]
fn like_star_becomes_percent() {
    assert_eq!(op("a=like.*ab*c"), quant(QuantOperator::Like, "%ab%c"));
    assert_eq!(op("a=ilike.A*"), quant(QuantOperator::ILike, "A%"));
    assert_eq!(
        op("a=like(any).{a*,*b}").operation,
        Operation::Quant {
            op: QuantOperator::Like,
            quantifier: Some(OpQuantifier::Any),
            value: "{a%,%b}".into()
        }
    );
    // eq keeps stars
    assert_eq!(op("a=eq.*"), quant(QuantOperator::Equal, "*"));
    // match keeps stars
    assert_eq!(op("a=match.a*"), quant(QuantOperator::Match, "a*"));
}

#[test]
fn every_simple_operator() {
    use SimpleOperator::*;
    for o in [
        NotEqual,
        Contains,
        Contained,
        Overlap,
        StrictlyLeft,
        StrictlyRight,
        NotExtendsRight,
        NotExtendsLeft,
        Adjacent,
    ] {
        assert_eq!(
            op(&format!("a={}.[1,2)", o.name())).operation,
            Operation::Simple {
                op: o,
                value: "[1,2)".into()
            }
        );
        // no quantifier for these
        err(&format!("a={}(any).x", o.name()));
        err(&format!("a={}", o.name()));
    }
}

#[test]
fn fts_operators() {
    use FtsOperator::*;
    for o in [Fts, Plain, Phrase, Websearch] {
        assert_eq!(
            op(&format!("a={}.cat %26 dog", o.name())).operation,
            Operation::Fts {
                op: o,
                language: None,
                value: "cat & dog".into()
            }
        );
        assert_eq!(
            op(&format!("a=not.{}(english).cat", o.name())),
            OpExpr {
                negated: true,
                operation: Operation::Fts {
                    op: o,
                    language: Some("english".into()),
                    value: "cat".into()
                }
            }
        );
        err(&format!("a={}().x", o.name()));
        err(&format!("a={}(a.b).x", o.name()));
        err(&format!("a={}(any)", o.name()));
    }
}

#[test]
fn is_operator() {
    for (v, want) in [
        ("null", IsValue::Null),
        ("NULL", IsValue::Null),
        ("nUlL", IsValue::Null),
        ("not_null", IsValue::NotNull),
        ("NOT_NULL", IsValue::NotNull),
        ("true", IsValue::True),
        ("TRUE", IsValue::True),
        ("false", IsValue::False),
        ("unknown", IsValue::Unknown),
    ] {
        assert_eq!(
            op(&format!("a=is.{v}")).operation,
            Operation::Is(want),
            "{v}"
        );
    }
    assert!(op("a=not.is.null").negated);
    let e = err("a=is.nil");
    assert_eq!(e.column, 4);
    assert!(
        e.details.contains("null, not_null, true, false, unknown"),
        "{}",
        e.details
    );
    err("a=is.");
    err("a=is(any).null");
}

#[test]
fn isdistinct_operator() {
    assert_eq!(
        op("a=isdistinct.x.y").operation,
        Operation::IsDistinctFrom("x.y".into())
    );
    assert!(op("a=not.isdistinct.").negated);
    err("a=isdistinct");
}

#[test]
fn in_operator_and_quoting() {
    assert_eq!(in_list("a=in.(1,2,3)"), vec!["1", "2", "3"]);
    assert_eq!(
        in_list("a=in.(\"a,b\",\"c\\\"d\",\"e)f\",\"g\\\\h\",\"i.j\")"),
        vec!["a,b", "c\"d", "e)f", "g\\h", "i.j"]
    );
    // spaces are kept inside elements, not around the parentheses
    assert_eq!(in_list("a=in. ( x , y ) "), vec!["x ", " y "]);
    // a quote not followed by , or ) is raw text
    assert_eq!(in_list("a=in.(\"a\"b,c)"), vec!["\"a\"b", "c"]);
    // empty list: one empty element, as PostgREST
    assert_eq!(in_list("a=in.()"), vec![""]);
    assert_eq!(in_list("a=in.(\"\")"), vec![""]);
    assert_eq!(in_list("a=in.(a.b,(c)"), vec!["a.b", "(c"]);
    // percent-encoded commas and quotes
    assert_eq!(in_list("a=in.(%22x%2Cy%22,z)"), vec!["x,y", "z"]);
    let e = err("a=in.1,2");
    assert_eq!(e.column, 4);
    err("a=in.(1,2");
    err("a=in(any).(1)");
    // an unterminated quote is raw text, as in PostgREST
    assert_eq!(in_list("a=in.(\"unterminated)"), vec!["\"unterminated"]);
}

#[test]
fn filter_values_must_parse_whole() {
    let e = err("a=in.(1)xyz");
    assert_eq!(
        e.message(),
        "\"failed to parse filter (in.(1)xyz)\" (line 1, column 7)"
    );
    assert_eq!(e.details, "unexpected 'x' expecting end of input");
    assert_eq!(in_list("a=in.(1) "), vec!["1"]);
    let e = err("a=is.nullx");
    assert_eq!((e.kind, e.column), (ParamKind::Filter, 8));
    // in an RPC read too: `in.`/`is.` commit to being a filter
    assert!(rpc("a=is.nullx").is_err());
}

#[test]
fn keys_and_lists_must_parse_whole() {
    let e = err("ti(tle=eq.1");
    assert_eq!(
        (e.kind, e.message().as_str()),
        (
            ParamKind::TreePath,
            "\"failed to parse tree path (ti(tle)\" (line 1, column 3)"
        )
    );
    assert_eq!(err("a)b.limit=1").kind, ParamKind::TreePath);
    assert_eq!(err("a)b.or=(c.eq.1)").kind, ParamKind::LogicPath);
    let e = err("or=(a.eq.1)x");
    assert_eq!((e.kind, e.column), (ParamKind::LogicTree, 11));
    assert_eq!(e.details, "unexpected 'x' expecting end of input");
    let e = err("columns=a,b)x");
    assert_eq!((e.kind, e.column), (ParamKind::Columns, 4));
    let e = err("on_conflict=a%3Bb");
    assert_eq!((e.kind, e.column), (ParamKind::OnConflict, 2));
    assert_eq!(e.details, "unexpected ';' expecting \",\" or end of input");
    let e = err("order=id%3Bdesc");
    assert_eq!((e.kind, e.column), (ParamKind::Order, 3));
}

#[test]
fn names_refuse_control_characters() {
    // a quoted name: where the control character stands
    let e = err("select=%22a%00%22");
    assert_eq!(
        e.message(),
        "\"failed to parse select parameter (\"a\u{0}\")\" (line 1, column 3)"
    );
    assert_eq!(
        e.details,
        "unexpected \"\\NUL\" expecting \"\\\\\" or \"\\\"\""
    );
    // escaped, unquoted, in an alias, a JSON key, a filter key, order,
    // columns, on_conflict, a hint, a logic tree
    for q in [
        "select=%22a%5C%00%22",
        "select=a%00b",
        "select=%22x%01%22:a",
        "select=a->%22k%1F%22",
        "select=a->k%7F",
        "select=a->>%00",
        "%22a%00%22=eq.1",
        "a->k%00=eq.1",
        "order=%22a%09%22",
        "order=a->k%00.desc",
        "columns=%22a%00%22",
        "on_conflict=%22a%0A%22",
        "select=a!%22h%00%22(*)",
        "select=%22r%00%22(*)",
        "or=(%22a%00%22.eq.1)",
        "x.%22a%00%22.limit=1",
    ] {
        let e = err(q);
        assert!(
            e.details.starts_with("unexpected") && !e.details.contains('\0'),
            "{q}: {}",
            e.details
        );
    }
    // values may hold them: they are bound parameters
    assert_eq!(op("a=eq.x%01y"), quant(QuantOperator::Equal, "x\u{1}y"));
    assert_eq!(in_list("a=in.(%22x%0Ay%22)"), vec!["x\ny"]);
}

#[test]
fn filter_values_keep_special_characters() {
    assert_eq!(
        op("a=eq.a.b,c(d)\"e\\f"),
        quant(QuantOperator::Equal, "a.b,c(d)\"e\\f")
    );
    assert_eq!(op("a=eq."), quant(QuantOperator::Equal, ""));
    assert_eq!(
        op("a=neq.not.x").operation,
        Operation::Simple {
            op: SimpleOperator::NotEqual,
            value: "not.x".into()
        }
    );
}

#[test]
fn unknown_operators() {
    let e = err("a=noop.0");
    assert_eq!(
        e.message(),
        "\"failed to parse filter (noop.0)\" (line 1, column 1)"
    );
    assert_eq!(
        e.details,
        "unexpected \"o\" expecting \"not\" or operator (eq, gt, ...)"
    );
    err("a=EQ.1");
    err("a=eqx.1");
    err("a=not.not.eq.1");
    err("a=1");
    let e = err("a=eq");
    assert!(
        e.message()
            .starts_with("\"failed to parse filter (eq)\" (line 1, column ")
    );
}

#[test]
fn filter_keys() {
    let p = ok("data->a->>b=eq.1&clients.projects.id=gt.2&c.data->0=eq.3&\"a.b\".c=eq.4&x-y=eq.5");
    assert_eq!(p.filters[0].path, Vec::<String>::new());
    assert_eq!(
        p.filters[0].filter.field,
        Field {
            name: "data".into(),
            json_path: vec![key("a"), key2("b")]
        }
    );
    assert_eq!(p.filters[1].path, vec!["clients", "projects"]);
    assert_eq!(p.filters[1].filter.field, field("id"));
    assert_eq!(p.filters[2].path, vec!["c"]);
    assert_eq!(p.filters[3].path, vec!["a.b"]);
    assert_eq!(p.filters[4].filter.field, field("x-y"));
    assert_eq!(p.root_filters().count(), 2);
    assert_eq!(p.embedded_filters().count(), 3);
    // repeated keys are all kept, in order
    let p = ok("a=gt.1&a=lt.5");
    assert_eq!(p.filters.len(), 2);
    // bad keys
    let e = err("a.=eq.1");
    assert_eq!(e.kind, ParamKind::TreePath);
    assert_eq!(e.value, "a.");
    err("(a=eq.1");
    err("a->=eq.1");
}

#[test]
fn reserved_keys_are_not_filters() {
    let p = ok(
        "select=a&columns=a&on_conflict=a&order=a&limit=1&offset=2&and=(a.eq.1)&or=(a.eq.2)&not.and=(a.eq.3)",
    );
    assert!(p.filters.is_empty());
    assert_eq!(p.logic.len(), 3);
    // but embedded `select` is a filter on a column named select
    let p = ok("x.select=eq.1");
    assert_eq!(p.filters[0].path, vec!["x"]);
}

// ---------------------------------------------------------------- rpc

#[test]
fn rpc_read_arguments() {
    let p = rpc("a=1&b=eq.2&c=hello.world&d=&select=x").unwrap();
    assert_eq!(
        p.rpc_args,
        vec![
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "hello.world".to_string()),
            ("d".to_string(), "".to_string())
        ]
    );
    assert_eq!(p.filters.len(), 1);
    assert_eq!(p.filters[0].filter.field, field("b"));
    // committed operators still fail
    assert!(rpc("a=in.x").is_err());
    assert!(rpc("a=is.maybe").is_err());
    assert!(rpc("a=not.x").is_err());
    // not an rpc read: error
    err("a=1");
}

// ---------------------------------------------------------------- logic

#[test]
fn logic_trees() {
    assert_eq!(
        tree("or=(a.eq.1,and(b.gt.2,c.not.lt.3),not.or(d.is.true))"),
        LogicTree::Expr {
            negated: false,
            op: LogicOperator::Or,
            children: vec![
                leaf("a", quant(QuantOperator::Equal, "1")),
                LogicTree::Expr {
                    negated: false,
                    op: LogicOperator::And,
                    children: vec![
                        leaf("b", quant(QuantOperator::GreaterThan, "2")),
                        leaf(
                            "c",
                            OpExpr {
                                negated: true,
                                operation: Operation::Quant {
                                    op: QuantOperator::LessThan,
                                    quantifier: None,
                                    value: "3".into()
                                }
                            }
                        ),
                    ]
                },
                LogicTree::Expr {
                    negated: true,
                    op: LogicOperator::Or,
                    children: vec![leaf(
                        "d",
                        OpExpr {
                            negated: false,
                            operation: Operation::Is(IsValue::True)
                        }
                    )]
                },
            ]
        }
    );
    let p = ok("not.and=(a.eq.1)&child.or=(a.eq.1)&a.b.not.or=(a.eq.1)");
    assert!(matches!(
        p.logic[0].tree,
        LogicTree::Expr {
            negated: true,
            op: LogicOperator::And,
            ..
        }
    ));
    assert_eq!(p.logic[1].path, vec!["child"]);
    assert_eq!(p.logic[2].path, vec!["a", "b"]);
    assert!(matches!(
        p.logic[2].tree,
        LogicTree::Expr { negated: true, .. }
    ));
    assert_eq!(p.logic_at(&["child".to_string()]).count(), 1);
}

#[test]
fn logic_values_and_quoting() {
    let t = tree(
        "or=(a.eq.\"x,y)\",b.in.(\"1,2\",3),c.cs.{1,2},d.eq.\"q\\\"z\",e.like.*x*,f.fts(english).a b, g .eq. 1)",
    );
    let LogicTree::Expr { children, .. } = t else {
        panic!()
    };
    assert_eq!(children[0], leaf("a", quant(QuantOperator::Equal, "x,y)")));
    assert_eq!(
        children[1],
        leaf(
            "b",
            OpExpr {
                negated: false,
                operation: Operation::In(vec!["1,2".into(), "3".into()])
            }
        )
    );
    assert_eq!(
        children[2],
        leaf(
            "c",
            OpExpr {
                negated: false,
                operation: Operation::Simple {
                    op: SimpleOperator::Contains,
                    value: "{1,2}".into()
                }
            }
        )
    );
    assert_eq!(children[3], leaf("d", quant(QuantOperator::Equal, "q\"z")));
    assert_eq!(children[4], leaf("e", quant(QuantOperator::Like, "%x%")));
    assert_eq!(
        children[5],
        leaf(
            "f",
            OpExpr {
                negated: false,
                operation: Operation::Fts {
                    op: FtsOperator::Fts,
                    language: Some("english".into()),
                    value: "a b".into()
                }
            }
        )
    );
    // spaces around the field are skipped, a value keeps its spaces
    assert_eq!(children[6], leaf("g", quant(QuantOperator::Equal, " 1")));
    // quantifiers inside logic
    let t = tree("and=(a.eq(any).{1,2},b.like(all).{a*,b*})");
    let LogicTree::Expr { children, .. } = t else {
        panic!()
    };
    assert_eq!(
        children[1],
        leaf(
            "b",
            OpExpr {
                negated: false,
                operation: Operation::Quant {
                    op: QuantOperator::Like,
                    quantifier: Some(OpQuantifier::All),
                    value: "{a%,b%}".into()
                }
            }
        )
    );
    // json paths in logic
    let t = tree("or=(data->a->>b.eq.1)");
    let LogicTree::Expr { children, .. } = t else {
        panic!()
    };
    let LogicTree::Stmnt(f) = &children[0] else {
        panic!()
    };
    assert_eq!(f.field.json_path, vec![key("a"), key2("b")]);
}

#[test]
fn logic_errors() {
    let e = err("or=()");
    assert_eq!(e.kind, ParamKind::LogicTree);
    assert_eq!(e.value, "()");
    assert_eq!(e.column, 4);
    let e = err("or=(id.in.1,2,id.eq.3)");
    assert_eq!(e.column, 10);
    err("or=)(");
    let e = err("and=(ord(id.eq.1,id.eq.1),id.eq.2)");
    assert_eq!(e.kind, ParamKind::LogicTree);
    err("or=(id.eq.1,not.xor(id.eq.2,id.eq.3))");
    err("or=(a.eq.1");
    err("or=(a.eq.1,)");
    err("or=(a.is.nullx)");
    err("or=(a.noop.1)");
    err("or=");
    let e = err("(.or=(a.eq.1)");
    assert_eq!(e.kind, ParamKind::LogicPath);
}

#[test]
fn logic_nesting_limit() {
    let nested = |n: usize| {
        let mut s = String::from("or=(");
        for _ in 1..n {
            s.push_str("or(");
        }
        s.push_str("a.eq.1");
        s.push_str(&")".repeat(n));
        s
    };
    ok(&nested(MAX_DEPTH));
    let e = err(&nested(MAX_DEPTH + 1));
    assert_eq!(e.kind, ParamKind::LogicTree);
    assert!(e.details.contains("nested"), "{}", e.details);
    err(&format!("or=({}", "and(".repeat(200_000)));
}

// ---------------------------------------------------------------- order

#[test]
fn order_terms() {
    let p = ok(
        "order=a,b.desc,c.asc.nullsfirst,d.nullslast,data->x.desc,clients(name).desc.nullsfirst,\"q.r\"&child.order=z",
    );
    let t = &p.order[0].terms;
    assert_eq!(t.len(), 7);
    assert_eq!(
        t[0],
        OrderTerm {
            relation: None,
            field: field("a"),
            direction: None,
            nulls: None
        }
    );
    assert_eq!(t[1].direction, Some(OrderDirection::Desc));
    assert_eq!(
        (t[2].direction, t[2].nulls),
        (Some(OrderDirection::Asc), Some(OrderNulls::NullsFirst))
    );
    assert_eq!(
        (t[3].direction, t[3].nulls),
        (None, Some(OrderNulls::NullsLast))
    );
    assert_eq!(t[4].field.json_path, vec![key("x")]);
    assert_eq!(t[5].relation.as_deref(), Some("clients"));
    assert_eq!(t[5].field, field("name"));
    assert_eq!(t[6].field, field("q.r"));
    assert_eq!(p.order[1].path, vec!["child"]);
    assert_eq!(p.order_at(&[]).count(), 7);
}

#[test]
fn order_errors_match_postgrest() {
    let e = err("order=id.ac");
    assert_eq!(
        e.message(),
        "\"failed to parse order (id.ac)\" (line 1, column 4)"
    );
    assert_eq!(
        e.details,
        "unexpected \"c\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""
    );
    let e = err("order=id.descc");
    assert_eq!(e.column, 8);
    assert_eq!(
        e.details,
        "unexpected 'c' expecting delimiter (.), \",\" or end of input"
    );
    let e = err("order=id.nullslasttt");
    assert_eq!(e.column, 13);
    assert_eq!(e.details, "unexpected 't' expecting \",\" or end of input");
    let e = err("order=id.asc.nlsfst");
    assert_eq!(e.column, 8);
    assert_eq!(
        e.details,
        "unexpected \"l\" expecting \"nullsfirst\" or \"nullslast\""
    );
    err("order=clients(name,id)");
    err("order=");
    err("order=a,");
    err("order=a.desc.asc");
}

// ---------------------------------------------------------------- ranges

#[test]
fn limit_and_offset() {
    let p = ok("limit=10&offset=5&clients.limit=2&clients.offset=1&x.offset=3&limit=20");
    assert_eq!(
        p.ranges,
        vec![
            PathRange {
                path: vec![],
                limit: Some(20),
                offset: Some(5)
            },
            PathRange {
                path: vec!["clients".into()],
                limit: Some(2),
                offset: Some(1)
            },
            PathRange {
                path: vec!["x".into()],
                limit: None,
                offset: Some(3)
            },
        ]
    );
    assert_eq!(p.range(&[]).and_then(|r| r.limit), Some(20));
    // negatives are kept (the range rules answer them), huge numbers saturate
    assert_eq!(ok("limit=-1").ranges[0].limit, Some(-1));
    assert_eq!(
        ok("limit=99999999999999999999999").ranges[0].limit,
        Some(i64::MAX)
    );
    err("a..limit=1");
}

#[test]
fn limit_and_offset_must_be_integers() {
    // PostgREST ignores what Haskell cannot read as an integer
    let e = err("limit=abc");
    assert_eq!(
        (e.kind, e.message().as_str(), e.details.as_str()),
        (
            ParamKind::Limit,
            "\"failed to parse limit parameter (abc)\" (line 1, column 1)",
            "unexpected \"a\" expecting \"-\" or digit"
        )
    );
    let e = err("offset=1.5");
    assert_eq!(
        (e.kind, e.column, e.details.as_str()),
        (
            ParamKind::Offset,
            2,
            "unexpected '.' expecting digit or end of input"
        )
    );
    for q in [
        "limit=",
        "limit=+%2010%20",
        "limit=%2010",
        "limit=-",
        "limit=1e3",
        "limit=%D9%A1",
        "clients.limit=ten",
        "clients.offset=1x",
    ] {
        err(q);
    }
}

// ---------------------------------------------------------------- columns, on_conflict

#[test]
fn columns_and_on_conflict() {
    let p = ok("columns=a,b , c,a,\"d,e\"&on_conflict=x,y");
    assert_eq!(
        p.columns,
        Some(vec!["a".into(), "b".into(), "c".into(), "d,e".into()])
    );
    assert_eq!(p.on_conflict, Some(vec!["x".into(), "y".into()]));
    let e = err("columns=");
    assert_eq!(e.kind, ParamKind::Columns);
    let e = err("on_conflict=,a");
    assert_eq!(e.kind, ParamKind::OnConflict);
    assert_eq!(
        e.message(),
        "\"failed to parse on_conflict parameter (,a)\" (line 1, column 1)"
    );
    err("columns=a,");
}

// ---------------------------------------------------------------- errors

#[test]
fn error_order_and_api_error() {
    // order is checked before select, select before filters
    let e = err("a=noop.1&select=(&order=x.y");
    assert_eq!(e.kind, ParamKind::Order);
    let e = err("a=noop.1&select=a(");
    assert_eq!(e.kind, ParamKind::Select);
    let api = parse_query("a=noop.1").unwrap_err();
    assert_eq!(
        api,
        ApiError::ParseError {
            message: "\"failed to parse filter (noop.1)\" (line 1, column 1)".into(),
            details: "unexpected \"o\" expecting \"not\" or operator (eq, gt, ...)".into()
        }
    );
}

#[test]
fn error_positions_count_tabs_and_lines() {
    let e = err("order=%09x.y");
    assert_eq!(e.column, 11);
    // a newline can only be in a value
    let e = err("or=(a.eq.x%0Ay,b.zz.1)");
    assert_eq!(e.line, 2);
}

// ---------------------------------------------------------------- robustness

/// xorshift: deterministic pseudo-random inputs, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn never_panics_on_random_input() {
    const ALPHABET: &[&str] = &[
        "a",
        "b",
        "z",
        "1",
        "0",
        "-",
        "9",
        ".",
        ",",
        "(",
        ")",
        "\"",
        "\\",
        "!",
        ":",
        "::",
        "*",
        "->",
        "->>",
        "{",
        "}",
        " ",
        "\t",
        "%",
        "%2",
        "%22",
        "%FF",
        "%C3",
        "+",
        "&",
        ";",
        "=",
        "eq",
        "not.",
        "in.",
        "is.",
        "null",
        "or",
        "and",
        "select",
        "order",
        "limit",
        "offset",
        "columns",
        "on_conflict",
        "...",
        "!inner",
        "count()",
        ".sum()",
        "(any)",
        "é",
        "\u{0}",
        "\n",
        "fts",
        "desc",
        "nullsfirst",
        "$",
        "_",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..30_000 {
        let len = rng.below(40);
        let mut s = String::new();
        for _ in 0..len {
            s.push_str(ALPHABET[rng.below(ALPHABET.len())]);
        }
        let _ = parse_query_with(&s, ParseOptions::default());
        let _ = parse_query_with(&s, ParseOptions { rpc_read: true });
        // the same text as each kind of value
        for k in ["select", "order", "or", "a", "columns", "limit", "x.and"] {
            let q = format!("{k}={s}");
            let _ = parse_query_with(&q, ParseOptions::default());
        }
    }
}

#[test]
fn never_panics_on_random_bytes() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = rng.below(30);
        let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        let s = String::from_utf8_lossy(&bytes);
        for k in ["select=", "order=", "or=", "a=", ""] {
            let _ = parse_query(&format!("{k}{s}"));
        }
    }
}

#[test]
fn parsing_is_deterministic() {
    let q = "select=a,b(c)&z=eq.1&a=gt.2&m.n=lt.3&or=(a.eq.1)&order=a&limit=1";
    assert_eq!(ok(q), ok(q));
    let p = ok(q);
    let names: Vec<&str> = p
        .filters
        .iter()
        .map(|f| f.filter.field.name.as_str())
        .collect();
    assert_eq!(names, vec!["z", "a", "n"]);
}

#[test]
fn logic_negation_is_on_the_operator() {
    // `not.` before a column name is not a negation (PostgREST: `c.not.lt.3`)
    err("or=(not.c.lt.3)");
    // and an operator cannot be separated by spaces
    err("or=(a. eq.1)");
}

#[test]
fn canonical_query_is_sorted_and_re_encoded() {
    assert_eq!(canonical(&split_query("")), "");
    assert_eq!(
        canonical(&split_query("select=id,name&id=eq.1&a=x%20y+z")),
        "a=x%20y%20z&id=eq.1&select=id%2Cname"
    );
    // Repeated names are joined by a comma; no `=` is an empty value.
    assert_eq!(canonical(&split_query("b=2&a&b=1")), "a=&b=2,1");
    assert_eq!(
        canonical(&split_query("name=eq.%C3%A9-_.~*")),
        "name=eq.%C3%A9-_.~%2A"
    );
}
