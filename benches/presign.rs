//! `cargo bench --bench presign`: how long the signing core takes per request, natively.
//! No framework: each case runs for about a second after a warm-up and prints ns per call,
//! plus a machine-readable `BENCH <id> <ns per call>` line that `bench/run` reads
//! (and `BENCHINFO <name> <value>` lines for facts the table mentions).
//! In the Worker the same code runs as wasm, typically a few times slower.
//!
//! Only the public API `bench/run` needs is used: `Config::from_lookup`, `Presigner::presign`,
//! `PostForm::field` and `api::handle_uploads`. The signing time is the one `NOW` constant.

use std::hint::black_box;
use std::time::{Duration, Instant};

use edge_presign::outside::{handle_uploads, Config, Presigner, UploadRequest};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::macros::utc_datetime;

/// The signing time of every case (the core's time type; change here if it changes).
const NOW: time::UtcDateTime = utc_datetime!(2026-11-24 12:00);

fn bench(id: &str, name: &str, mut f: impl FnMut()) {
    for _ in 0..1_000 {
        f();
    }
    let budget = Duration::from_secs(1);
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        calls += 100;
    }
    let per_call = start.elapsed().as_nanos() as f64 / calls as f64;
    println!(
        "{name:<52} {per_call:>10.0} ns/call  ({:>9.0} calls/s)",
        1e9 / per_call
    );
    println!("BENCH {id} {per_call:.1}");
}

/// Five upload profiles, as bench/run's ours-profiles row has them.
const PROFILES: &str = r#"{"photo": {"max_bytes": 10485760, "allowed_types": ["image/*"], "prefix": "photos/"}, "avatar": {"max_bytes": 2097152, "allowed_types": ["image/png", "image/jpeg"]}, "document": {"allowed_types": ["application/pdf"], "method": "PUT"}, "video": {"max_multipart_bytes": 5368709120}, "note": {"max_bytes": 65536, "allowed_types": ["text/plain"], "events": false}}"#;

fn settings(profiles: Option<&str>) -> Config {
    Config::from_lookup(|name| {
        Some(
            match name {
                "S3_BUCKET" => "photos",
                "S3_REGION" => "us-east-1",
                "AWS_ACCESS_KEY_ID" => "AKIAIOSFODNN7EXAMPLE",
                "AWS_SECRET_ACCESS_KEY" => "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "UPLOAD_PROFILES" => profiles?,
                _ => return None,
            }
            .to_owned(),
        )
    })
    .expect("valid settings")
}

fn main() {
    let config = settings(None);
    let next_day = NOW + time::Duration::days(1);
    let presigner = Presigner::new(config);
    let request = UploadRequest {
        file_name: "holiday photo.JPG".into(),
        content_type: Some("image/jpeg".into()),
        size: Some(123_456),
        ..UploadRequest::default()
    };
    let body =
        br#"{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456}"#;

    // The unavoidable crypto of one form: one HMAC-SHA256 (32-byte day key, as SigV4's) over
    // a base64 policy of the real length, hex-encoded. Everything else a form costs is ours.
    let policy = presigner
        .presign(&request, NOW, [7; 16])
        .expect("a valid request")
        .form()
        .expect("POST is the default method")
        .field("policy")
        .expect("every form has a policy")
        .to_owned();
    println!("BENCHINFO policy_bytes {}", policy.len());
    let day_key = [0x5a_u8; 32];
    bench(
        "crypto_floor",
        "floor: HMAC-SHA256 of a same-size policy + hex",
        || {
            let mut mac = Hmac::<Sha256>::new_from_slice(&day_key).expect("any key length works");
            mac.update(black_box(policy.as_bytes()));
            black_box(hex::encode(mac.finalize().into_bytes()));
        },
    );
    bench(
        "form_cached",
        "presign: one form (day's key cached)",
        || {
            black_box(
                presigner
                    .presign(black_box(&request), NOW, [7; 16])
                    .unwrap(),
            );
        },
    );
    // Alternating days makes every call derive its signing key first (the cache holds one day).
    let mut flip = false;
    bench(
        "form_uncached",
        "presign: one form (key derived first)",
        || {
            flip = !flip;
            let at = if flip { next_day } else { NOW };
            black_box(presigner.presign(black_box(&request), at, [7; 16]).unwrap());
        },
    );
    bench(
        "json_to_json",
        "api: JSON request body to JSON response",
        || {
            black_box(handle_uploads(&presigner, black_box(body), NOW, || [7; 16]).unwrap());
        },
    );
    let with_profiles = Presigner::new(settings(Some(PROFILES)));
    let body = br#"{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456, "profile": "photo"}"#;
    bench(
        "json_to_json_profile",
        "api: the same, five profiles, naming one",
        || {
            black_box(handle_uploads(&with_profiles, black_box(body), NOW, || [7; 16]).unwrap());
        },
    );
}
