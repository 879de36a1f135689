//! Why a request for an upload is refused: the core's own error, each with the code it
//! answers as. Its own room because presigning and the multipart rules both refuse in these
//! words.

use std::fmt;

use crate::error::{ApiError, ErrorCode};
use crate::key::FileNameError;
use crate::object_url::InvalidChecksum;
use crate::profile::S3_SINGLE_UPLOAD_MAX_BYTES;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadError {
    InvalidFileName(FileNameError),
    /// Zero, or above what S3 accepts in one POST or PUT.
    InvalidSize,
    /// A PUT without `size`: nothing could bound it.
    SizeRequired,
    FileTooLarge {
        max_bytes: u64,
    },
    MalformedContentType,
    ContentTypeNotAllowed {
        content_type: String,
    },
    /// An allow-list is set, no type was given, and none could be inferred from the name.
    ContentTypeRequired,
    InvalidChecksum(InvalidChecksum),
    /// A method the store cannot take (POST on R2), or not POST or PUT at all.
    MethodNotSupported {
        r2: bool,
    },
    /// `profile` names none of the worker's upload profiles.
    UnknownProfile,
    /// The caller's token lists the profiles it may use, and not this one.
    ProfileNotAllowed,
    /// The profile's `max_multipart_bytes` is 0.
    MultipartNotAllowed,
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFileName(e) => e.fmt(f),
            Self::InvalidSize => write!(
                f,
                "size must be a whole number of bytes from 1 to {S3_SINGLE_UPLOAD_MAX_BYTES}"
            ),
            Self::SizeRequired => f.write_str(
                "size is required with method PUT: a presigned PUT can only be bounded by signing the exact size",
            ),
            Self::FileTooLarge { max_bytes } => {
                write!(f, "file is larger than the {max_bytes} bytes allowed")
            }
            Self::MalformedContentType => {
                f.write_str("content_type must be a media type such as image/png")
            }
            Self::ContentTypeNotAllowed { content_type } => {
                write!(f, "files of type {content_type} are not allowed")
            }
            Self::ContentTypeRequired => f.write_str(
                "content_type is required: no allowed type could be inferred from the file name",
            ),
            Self::InvalidChecksum(e) => e.fmt(f),
            Self::MethodNotSupported { r2: true } => f.write_str(
                "this bucket is on Cloudflare R2, which has no POST Object: use method PUT",
            ),
            Self::MethodNotSupported { r2: false } => f.write_str("method must be POST or PUT"),
            Self::UnknownProfile => {
                f.write_str("profile must name one of this service's upload profiles")
            }
            Self::ProfileNotAllowed => {
                f.write_str("this caller's token does not allow uploads under this profile")
            }
            Self::MultipartNotAllowed => f.write_str(
                "this upload profile takes no multipart uploads: upload the file in one request",
            ),
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        let code = match error {
            UploadError::InvalidFileName(_) => ErrorCode::InvalidFileName,
            UploadError::InvalidSize => ErrorCode::InvalidSize,
            UploadError::FileTooLarge { .. } => ErrorCode::FileTooLarge,
            UploadError::MalformedContentType | UploadError::ContentTypeNotAllowed { .. } => {
                ErrorCode::ContentTypeNotAllowed
            }
            UploadError::ContentTypeRequired => ErrorCode::ContentTypeRequired,
            UploadError::InvalidChecksum(_) => ErrorCode::InvalidChecksum,
            UploadError::MethodNotSupported { .. } => ErrorCode::MethodNotSupported,
            UploadError::SizeRequired => ErrorCode::SizeRequired,
            UploadError::UnknownProfile => ErrorCode::UnknownProfile,
            UploadError::ProfileNotAllowed => ErrorCode::ProfileNotAllowed,
            UploadError::MultipartNotAllowed => ErrorCode::MultipartNotAllowed,
        };
        Self::new(code, error.to_string())
    }
}
