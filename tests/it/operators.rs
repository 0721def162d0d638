//! Every filter operator over real HTTP: a positive case, its negation, and
//! values that need quoting or percent-encoding. Each case lists the ids the
//! database must return, ordered by id.

use crate::harness::{Reply, get};

/// The ids `GET /<table>?select=id&order=id&<filter>` returns.
async fn ids(table: &str, filter: &str) -> Vec<i64> {
    let r = get(&format!("/{table}?select=id&order=id&{filter}")).await;
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("{filter}: not an array: {}", r.text))
        .iter()
        .map(|v| v["id"].as_i64().expect("id"))
        .collect()
}

async fn check(table: &str, cases: &[(&str, &[i64])]) {
    for (filter, expected) in cases {
        assert_eq!(ids(table, filter).await, *expected, "{table}?{filter}");
    }
}

fn assert_pgrst100(r: &Reply, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text);
    assert_eq!(r.body["code"], "PGRST100", "{what}: {}", r.text);
}

#[tokio::test]
async fn equality_and_comparisons() {
    check(
        "items",
        &[
            ("id=eq.3", &[3]),
            ("id=not.eq.1", &[2, 3, 4, 5]),
            ("id=neq.1", &[2, 3, 4, 5]),
            // NULL is neither equal nor unequal.
            ("name=neq.apple", &[2, 3, 4]),
            ("name=not.neq.apple", &[1]),
            ("price=gt.2", &[3, 5]),
            ("price=gte.2", &[2, 3, 5]),
            ("price=lt.2", &[1]),
            ("price=lte.2", &[1, 2]),
            ("price=not.gt.2", &[1, 2]),
            // Reserved characters inside values.
            ("name=eq.a,b", &[2]),
            ("name=eq.pear.(x)", &[4]),
            ("name=eq.c%22d", &[3]),
            ("name=eq.%61pple", &[1]),
        ],
    )
    .await;
}

#[tokio::test]
async fn pattern_matching() {
    check(
        "items",
        &[
            ("name=like.*,*", &[2]),
            ("name=like.*(x)", &[4]),
            ("name=not.like.a*", &[3, 4]),
            ("name=ilike.*PEAR*", &[4]),
            ("name=not.ilike.*P*", &[2, 3]),
            ("name=match.^a", &[1, 2]),
            ("name=imatch.^A", &[1, 2]),
            ("name=not.match.^a", &[3, 4]),
            // A regex with escaped parentheses (backslash percent-encoded).
            ("name=match.%5C(x%5C)$", &[4]),
        ],
    )
    .await;
}

