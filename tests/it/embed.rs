//! Resource embedding over real HTTP (fixture `tests/fixtures/50_embed.sql`):
//! every relationship kind, hints, `!inner`, empty embeds, spreads, embedded
//! filters/order/paging, null tests on embeds, related order, computed
//! relationships and fields, and the errors PostgREST gives.

use serde_json::{Value, json};

use crate::harness::{get, get_with, superuser};

async fn ok(path: &str) -> Value {
    let r = get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.body
}

async fn err(path: &str, status: u16) -> Value {
    let r = get(path).await;
    assert_eq!(r.status, status, "{path}: {}", r.text);
    r.body
}

#[tokio::test]
async fn many_to_one_is_an_object_or_null() {
    assert_eq!(
        ok("/films?select=title,directors(last_name)&id=in.(1,5)&order=id").await,
        json!([
            {"title": "Lady Bird", "directors": {"last_name": "Gerwig"}},
            {"title": "Untitled", "directors": null}
        ])
    );
}

#[tokio::test]
async fn one_to_many_is_an_array_with_its_own_order_and_limit() {
    assert_eq!(
        ok("/directors?select=last_name,films(title)&films.order=year.desc&films.limit=1&order=id")
            .await,
        json!([
            {"last_name": "Gerwig", "films": [{"title": "Little Women"}]},
            {"last_name": "Villeneuve", "films": [{"title": "Dune"}]},
            {"last_name": "Varda", "films": []}
        ])
    );
    // offset too, and `*` inside the embed.
    assert_eq!(
        ok("/films?select=title,actors(*)&limit=1&order=id&actors.limit=1&actors.offset=1&actors.order=id")
            .await,
        json!([{"title": "Lady Bird",
                "actors": [{"id": 2, "first_name": "Timothée", "last_name": "Chalamet"}]}])
    );
}

#[tokio::test]
async fn many_to_many_through_junctions() {
    assert_eq!(
        ok("/films?select=title,actors(first_name)&id=eq.2&actors.order=id").await,
        json!([{"title": "Little Women", "actors": [
            {"first_name": "Saoirse"}, {"first_name": "Timothée"}, {"first_name": "Florence"}]}])
    );
    // A junction whose primary key has a column beyond its two keys.
    assert_eq!(
        ok("/festivals?select=name,films(title)&order=id").await,
        json!([
            {"name": "Cannes", "films": [{"title": "Lady Bird"}]},
            {"name": "Venice", "films": [{"title": "Dune"}]}
        ])
    );
    assert_eq!(
        ok("/films?select=title,festivals(name)&id=eq.3").await,
        json!([{"title": "Dune", "festivals": [{"name": "Venice"}]}])
    );
    // The junction as a hint.
    assert_eq!(
        ok("/actors?select=last_name,films!castings(title)&id=eq.3").await,
        json!([{"last_name": "Adams", "films": [{"title": "Arrival"}]}])
    );
}

#[tokio::test]
async fn one_to_one_is_an_object_both_ways() {
    assert_eq!(
        ok("/films?select=title,technical_specs(format)&id=in.(1,2)&order=id").await,
        json!([
            {"title": "Lady Bird", "technical_specs": {"format": "Color"}},
            {"title": "Little Women", "technical_specs": null}
        ])
    );
    assert_eq!(
        ok("/technical_specs?select=format,films(title)&film_id=eq.3").await,
        json!([{"format": "IMAX", "films": {"title": "Dune"}}])
    );
}

#[tokio::test]
async fn self_reference_by_column_and_by_table() {
    // The key column names the parent row; the table name the children.
    assert_eq!(
        ok("/employees?select=name,manager:manager_id(name),reports:employees(name)&id=eq.2").await,
        json!([{"name": "Bob", "manager": {"name": "Ada"}, "reports": [{"name": "Di"}]}])
    );
    assert_eq!(
        ok("/employees?select=name,reports:employees!manager_id(name)&id=eq.1&reports.order=id")
            .await,
        json!([{"name": "Ada", "reports": [{"name": "Bob"}, {"name": "Cy"}]}])
    );
}

