//! edge-presign: a Cloudflare Worker that signs S3 uploads (POST forms, presigned PUTs,
//! multipart uploads) so browsers upload straight to a bucket. Every module but `shell` is
//! plain Rust, tested natively; `shell` is the only code that touches the Workers runtime
//! (and only exists on wasm32).

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod form;
pub mod json;
pub mod key;
pub mod limits;
pub mod media_type;
pub mod multipart;
pub mod object_url;
pub mod origin;
pub mod policy;
pub mod presign;
pub mod rate_limit;
pub mod routes;
pub mod s3;
pub mod sigv4;
pub mod text;
pub mod upload_handle;
pub mod uppy;

/// Cases per property test: 2,000 by default; `FUZZ_CASES=200000 cargo test --release` fuzzes
/// the request parser and key sanitiser for minutes instead of seconds.
#[cfg(all(test, not(target_arch = "wasm32")))]
fn fuzz_cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

// Single-threaded wasm (no `atomics`), as the Workers runtime runs it.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod shell;
