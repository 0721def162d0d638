//! Relationship detection as PostgREST 16 does it: keys carried by views
//! through GROUP BY, DISTINCT, subqueries, joins and CTEs (and not through
//! UNION branches, sublinks or views of unexposed schemas), views as
//! junctions, embedding from functions returning a domain over a row type,
//! disambiguation by constraint or column on either side, and computed
//! relationships found from their function's schema
//! (`tests/fixtures/94_parity_embed.sql`).

use serde_json::{Value, json};

use crate::harness::{Reply, Server, base_env, client, get, send};

async fn ok(path: &str) -> Value {
    let r: Reply = get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.body
}

async fn err(path: &str, status: u16) -> Value {
    let r: Reply = get(path).await;
    assert_eq!(r.status, status, "{path}: {}", r.text);
    r.body
}

fn pgrst200(parent: &str, child: &str, hint: Option<&str>, suggestion: Option<&str>) -> Value {
    let using = hint.map_or(String::new(), |h| format!("' using the hint '{h}"));
    json!({
        "code": "PGRST200",
        "message": format!("Could not find a relationship between '{parent}' and '{child}' in the schema cache"),
        "details": format!("Searched for a foreign key relationship between '{parent}' and '{child}{using}' in the schema 'test', but no matches were found."),
        "hint": suggestion,
    })
}

#[tokio::test]
async fn views_carry_keys_through_group_by_distinct_subqueries_joins_and_ctes() {
    assert_eq!(
        ok("/emb94_v_group?select=players,emb94_teams(name)&order=team_id").await,
        json!([{"players": 2, "emb94_teams": {"name": "Lions"}},
               {"players": 1, "emb94_teams": {"name": "Tigers"}}])
    );
    assert_eq!(
        ok("/emb94_v_distinct?select=emb94_teams(name)&order=team_id").await,
        json!([{"emb94_teams": {"name": "Lions"}}, {"emb94_teams": {"name": "Tigers"}}])
    );
    // Renamed twice: in the subquery and in the view.
    assert_eq!(
        ok("/emb94_v_subquery?select=pid,emb94_teams!team(name)&pid=eq.3").await,
        json!([{"pid": 3, "emb94_teams": {"name": "Tigers"}}])
    );
    assert_eq!(
        ok("/emb94_v_join?select=name,team_name,emb94_teams(id)&id=eq.1").await,
        json!([{"name": "Ann", "team_name": "Lions", "emb94_teams": {"id": 1}}])
    );
    assert_eq!(
        ok("/emb94_v_cte?select=id,emb94_teams(name)&id=eq.2").await,
        json!([{"id": 2, "emb94_teams": {"name": "Lions"}}])
    );
    // Column names that look like the query tree's own fields.
    assert_eq!(
        ok("/emb94_v_odd?select=emb94_teams(name)&order=emb94_teams(name).desc").await,
        json!([{"emb94_teams": {"name": "Tigers"}}, {"emb94_teams": {"name": "Lions"}},
               {"emb94_teams": {"name": "Lions"}}])
    );
    // From the referenced side too: teams to the views.
    assert_eq!(
        ok("/emb94_teams?select=name,emb94_v_cte(id)&id=eq.1&emb94_v_cte.order=id").await,
        json!([{"name": "Lions", "emb94_v_cte": [{"id": 1}, {"id": 2}]}])
    );
    // The view's own columns are found even where another column is not:
    // the view over players still points at the players' referrers.
    assert_eq!(
        ok("/emb94_v_sublink?select=id,emb94_memberships(tag_id)&id=eq.3").await,
        json!([{"id": 3, "emb94_memberships": [{"tag_id": 3}]}])
    );
}