#[tokio::test]
async fn composite_keys() {
    assert_eq!(
        ok("/editions?select=format,edition_reviews(stars)&order=edition_no").await,
        json!([
            {"format": "4K", "edition_reviews": [{"stars": 5}]},
            {"format": "Blu-ray", "edition_reviews": [{"stars": 3}]}
        ])
    );
}

#[tokio::test]
async fn views_carry_the_keys_of_their_base_columns() {
    // `film_list` renames films.director_id to directed_by.
    assert_eq!(
        ok("/film_list?select=title,directors(last_name)&movie_id=eq.1").await,
        json!([{"title": "Lady Bird", "directors": {"last_name": "Gerwig"}}])
    );
    assert_eq!(
        ok("/directors?select=last_name,film_list(title)&id=eq.2&film_list.order=movie_id").await,
        json!([{"last_name": "Villeneuve", "film_list": [{"title": "Dune"}, {"title": "Arrival"}]}])
    );
    // A view over that view.
    assert_eq!(
        ok("/recent_film_list?select=title,directors(last_name)&movie_id=eq.3").await,
        json!([{"title": "Dune", "directors": {"last_name": "Villeneuve"}}])
    );
    // A view over a table of an unexposed schema.
    assert_eq!(
        ok("/directors?select=last_name,studios(name)&id=eq.1").await,
        json!([{"last_name": "Gerwig", "studios": [{"name": "Lady Bird Films"}]}])
    );
}

#[tokio::test]
async fn the_same_table_twice_with_hints_and_aliases() {
    let body = json!([{"id": 1, "sender": {"name": "ann"}, "recipient": {"name": "ben"}}]);
    // Hints: a key column, a constraint name.
    assert_eq!(
        ok("/messages?select=id,sender:users!sender_id(name),recipient:users!messages_recipient_fkey(name)&id=eq.1")
            .await,
        body
    );
    // The join type and the hint in either order.
    assert_eq!(
        ok("/messages?select=id,sender:users!inner!sender_id(name),recipient:users!recipient_id!left(name)&id=eq.1")
            .await,
        body
    );
}

#[tokio::test]
async fn paths_name_an_embed_by_alias_or_relation() {
    let body = json!([{"id": 1, "cast": [{"id": 1}]}, {"id": 3, "cast": []}]);
    assert_eq!(
        ok("/films?select=id,cast:actors(id)&cast.id=eq.1&id=in.(1,3)&order=id").await,
        body
    );
    // By alias: no warning.
    let r = get("/films?select=id,cast:actors(id)&cast.id=eq.1&id=in.(1,3)&order=id").await;
    assert_eq!(r.header("warning"), None);
    // By relation (`url-use-legacy-target-names`, on by default): the same
    // answer with PostgREST's deprecation warning, once per embed.
    let r =
        get("/films?select=id,cast:actors(id)&actors.id=eq.1&actors.order=id&id=in.(1,3)&order=id")
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, body);
    assert_eq!(
        r.header("warning"),
        Some(concat!(
            "299 pgrest/",
            env!("CARGO_PKG_VERSION"),
            " \"Embedded resource was referenced by relation name even though it has an alias. ",
            "This is deprecated and will stop working in a future release. ",
            "Update `actors` to `cast` in query string filters, orders or limits.\""
        ))
    );
}

