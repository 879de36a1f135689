//! `cargo bench`: how long the signing core takes per request, natively.
//! No framework: each case runs for about a second after a warm-up and prints ns per call,
//! plus a `BENCH name ns` line that `bench/run` reads.
//! In the Worker the same code runs as wasm, typically a few times slower.

use std::hint::black_box;
use std::time::{Duration, Instant};

use edge_presign::api::handle_uploads;
use edge_presign::config::Config;
use edge_presign::key::sanitize_file_name;
use edge_presign::presign::{Presigner, UploadRequest};
use edge_presign::sigv4::{Secret, SigningKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::macros::{date, utc_datetime};

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

fn main() {
    let config = Config::from_lookup(|name| {
        Some(
            match name {
                "S3_BUCKET" => "photos",
                "AWS_ACCESS_KEY_ID" => "AKIAIOSFODNN7EXAMPLE",
                "AWS_SECRET_ACCESS_KEY" => "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .expect("valid settings");
    let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let now = utc_datetime!(2026-11-24 12:00);
    let tomorrow = utc_datetime!(2026-11-25 12:00);
    let mut presigner = Presigner::new(config);
    let request = UploadRequest {
        file_name: "holiday photo.JPG".into(),
        content_type: Some("image/jpeg".into()),
        size: Some(123_456),
    };
    let body =
        br#"{"file_name": "holiday photo.JPG", "content_type": "image/jpeg", "size": 123456}"#;

    // The unavoidable crypto of one form: one HMAC over a base64 policy of the real size,
    // hex-encoded, with the day's key already derived.
    let policy = presigner
        .presign(&request, now, [7; 16])
        .expect("a valid request")
        .form
        .field("policy")
        .expect("every form has a policy")
        .to_owned();
    let day_key = SigningKey::derive(&secret, date!(2026 - 11 - 24), "us-east-1");
    let day_key_bytes = hex::decode(day_key.to_hex()).expect("hex");
    bench(
        "crypto_floor",
        "floor: HMAC of a same-size policy + hex",
        || {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(&day_key_bytes).expect("any key length works");
            mac.update(black_box(policy.as_bytes()));
            black_box(hex::encode(mac.finalize().into_bytes()));
        },
    );
    bench("derive_key", "sigv4: derive the day's signing key", || {
        black_box(SigningKey::derive(
            &secret,
            date!(2026 - 11 - 24),
            "us-east-1",
        ));
    });
    bench("sanitise", "key: sanitise a file name", || {
        black_box(sanitize_file_name(black_box("holiday photo (1).JPG")).unwrap());
    });
    bench(
        "form_cached",
        "presign: one form (day's key cached)",
        || {
            black_box(presigner.presign(&request, now, [7; 16]).unwrap());
        },
    );
    // Alternating days makes every call derive its key first.
    let mut flip = false;
    bench(
        "form_uncached",
        "presign: one form (key derived first)",
        || {
            flip = !flip;
            let at = if flip { tomorrow } else { now };
            black_box(presigner.presign(&request, at, [7; 16]).unwrap());
        },
    );
    bench(
        "json_to_json",
        "api: JSON request body to JSON response",
        || {
            black_box(handle_uploads(&mut presigner, body, now, || [7; 16]).unwrap());
        },
    );
}
