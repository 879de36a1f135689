//! edge-presign: a Cloudflare Worker that signs S3 uploads (POST forms, presigned PUTs,
//! multipart uploads) so browsers upload straight to a bucket. Every module but `shell` is
//! plain Rust, tested natively; `shell` is the only code that touches the Workers runtime
//! (and only exists on wasm32).

// Natively the shell is not built, so what only the shell calls looks unused there. Dead code
// is checked on wasm32, where the whole crate is (scripts/test.sh: clippy with
// `-W unreachable_pub -W dead_code`).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod api;
mod audit;
mod auth;
mod completion;
mod config;
mod error;
mod event;
mod form;
mod json;
mod key;
mod limits;
mod media_type;
mod multipart;
mod object_url;
mod origin;
mod policy;
mod presign;
mod profile;
mod rate_limit;
mod routes;
mod s3;
mod sigv4;
mod text;
mod upload_error;
mod upload_handle;
mod uppy;

/// What `tests/signing_vectors.rs` and `benches/presign.rs` drive from outside the crate.
/// Everything else is `pub(crate)`, so the compiler names whatever nothing uses.
#[doc(hidden)]
pub mod outside {
    pub use crate::api::handle_uploads;
    pub use crate::config::Config;
    pub use crate::form::{sign_post_form, OptionalField, UploadTarget};
    pub use crate::policy::encode_policy;
    pub use crate::presign::{Presigner, UploadRequest};
    pub use crate::sigv4::{
        amz_date, credential, presign_subresource_url, presign_url, Credentials, Method, Secret,
        SigningKey, SigningTime, Subresource, UrlTarget,
    };
}

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

// The module is private; these two are the wasm exports the JS entry calls, and
// `#[wasm_bindgen]` takes only public functions.
#[cfg(target_arch = "wasm32")]
pub use shell::{fetch, internal_error, queue};
