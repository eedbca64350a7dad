//! `scan_twins` pages stay stable while twins change: every twin that exists for the whole scan
//! is seen exactly once, whatever is created or terminated between pages.

use axum::http::Method;
use serde_json::json;

use super::twins::{create_twin, urlencode};

api_tests! {
    async fn scan_sees_every_twin_once_while_twins_are_created_and_terminated(app) {
        let shop = app.create_account("Shop").await;
        let mut existing = Vec::new();
        for index in 0..9 {
            existing.push(create_twin(&app, &shop, Some(json!({"index": index}))).await);
        }
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut page_number = 0;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/twins?count=2&cursor={}", urlencode(cursor)),
                None => "/twins?count=2".to_owned(),
            };
            let page = app.call(Method::GET, &path, Some(&shop.secret), None).await;
            assert_eq!(page.status.as_u16(), 200, "{}", page.text());
            let page = page.json();
            seen.extend(page["twins"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()));
            // Between pages: new twins appear and a seen twin is terminated.
            page_number += 1;
            create_twin(&app, &shop, Some(json!({"added_after_page": page_number}))).await;
            if let Some(first) = seen.first() {
                app.call(Method::DELETE, &format!("/twins/{first}"), Some(&shop.secret), None).await;
            }
            match page["cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no twin twice: {seen:?}");
        for twin in &existing {
            assert!(seen.contains(twin), "{twin} existed throughout but was skipped");
        }
        let mut in_order = seen.clone();
        in_order.sort();
        assert_eq!(in_order, seen, "id order");
    }
}