#[tokio::test]
async fn without_legacy_target_names_only_the_alias_names_an_embed() {
    let mut env = crate::harness::base_env();
    env.push(("PGRST_URL_USE_LEGACY_TARGET_NAMES".into(), "false".into()));
    let server = crate::harness::Server::start(env);
    let get = |path: &str| crate::harness::send(crate::harness::client().get(server.url(path)));
    let r = get("/films?select=id,cast:actors(id)&cast.id=eq.1&id=eq.1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1, "cast": [{"id": 1}]}]));
    for path in [
        "/films?select=id,cast:actors(id)&actors.id=eq.1",
        "/films?select=id,cast:actors(id)&actors.order=id",
        "/films?select=id,cast:actors(id)&actors.limit=1",
    ] {
        let r = get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(
            r.body,
            json!({
                "code": "PGRST108",
                "message": "'actors' is not an embedded resource in this request",
                "details": "Target names are not allowed in filters if they have an alias",
                "hint": "Change 'actors' to 'cast' in filters, orders or limits.",
            }),
            "{path}"
        );
    }
    // A name that embeds nothing at all keeps the usual hint.
    let r = get("/films?select=id,cast:actors(id)&crew.id=eq.1").await;
    assert_eq!(
        r.body["hint"],
        json!("Verify that 'crew' is included in the 'select' query parameter.")
    );
}

#[tokio::test]
async fn nested_three_levels_with_filters_on_two() {
    assert_eq!(
        ok("/directors?select=last_name,films(title,actors(first_name))&films.year=gt.2018&films.actors.first_name=like.F*&id=eq.1")
            .await,
        json!([{"last_name": "Gerwig", "films": [
            {"title": "Little Women", "actors": [{"first_name": "Florence"}]}]}])
    );
    // `or` on an embedded level.
    assert_eq!(
        ok("/films?select=id,actors(id)&id=eq.2&actors.or=(id.eq.1,id.eq.4)&actors.order=id.desc")
            .await,
        json!([{"id": 2, "actors": [{"id": 4}, {"id": 1}]}])
    );
}

#[tokio::test]
async fn inner_joins_and_empty_embeds_filter_the_parent() {
    assert_eq!(
        ok("/films?select=title,actors!inner(first_name)&actors.first_name=eq.Amy").await,
        json!([{"title": "Arrival", "actors": [{"first_name": "Amy"}]}])
    );
    assert_eq!(
        ok("/films?select=title,actors!inner()&actors.last_name=eq.Pugh").await,
        json!([{"title": "Little Women"}])
    );
    // Without !inner the parent rows stay and the embed is filtered.
    assert_eq!(
        ok("/films?select=id,actors(id)&actors.last_name=eq.Pugh&id=in.(1,2)&order=id").await,
        json!([{"id": 1, "actors": []}, {"id": 2, "actors": [{"id": 4}]}])
    );
    // A to-one !inner drops the rows without a match.
    assert_eq!(
        ok("/films?select=id,directors!inner(id)&order=id")
            .await
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // The count follows the inner join.
    let r = get_with(
        "/films?select=title,actors!inner()&actors.first_name=eq.Timoth%C3%A9e",
        &[("Prefer", "count=exact")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-range"), Some("0-2/3"));
}

#[tokio::test]
async fn null_tests_on_embeds() {
    assert_eq!(
        ok("/directors?select=last_name,films()&films=is.null").await,
        json!([{"last_name": "Varda"}])
    );
    assert_eq!(
        ok("/directors?select=last_name,films()&films=not.is.null&order=id").await,
        json!([{"last_name": "Gerwig"}, {"last_name": "Villeneuve"}])
    );
    assert_eq!(
        ok("/directors?select=id,films(id)&films.year=gt.2020&or=(films.not.is.null,id.eq.3)&order=id")
            .await,
        json!([{"id": 2, "films": [{"id": 3}]}, {"id": 3, "films": []}])
    );
    // A to-one embed.
    assert_eq!(
        ok("/films?select=id,directors(id)&directors=is.null").await,
        json!([{"id": 5, "directors": null}])
    );
}

#[tokio::test]
async fn ordering_by_a_to_one_embed() {
    assert_eq!(
        ok("/films?select=title,directors(last_name)&order=directors(last_name).desc,id&director_id=not.is.null")
            .await,
        json!([
            {"title": "Dune", "directors": {"last_name": "Villeneuve"}},
            {"title": "Arrival", "directors": {"last_name": "Villeneuve"}},
            {"title": "Lady Bird", "directors": {"last_name": "Gerwig"}},
            {"title": "Little Women", "directors": {"last_name": "Gerwig"}}
        ])
    );
}

#[tokio::test]
async fn spreads() {
    assert_eq!(
        ok("/films?select=title,...directors(director:last_name,first_name)&id=eq.3").await,
        json!([{"title": "Dune", "director": "Villeneuve", "first_name": "Denis"}])
    );
    // A to-many spread: one array per column, in the embed's order.
    assert_eq!(
        ok("/films?select=title,...actors(first_name,last_name)&id=eq.1&actors.order=id.desc")
            .await,
        json!([{"title": "Lady Bird",
                "first_name": ["Timothée", "Saoirse"], "last_name": ["Chalamet", "Ronan"]}])
    );
    // A spread of a spread, and an embed inside a spread.
    assert_eq!(
        ok("/technical_specs?select=format,...films(title,...directors(last_name),actors(id))&film_id=eq.3")
            .await,
        json!([{"format": "IMAX", "title": "Dune", "last_name": "Villeneuve", "actors": [{"id": 2}]}])
    );
}

#[tokio::test]
async fn computed_relationships() {
    assert_eq!(
        ok("/directors?select=last_name,top_films(title)&id=eq.1&top_films.order=id").await,
        json!([{"last_name": "Gerwig", "top_films": [{"title": "Lady Bird"}, {"title": "Little Women"}]}])
    );
    assert_eq!(
        ok("/films?select=title,main_director(last_name)&id=in.(3,5)&order=id").await,
        json!([
            {"title": "Dune", "main_director": {"last_name": "Villeneuve"}},
            {"title": "Untitled", "main_director": null}
        ])
    );
}

#[tokio::test]
async fn a_computed_relationship_replaces_the_key_it_is_named_after() {
    // storage_racks(crate) gives the next rack, not the one the key names;
    // the other direction still follows the key.
    assert_eq!(
        ok("/storage_crates?select=id,storage_racks(id)").await,
        json!([{"id": 1, "storage_racks": {"id": 2}}])
    );
    assert_eq!(
        ok("/storage_racks?select=id,storage_crates(id)&order=id").await,
        json!([{"id": 1, "storage_crates": [{"id": 1}]}, {"id": 2, "storage_crates": []}])
    );
}

#[tokio::test]
async fn computed_fields_select_filter_and_order() {
    assert_eq!(
        ok("/directors?select=id,full_name&full_name=like.*V*&order=full_name.desc").await,
        json!([{"id": 2, "full_name": "Denis Villeneuve"}, {"id": 3, "full_name": "Agnès Varda"}])
    );
    assert_eq!(
        ok("/films?select=title,directors(full_name)&id=eq.1").await,
        json!([{"title": "Lady Bird", "directors": {"full_name": "Greta Gerwig"}}])
    );
}

#[tokio::test]
async fn no_relationship_is_pgrst200() {
    assert_eq!(
        err("/films?select=*,festivalz(*)", 400).await,
        json!({"code": "PGRST200",
               "message": "Could not find a relationship between 'films' and 'festivalz' in the schema cache",
               "details": "Searched for a foreign key relationship between 'films' and 'festivalz' in the schema 'test', but no matches were found.",
               "hint": "Perhaps you meant 'festivals' instead of 'festivalz'."})
    );
    assert_eq!(
        err("/films?select=*,directors!nope(*)", 400).await,
        json!({"code": "PGRST200",
               "message": "Could not find a relationship between 'films' and 'directors' in the schema cache",
               "details": "Searched for a foreign key relationship between 'films' and 'directors' using the hint 'nope' in the schema 'test', but no matches were found.",
               "hint": null})
    );
}

#[tokio::test]
async fn ambiguous_relationship_is_pgrst201() {
    let r = get("/messages?select=body,users(name)").await;
    assert_eq!(r.status, 300, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"code": "PGRST201",
               "message": "Could not embed because more than one relationship was found for 'messages' and 'users'",
               "details": [
                   {"cardinality": "many-to-one", "embedding": "messages with users",
                    "relationship": "messages_recipient_fkey using messages(recipient_id) and users(id)"},
                   {"cardinality": "many-to-one", "embedding": "messages with users",
                    "relationship": "messages_sender_fkey using messages(sender_id) and users(id)"}
               ],
               "hint": "Try changing 'users' to one of the following: 'users!messages_recipient_fkey', 'users!messages_sender_fkey'. Find the desired relationship in the 'details' key."})
    );
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=PGRST201"));
}

#[tokio::test]
async fn embedded_parameter_errors() {
    assert_eq!(
        err("/films?select=title&actors.order=id", 400).await,
        json!({"code": "PGRST108",
               "message": "'actors' is not an embedded resource in this request",
               "details": null,
               "hint": "Verify that 'actors' is included in the 'select' query parameter."})
    );
    assert_eq!(
        err("/films?select=cast:actors(id)&cats.id=eq.1", 400).await["code"],
        "PGRST108"
    );
    assert_eq!(
        err("/films?select=title&order=directors(last_name)", 400).await["code"],
        "PGRST108"
    );
    assert_eq!(
        err("/directors?select=*,films(*)&order=films(title)", 400).await,
        json!({"code": "PGRST118",
               "message": "A related order on 'films' is not possible",
               "details": "'directors' and 'films' do not form a many-to-one or one-to-one relationship",
               "hint": null})
    );
    // Since PostgREST 12 an operator other than `is.null` on an embed's name
    // is a filter on a column of that name (PGRST120 is no longer given).
    assert_eq!(
        err("/films?select=*,actors(*)&actors=eq.1", 400).await,
        json!({"code": "42703", "message": "column films.actors does not exist",
               "details": null, "hint": null})
    );
}

#[tokio::test]
async fn aggregates_are_refused_when_disabled() {
    assert_eq!(
        err("/films?select=year.sum()", 400).await,
        json!({"code": "PGRST123", "message": "Use of aggregate functions is not allowed",
               "details": null, "hint": null})
    );
}

/// The whole tree is one statement: PostgreSQL runs the main statement once
/// and nothing else touches the embedded table, however many parent rows
/// there are (pg_stat_statements, preloaded by the harness, counts
/// executions per statement, nested ones included).
#[tokio::test]
async fn one_statement_for_the_whole_tree() {
    let db = superuser().await;
    let calls = |rows: Vec<tokio_postgres::Row>| -> (i64, i64) {
        let row = &rows[0];
        (row.get(0), row.get(1))
    };
    let stats = "SELECT coalesce(sum(calls) FILTER (WHERE query LIKE '%stat_probe%'), 0)::int8, \
                 coalesce(sum(calls) FILTER (WHERE query LIKE '%stat_children%' \
                                            AND query NOT LIKE '%pg_stat_statements%'), 0)::int8 \
                 FROM pg_stat_statements";
    let before = calls(db.query(stats, &[]).await.unwrap());
    let body =
        ok("/stat_parents?select=stat_probe:id,stat_children(id)&stat_children.order=id&order=id")
            .await;
    let parents = body.as_array().unwrap();
    assert_eq!(parents.len(), 20);
    assert_eq!(
        parents[0],
        json!({"stat_probe": 1, "stat_children": [
        {"id": 20}, {"id": 40}, {"id": 60}, {"id": 80}, {"id": 100}]})
    );
    let after = calls(db.query(stats, &[]).await.unwrap());
    assert_eq!(after.0 - before.0, 1, "the main statement ran once");
    assert_eq!(
        after.1 - before.1,
        1,
        "no other statement read the embedded table"
    );
}
