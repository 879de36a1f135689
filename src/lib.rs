//! edge-presign: a Cloudflare Worker that signs S3 POST forms so browsers upload straight to
//! a bucket. Everything but the `worker` shell below is plain Rust, tested natively.

pub mod api;
pub mod config;
pub mod form;
pub mod key;
pub mod media_type;
pub mod policy;
pub mod presign;
pub mod sigv4;
