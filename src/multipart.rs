//! The size rules of a multipart upload, the same whichever way it comes in (Companion
//! routes, `signRequest`, `client.js`): one limit, enforced three times. The part numbers
//! signed stop where the limit would be passed even at S3's smallest part; a part of known
//! size signs that exact `Content-Length`; the completed total is checked again.

use crate::error::{ApiError, ErrorCode};
use crate::s3::MAX_PART_NUMBER;

/// S3's smallest part (all but the last): 5 MiB.
pub(crate) const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// S3's largest part: 5 GiB.
pub(crate) const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The highest part number an upload of at most `limit` bytes can have: every part before
/// the last holds at least 5 MiB, so part `n` means more than `(n - 1) × 5 MiB`.
pub(crate) fn max_part_number(limit: u64) -> u16 {
    let parts = limit.saturating_sub(1) / MIN_PART_BYTES + 1;
    u16::try_from(parts).map_or(MAX_PART_NUMBER, |n| n.min(MAX_PART_NUMBER))
}

/// Whether an upload of `size` bytes (announced when it starts, or its parts' total when it
/// completes) fits `limit`: refused in the words a single upload's refusal uses.
pub(crate) fn check_total(size: u64, limit: u64) -> Result<(), ApiError> {
    if size > limit {
        let refusal = crate::upload_error::UploadError::FileTooLarge { max_bytes: limit };
        return Err(refusal.into());
    }
    Ok(())
}

/// Whether part `number` of `size` bytes (when the client says) may be signed for an upload
/// limited to `limit` bytes. A limit of 0 is a profile that takes no multipart uploads: one
/// changed to that while an upload of it is open gets no more parts signed.
pub(crate) fn check_part(number: u16, size: Option<u64>, limit: u64) -> Result<(), ApiError> {
    if limit == 0 {
        return Err(crate::upload_error::UploadError::MultipartNotAllowed.into());
    }
    let highest = max_part_number(limit);
    if number > highest {
        return Err(ApiError::new(
            ErrorCode::FileTooLarge,
            format!(
                "part {number} is refused: an upload of at most {limit} bytes has at most {highest} parts of at least 5 MiB"
            ),
        ));
    }
    match size {
        Some(0) => Err(part_size()),
        Some(size) if size > limit => Err(ApiError::new(
            ErrorCode::FileTooLarge,
            format!("the part is larger than the {limit} bytes allowed"),
        )),
        Some(size) if size > MAX_PART_BYTES => Err(part_size()),
        _ => Ok(()),
    }
}

fn part_size() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidSize,
        format!("size must be a part's whole number of bytes, from 1 to {MAX_PART_BYTES}"),
    )
}

/// The most an upload may hold: the setting, or less where the caller's token says so.
pub(crate) fn limit(setting: u64, claim: Option<u64>) -> u64 {
    claim.map_or(setting, |claim| claim.min(setting))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn the_part_sizes_are_s3s() {
        assert_eq!(MIN_PART_BYTES, 5_242_880);
        assert_eq!(MAX_PART_BYTES, 5_368_709_120);
    }

    #[test]
    fn part_numbers_stop_where_the_smallest_parts_pass_the_limit() {
        assert_eq!(max_part_number(1), 1);
        assert_eq!(max_part_number(MIB), 1);
        assert_eq!(max_part_number(5 * MIB), 1);
        assert_eq!(max_part_number(5 * MIB + 1), 2);
        assert_eq!(max_part_number(10 * MIB), 2);
        assert_eq!(max_part_number(12 * MIB), 3);
        assert_eq!(max_part_number(5 * 1024 * 1024 * MIB), MAX_PART_NUMBER);
        assert_eq!(max_part_number(u64::MAX), MAX_PART_NUMBER);
        assert_eq!(max_part_number(0), 1);
    }

    #[test]
    fn a_total_over_the_limit_is_refused_as_a_single_upload_is() {
        assert!(check_total(MIB, MIB).is_ok());
        let e = check_total(MIB + 1, MIB).unwrap_err();
        let single: ApiError =
            crate::upload_error::UploadError::FileTooLarge { max_bytes: MIB }.into();
        assert_eq!((e.code, e.message), (single.code, single.message));
    }

    #[test]
    fn parts_past_the_limit_are_refused() {
        assert!(check_part(1, None, MIB).is_ok());
        let e = check_part(2, None, MIB).unwrap_err();
        assert_eq!((e.code, e.code.status()), (ErrorCode::FileTooLarge, 413));
        assert!(e.message.contains("at most 1 parts"), "{}", e.message);
        assert!(check_part(2, None, 5 * MIB + 1).is_ok());
        assert!(check_part(3, None, 5 * MIB + 1).is_err());
    }

    #[test]
    fn no_part_is_signed_where_multipart_is_off() {
        for size in [None, Some(1)] {
            let e = check_part(1, size, 0).unwrap_err();
            assert_eq!(
                (e.code, e.code.status()),
                (ErrorCode::MultipartNotAllowed, 403)
            );
        }
        assert!(check_part(1, Some(1), 1).is_ok());
    }

    #[test]
    fn a_part_of_known_size_must_fit() {
        assert!(check_part(1, Some(MIB), MIB).is_ok());
        let e = check_part(1, Some(MIB + 1), MIB).unwrap_err();
        assert_eq!(e.code, ErrorCode::FileTooLarge);
        assert_eq!(
            check_part(1, Some(0), MIB).unwrap_err().code,
            ErrorCode::InvalidSize
        );
        let huge = 6 * 1024 * MIB * 1024;
        assert!(check_part(1, Some(MAX_PART_BYTES), huge).is_ok());
        let e = check_part(1, Some(MAX_PART_BYTES + 1), huge).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSize);
    }

    #[test]
    fn a_claim_only_narrows() {
        assert_eq!(limit(10, None), 10);
        assert_eq!(limit(10, Some(4)), 4);
        assert_eq!(limit(10, Some(40)), 10);
    }
}
