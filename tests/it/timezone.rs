//! `Prefer: timezone=`: set for the request's transaction, reported in
//! `Preference-Applied`; a zone PostgreSQL does not know is its error (400,
//! 22023), whatever `handling` says (PostgREST 16).

use reqwest::Method;
use serde_json::json;

use crate::harness::{get_with, request};

#[tokio::test]
async fn reads_show_times_in_the_preferred_zone() {
    let r = get_with(
        "/x_times?select=t",
        &[("Prefer", "timezone=America/Los_Angeles")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"t": "2023-10-18T05:37:59.611-07:00"}]));
    assert_eq!(
        r.header("preference-applied"),
        Some("timezone=America/Los_Angeles")
    );
    // Without the preference: the server's zone, nothing applied.
    let r = get_with("/x_times?select=t", &[]).await;
    assert_eq!(r.body, json!([{"t": "2023-10-18T12:37:59.611+00:00"}]));
    assert_eq!(r.header("preference-applied"), None);
}

#[tokio::test]
async fn offsets_are_zones_too() {
    // PostgreSQL reads the zone (PostgREST 16 passes it through): a number
    // of hours is east of Greenwich, as ISO 8601 counts.
    let r = get_with("/x_times?select=t", &[("Prefer", "timezone=+5")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"t": "2023-10-18T17:37:59.611+05:00"}]));
    assert_eq!(r.header("preference-applied"), Some("timezone=+5"));
    // `±HH:MM` is a POSIX zone to PostgreSQL: hours west of Greenwich.
    let r = get_with("/x_times?select=t", &[("Prefer", "timezone=+05:30")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"t": "2023-10-18T07:07:59.611-05:30"}]));
    assert_eq!(r.header("preference-applied"), Some("timezone=+05:30"));
}

#[tokio::test]
async fn an_unknown_zone_is_an_error_even_when_lenient() {
    for prefer in [
        "timezone=Jupiter/Red_Spot",
        "handling=lenient, timezone=Jupiter/Red_Spot",
        "handling=strict, timezone=Jupiter/Red_Spot",
    ] {
        let r = get_with("/x_times", &[("Prefer", prefer)]).await;
        assert_eq!(r.status, 400, "{prefer}: {}", r.text);
        assert_eq!(
            r.body,
            json!({
                "code": "22023",
                "message": "invalid value for parameter \"TimeZone\": \"Jupiter/Red_Spot\"",
                "details": null,
                "hint": null,
            }),
            "{prefer}"
        );
    }
}

#[tokio::test]
async fn writes_and_calls_run_in_the_zone() {
    let r = request(
        Method::POST,
        "/x_times",
        &[
            ("Content-Type", "application/json"),
            ("Prefer", "return=representation, timezone=Asia/Tokyo"),
        ],
        r#"{"id": 2, "t": "2024-01-01 00:00:00"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The value without an offset is read in Tokyo's zone too.
    assert_eq!(r.body, json!([{"id": 2, "t": "2024-01-01T00:00:00+09:00"}]));
    assert_eq!(
        r.header("preference-applied"),
        Some("return=representation, timezone=Asia/Tokyo")
    );

    let r = get_with("/rpc/x_zone", &[("Prefer", "timezone=Europe/Paris")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!("Europe/Paris"));
    assert_eq!(
        r.header("preference-applied"),
        Some("timezone=Europe/Paris")
    );
}