#[tokio::test]
async fn union_branches_sublinks_and_unexposed_views_carry_no_keys() {
    // As PostgREST 12.0.2 answers. The views relating to nothing are
    // suggested another origin (which one depends on every fixture: not
    // compared), the sublink's view (related to the players' referrers)
    // another target.
    for view in ["emb94_v_union", "emb94_v_hidden"] {
        let mut body = err(&format!("/{view}?select=id,emb94_teams(name)"), 400).await;
        let hint = body["hint"].take();
        assert!(
            hint.as_str()
                .is_some_and(|h| h.ends_with(&format!("' instead of '{view}'."))),
            "{hint}"
        );
        assert_eq!(body, pgrst200(view, "emb94_teams", None, None));
    }
    assert_eq!(
        err("/emb94_v_sublink?select=id,emb94_teams(name)", 400).await,
        pgrst200(
            "emb94_v_sublink",
            "emb94_teams",
            None,
            Some("Perhaps you meant 'emb94_tags' instead of 'emb94_teams'.")
        ),
    );
    // The sublink's own target list (team_id first) names no column of the
    // view: `id` is still the players' id, not their team.
    assert_eq!(
        err("/emb94_v_sublink?select=id,emb94_teams!id(name)", 400).await,
        pgrst200(
            "emb94_v_sublink",
            "emb94_teams",
            Some("id"),
            Some("Perhaps you meant 'emb94_tags' instead of 'emb94_teams'.")
        ),
    );
}

#[tokio::test]
async fn a_view_over_a_junction_is_a_junction() {
    assert_eq!(
        ok("/emb94_players?select=name,emb94_tags(label)&order=id&emb94_tags.order=id").await,
        json!([{"name": "Ann", "emb94_tags": [{"label": "fast"}, {"label": "tall"}]},
               {"name": "Bob", "emb94_tags": []},
               {"name": "Cid", "emb94_tags": [{"label": "new"}]}])
    );
    assert_eq!(
        ok("/emb94_tags?select=label,emb94_players!emb94_memberships(name)&id=eq.1").await,
        json!([{"label": "fast", "emb94_players": [{"name": "Ann"}]}])
    );
    // A view with both keys but without its base's whole primary key has no
    // key of its own: no junction (so emb94_tags above is unambiguous).
    assert_eq!(
        err("/emb94_tags?select=emb94_players!emb94_awards(name)", 400).await,
        pgrst200("emb94_tags", "emb94_players", Some("emb94_awards"), None)
    );
    assert_eq!(
        ok("/emb94_awards?select=emb94_players(name),emb94_tags(label)").await,
        json!([{"emb94_players": {"name": "Bob"}, "emb94_tags": {"label": "fast"}}])
    );
}

#[tokio::test]
async fn functions_returning_a_domain_over_a_row_type_embed() {
    assert_eq!(
        ok("/rpc/emb94_star?select=name,emb94_teams!team_id(name)").await,
        json!({"name": "Ann", "emb94_teams": {"name": "Lions"}})
    );
    assert_eq!(
        ok("/rpc/emb94_roster?select=name,emb94_tags(label)&id=gt.1").await,
        json!([{"name": "Bob", "emb94_tags": []}, {"name": "Cid", "emb94_tags": [{"label": "new"}]}])
    );
    assert_eq!(
        ok("/rpc/emb94_row?select=name,former:emb94_teams!former_team_id(name)&id=eq.1").await,
        json!([{"name": "Ann", "former": {"name": "Tigers"}}])
    );
    // A composite type of its own is no table: its rows are read as a
    // relation named after the type, which relates to nothing.
    let mut body = err("/rpc/emb94_cards?select=id,emb94_teams(name)", 400).await;
    body["hint"].take();
    assert_eq!(body, pgrst200("emb94_card", "emb94_teams", None, None));
}