#[tokio::test]
async fn in_is_and_is_distinct() {
    check(
        "items",
        &[
            ("id=in.(1,3)", &[1, 3]),
            // The empty list matches nothing, whatever the column type.
            ("id=in.()", &[]),
            ("id=not.in.()", &[1, 2, 3, 4, 5]),
            ("id=not.in.(1,2,3)", &[4, 5]),
            ("name=in.(%22a,b%22,apple)", &[1, 2]),
            ("name=is.null", &[5]),
            ("name=is.not_null", &[1, 2, 3, 4]),
            ("name=not.is.null", &[1, 2, 3, 4]),
            ("name=isdistinct.apple", &[2, 3, 4, 5]),
            ("name=not.isdistinct.apple", &[1]),
        ],
    )
    .await;
    check(
        "flags",
        &[
            ("active=is.true", &[1]),
            ("active=is.false", &[2]),
            ("active=is.unknown", &[3]),
            ("active=not.is.true", &[2, 3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn full_text_search() {
    check(
        "docs",
        &[
            ("tsv=fts.fox", &[1]),
            ("tsv=not.fts.fox", &[2, 3]),
            ("tsv=plfts.quick%20fox", &[1]),
            ("tsv=phfts(english).quick%20brown", &[1]),
            ("tsv=phfts(english).brown%20quick", &[]),
            ("tsv=wfts(english).%22lazy%20dogs%22", &[2]),
            ("tsv=wfts(english).fox%20or%20dogs", &[1, 2]),
            // Text columns are searched through to_tsvector.
            ("body=fts(spanish).zorra", &[3]),
            ("body=plfts(english).jumping", &[1]),
        ],
    )
    .await;
    let r = get("/docs?tsv=fts(klingon).fox").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "42704", "{}", r.text);
}

#[tokio::test]
async fn array_operators() {
    check(
        "items",
        &[
            ("tags=cs.%7Bfruit%7D", &[1, 4]),
            ("tags=not.cs.%7Bfruit%7D", &[2, 3]),
            ("tags=cd.%7Bfruit,red,odd%7D", &[1, 2, 3, 4]),
            ("tags=ov.%7Bred,odd%7D", &[1, 2]),
            ("tags=cs.%7B%22a,b%22%7D", &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn range_operators() {
    check(
        "spans",
        &[
            ("during=sl.%5B5,6)", &[1]),
            ("during=sr.%5B5,6)", &[3]),
            ("during=nxr.%5B0,10)", &[1, 2]),
            ("during=nxl.%5B5,100)", &[2, 3]),
            ("during=adj.%5B10,20)", &[2, 3]),
            ("during=not.adj.%5B10,20)", &[1]),
            ("during=ov.%5B4,6)", &[1, 2]),
            ("during=cs.%5B6,7)", &[2]),
        ],
    )
    .await;
}

#[tokio::test]
async fn quantified_operators() {
    check(
        "items",
        &[
            ("id=eq(any).%7B1,3%7D", &[1, 3]),
            ("id=gt(all).%7B1,3%7D", &[4, 5]),
            ("name=like(any).%7Ba*,p*%7D", &[1, 2, 4]),
            ("name=like(all).%7B*a*,*p*%7D", &[1, 4]),
            ("name=ilike(any).%7BAPP*,%22A,*%22%7D", &[1, 2]),
            ("id=not.eq(any).%7B1,3%7D", &[2, 4, 5]),
        ],
    )
    .await;
}

#[tokio::test]
async fn logic_trees_nest_and_negate() {
    check(
        "items",
        &[
            ("or=(id.eq.1,id.eq.5)", &[1, 5]),
            ("and=(price.gt.1,or(id.eq.1,id.eq.3))", &[1, 3]),
            ("not.or=(id.eq.1,id.eq.2)", &[3, 4, 5]),
            ("not.and=(id.gt.1,id.lt.5)", &[1, 5]),
            ("or=(name.eq.%22a,b%22,name.in.(%22c%5C%22d%22))", &[2, 3]),
            // Inside a tree, `)` ends an unquoted value: quote it to keep it
            // (unquoted, the tree ends early: `grammar::`).
            ("or=(id.not.in.(1,2,3,4),name.like.%22*(x)%22)", &[4, 5]),
            ("or=(data->>color.eq.red,data->size->>cm.eq.9)", &[1]),
            ("id=gt.1&or=(id.eq.1,id.eq.2)", &[2]),
        ],
    )
    .await;
}

#[tokio::test]
async fn filters_on_json_paths() {
    check(
        "items",
        &[
            ("data->>color=eq.red", &[1]),
            ("data->size->>cm=eq.8", &[1]),
            ("data->color=eq.%22green%22", &[4]),
            ("data->>color=not.eq.red", &[2, 4]),
            ("data->>color=in.(red,green)", &[1, 4]),
        ],
    )
    .await;
}

#[tokio::test]
async fn pgrst100_bodies_are_postgrests() {
    // Messages and details as PostgREST's parser reports them.
    let cases = [
        (
            "id=foo.1",
            "\"failed to parse filter (foo.1)\" (line 1, column 1)",
            "unexpected \"f\" expecting \"not\" or operator (eq, gt, ...)",
        ),
        (
            "name=is.maybe",
            "\"failed to parse filter (is.maybe)\" (line 1, column 4)",
            // PostgREST 13 added not_null and renamed the expectation.
            "unexpected \"m\" expecting isVal: (null, not_null, true, false, unknown)",
        ),
        (
            "or=(id.eq.1",
            "\"failed to parse logic tree ((id.eq.1)\" (line 1, column 11)",
            "unexpected end of input expecting \",\" or \")\"",
        ),
    ];
    for (filter, message, details) in cases {
        let r = get(&format!("/items?{filter}")).await;
        assert_pgrst100(&r, filter);
        assert_eq!(r.body["message"], message, "{filter}");
        assert_eq!(r.body["details"], details, "{filter}");
        assert_eq!(r.body["hint"], serde_json::Value::Null, "{filter}");
    }
}

#[tokio::test]
async fn malformed_filters_are_pgrst100() {
    for filter in [
        "id=foo.1",
        "name=is.maybe",
        "id=in.1,2",
        "or=(id.eq.1",
        "tsv=fts(english.fox",
        "id=eq(some).%7B1%7D",
    ] {
        assert_pgrst100(&get(&format!("/items?{filter}")).await, filter);
    }
    // Nesting is bounded, far below anything that could exhaust the stack.
    let deep = format!("or=({}id.eq.1{})", "or(".repeat(200), ")".repeat(200));
    assert_pgrst100(&get(&format!("/items?{deep}")).await, "deep nesting");
}