#[tokio::test]
async fn two_keys_to_one_table_are_told_apart_by_constraint_or_column() {
    let ambiguous = json!({
        "code": "PGRST201",
        "message": "Could not embed because more than one relationship was found for 'emb94_players' and 'emb94_teams'",
        "details": [
            {"cardinality": "many-to-one", "embedding": "emb94_players with emb94_teams",
             "relationship": "emb94_players_former_fk using emb94_players(former_team_id) and emb94_teams(id)"},
            {"cardinality": "many-to-one", "embedding": "emb94_players with emb94_teams",
             "relationship": "emb94_players_team_fk using emb94_players(team_id) and emb94_teams(id)"}
        ],
        "hint": "Try changing 'emb94_teams' to one of the following: 'emb94_teams!emb94_players_former_fk', 'emb94_teams!emb94_players_team_fk'. Find the desired relationship in the 'details' key."
    });
    assert_eq!(
        err("/emb94_players?select=name,emb94_teams(name)", 300).await,
        ambiguous
    );
    // The referenced column is the same for both keys.
    assert_eq!(
        err("/emb94_players?select=name,emb94_teams!id(name)", 300).await,
        ambiguous
    );
    let ann = |path: &'static str| async move { ok(&format!("{path}&id=eq.1")).await };
    let team = json!([{"name": "Ann", "emb94_teams": {"name": "Lions"}}]);
    let former = json!([{"name": "Ann", "emb94_teams": {"name": "Tigers"}}]);
    assert_eq!(
        ann("/emb94_players?select=name,emb94_teams!emb94_players_team_fk(name)").await,
        team
    );
    assert_eq!(
        ann("/emb94_players?select=name,emb94_teams!team_id(name)").await,
        team
    );
    assert_eq!(
        ann("/emb94_players?select=name,emb94_teams!emb94_players_former_fk(name)").await,
        former
    );
    assert_eq!(
        ann("/emb94_players?select=name,emb94_teams!former_team_id(name)").await,
        former
    );
    // From the referenced side: the same constraint or referencing column.
    let tigers = |path: &'static str| async move { ok(&format!("{path}&id=eq.2")).await };
    assert_eq!(
        tigers("/emb94_teams?select=name,emb94_players!former_team_id(name)").await,
        json!([{"name": "Tigers", "emb94_players": [{"name": "Ann"}]}])
    );
    assert_eq!(
        tigers("/emb94_teams?select=name,emb94_players!emb94_players_team_fk(name)").await,
        json!([{"name": "Tigers", "emb94_players": [{"name": "Cid"}]}])
    );
    assert_eq!(
        err("/emb94_teams?select=name,emb94_players(name)", 300).await["details"],
        json!([
            {"cardinality": "one-to-many", "embedding": "emb94_teams with emb94_players",
             "relationship": "emb94_players_former_fk using emb94_teams(id) and emb94_players(former_team_id)"},
            {"cardinality": "one-to-many", "embedding": "emb94_teams with emb94_players",
             "relationship": "emb94_players_team_fk using emb94_teams(id) and emb94_players(team_id)"}
        ])
    );
    // A hint that matches nothing: PGRST200, with no suggestion since the
    // target is related.
    assert_eq!(
        err("/emb94_players?select=name,emb94_teams!nope(name)", 400).await,
        pgrst200("emb94_players", "emb94_teams", Some("nope"), None)
    );
}

#[tokio::test]
async fn computed_relationships_are_found_from_their_functions_schema() {
    let mut env = base_env();
    env.push(("PGRST_DB_SCHEMAS".into(), "test,emb94_api".into()));
    let server = Server::start(env);
    let get = |path: &'static str| {
        let req = client().get(server.url(path));
        async move { send(req).await }
    };
    // test.emb94_staff returns rows of emb94_api, another exposed schema.
    let r = get("/emb94_teams?select=name,emb94_staff(name)&id=eq.1").await;
    assert_eq!(
        (r.status, r.body),
        (
            200,
            json!([{"name": "Lions", "emb94_staff": [{"name": "Kim"}]}])
        ),
        "{}",
        r.text
    );
    // emb94_api.emb94_rivals is not of the request's schema (test).
    let r = get("/emb94_teams?select=name,emb94_rivals(name)&id=eq.1").await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (400, &json!("PGRST200")),
        "{}",
        r.text
    );
}
