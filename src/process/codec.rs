//! The wire format between a parent and a child: length-prefixed postcard frames
//! over the Unix socket that is the child's stdin.
//!
//! parent -> child: one [`Launch`] frame, then the parent shuts its write side, so
//! a target that reads stdin sees end of file.
//! child -> parent: [`Report::Started`] as soon as the launch was read, then one
//! final report (value, panic, or why the target could not run).

use std::fmt;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

/// The largest frame body written or accepted (1 GiB): a larger one is refused
/// before it is written, and a peer announcing one loses its connection before
/// anything is allocated for it. (Unit tests use 64 KiB to exercise the limit.)
#[cfg(not(test))]
pub(crate) const MAX_FRAME: usize = 1 << 30;
#[cfg(test)]
pub(crate) const MAX_FRAME: usize = 1 << 16;

/// Everything a child needs to run its target.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Launch {
    /// The registry key of the target.
    pub(crate) target: String,
    /// The child's `current_process().name()`.
    pub(crate) name: String,
    /// Whether the child is a daemon.
    pub(crate) daemon: bool,
    /// The child's identity (for naming its own children `Process-1:1`).
    pub(crate) identity: Vec<u32>,
    /// The parent's pid, checked against `getppid()` after setting the death signal.
    pub(crate) parent_pid: u32,
    /// The parent's name, for `parent_process()`.
    pub(crate) parent_name: String,
    /// The encoded arguments (or `ProcessRun` value).
    pub(crate) args: Vec<u8>,
}

/// What a child tells its parent.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Report {
    /// The launch frame was read: `init()` dispatched this child.
    Started,
    /// The target returned; the encoded value.
    Returned(Vec<u8>),
    /// The target panicked; the message.
    Panicked(String),
    /// The child has no such target registered.
    UnknownTarget(String),
    /// Decoding the arguments or encoding the value failed in the child.
    Codec(String),
}

/// The key a pool worker's launch names instead of a target.
pub(crate) const POOL_WORKER: &str = "threadlet::process::pool::worker";

/// One pool task: a target and a chunk of arguments (an encoded `Vec<A>`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PoolTask {
    pub(crate) key: String,
    pub(crate) args: Vec<u8>,
}

/// A pool worker's answer to one task.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum PoolReply {
    /// The chunk's values, in order (an encoded `Vec<R>`).
    Done(Vec<u8>),
    /// An item panicked; the message.
    Panicked(String),
    /// The worker does not know the target.
    UnknownTarget(String),
    /// Decoding the arguments or encoding a value failed.
    Codec(String),
}

/// Bytes a reader reserves for a frame before its body arrives.
const PREALLOC: usize = 64 * 1024;

/// The largest encoded item or message a queue or pipe carries: room is left
/// for the request or answer around it, so a frame that carries one item is
/// never over [`MAX_FRAME`].
pub(crate) const MAX_ITEM: usize = MAX_FRAME - 64;

/// Checks an encoded item's size against [`MAX_ITEM`] before it is sent.
pub(crate) fn check_item(len: usize) -> Result<(), String> {
    if len > MAX_ITEM {
        Err(format!(
            "an item of {len} bytes is larger than the limit of {MAX_ITEM} bytes"
        ))
    } else {
        Ok(())
    }
}

/// Why a frame could not be written or read: the one error type of the one
/// codec, so every caller handles an oversize, truncated or undecodable frame
/// the same way (the connection that carried it is dropped; nothing else).
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The value could not be encoded; nothing was written.
    Encode(String),
    /// The frame's body is larger than [`MAX_FRAME`] (announced by a peer, or
    /// about to be written); nothing was allocated or written for it.
    TooLarge(usize),
    /// The stream ended cleanly between two frames.
    Closed,
    /// The stream ended inside a frame.
    Truncated,
    /// The body does not decode as the expected message.
    Decode(String),
    /// Any other I/O failure.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(msg) => write!(f, "cannot encode a frame: {msg}"),
            Self::TooLarge(len) => {
                write!(
                    f,
                    "frame of {len} bytes is larger than the limit of {MAX_FRAME} bytes"
                )
            }
            Self::Closed => f.write_str("connection closed"),
            Self::Truncated => f.write_str("connection closed inside a frame"),
            Self::Decode(msg) => write!(f, "undecodable frame: {msg}"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// The length prefix for a body of `len` bytes, if it is within the limit.
fn prefix(len: usize) -> Result<[u8; 4], FrameError> {
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    // MAX_FRAME < u32::MAX, so this cannot fail; the error keeps it total.
    let len = u32::try_from(len).map_err(|_| FrameError::TooLarge(len))?;
    Ok(len.to_le_bytes())
}

/// The body length a prefix announces, if it is within the limit.
fn announced(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_le_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len)
}

fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, FrameError> {
    postcard::from_bytes(body).map_err(|e| FrameError::Decode(e.to_string()))
}

/// Maps end of file met after the first byte of a frame to `Truncated`.
fn inside(e: io::Error) -> FrameError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        FrameError::Truncated
    } else {
        FrameError::Io(e)
    }
}

/// Appends `value` as one frame (a little-endian `u32` length, then the
/// postcard bytes) to `out`; `out` is unchanged on error.
pub(crate) fn frame_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let body = postcard::to_stdvec(value).map_err(|e| FrameError::Encode(e.to_string()))?;
    let len = prefix(body.len())?;
    out.reserve(body.len() + 4);
    out.extend_from_slice(&len);
    out.extend_from_slice(&body);
    Ok(())
}

/// Encodes `value` as one frame.
pub(crate) fn frame<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::new();
    frame_into(value, &mut out)?;
    Ok(out)
}

/// Writes one frame, blocking.
pub(crate) fn write_frame<T: Serialize + ?Sized>(
    w: &mut impl Write,
    value: &T,
) -> Result<(), FrameError> {
    let bytes = frame(value)?;
    w.write_all(&bytes)?;
    w.flush()?;
    Ok(())
}

/// Accounts one read of the length prefix (`got` bytes of it so far).
fn prefix_read(read: io::Result<usize>, got: &mut usize) -> Result<(), FrameError> {
    match read {
        Ok(0) if *got == 0 => Err(FrameError::Closed),
        Ok(0) => Err(FrameError::Truncated),
        Ok(n) => {
            *got += n;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(FrameError::Io(e)),
    }
}

/// A buffer for a body of `len` bytes: room for a typical frame at once,
/// more only as bytes arrive.
fn body_buffer(len: usize) -> Vec<u8> {
    Vec::with_capacity(len.min(PREALLOC))
}

/// Decodes a body whose read ended with `read`.
fn finish<T: for<'de> Deserialize<'de>>(
    read: io::Result<usize>,
    len: usize,
    body: &[u8],
) -> Result<T, FrameError> {
    if read.map_err(inside)? < len {
        return Err(FrameError::Truncated);
    }
    decode(body)
}

/// Reads one frame, blocking. The body buffer grows only as bytes arrive, so
/// an announced length costs no memory the peer did not send.
pub(crate) fn read_frame<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> Result<T, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        prefix_read(r.read(&mut len[got..]), &mut got)?;
    }
    let len = announced(len)?;
    let mut body = body_buffer(len);
    let read = r.take(len as u64).read_to_end(&mut body);
    finish(read, len, &body)
}

/// Reads one frame from an async stream; as [`read_frame`].
pub(crate) async fn read_frame_async<T, R>(r: &mut R) -> Result<T, FrameError>
where
    T: for<'de> Deserialize<'de>,
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        prefix_read(r.read(&mut len[got..]).await, &mut got)?;
    }
    let len = announced(len)?;
    let mut body = body_buffer(len);
    let read = r.take(len as u64).read_to_end(&mut body).await;
    finish(read, len, &body)
}

/// Splits every complete frame off the front of `buf` (what a parent has read so
/// far); a torn, oversize or undecodable tail is ignored.
pub(crate) fn parse_reports(mut buf: &[u8]) -> Vec<Report> {
    let mut out = Vec::new();
    while let Some((head, rest)) = buf.split_first_chunk::<4>() {
        let Ok(len) = announced(*head) else {
            break;
        };
        let Some(body) = rest.get(..len) else {
            break;
        };
        match decode(body) {
            Ok(report) => out.push(report),
            Err(_) => break,
        }
        buf = &rest[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversize_frame_is_refused_on_write() {
        let big = vec![7u8; MAX_FRAME + 1];
        assert!(frame(&big).is_err(), "oversize frame was encoded");
        let mut out = Vec::new();
        assert!(frame_into(&big, &mut out).is_err());
        assert!(out.is_empty());
        // A frame after others: the earlier ones stay intact.
        frame_into(&1u8, &mut out).unwrap();
        let before = out.clone();
        assert!(matches!(
            frame_into(&big, &mut out),
            Err(FrameError::TooLarge(_))
        ));
        assert_eq!(out, before);
        // Just under the limit is fine and reads back.
        let fits = vec![1u8; MAX_FRAME - 8];
        let bytes = frame(&fits).unwrap();
        assert_eq!(read_frame::<Vec<u8>>(&mut &bytes[..]).unwrap(), fits);
    }

    /// A value whose `Serialize` fails.
    struct Unencodable;

    impl Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }

    #[test]
    fn an_encode_failure_is_an_error_and_writes_nothing() {
        let mut out = vec![9];
        assert!(matches!(
            frame_into(&Unencodable, &mut out),
            Err(FrameError::Encode(_))
        ));
        assert_eq!(out, [9]);
        let mut sink = Vec::new();
        assert!(write_frame(&mut sink, &Unencodable).is_err());
        assert!(sink.is_empty());
    }

    #[test]
    fn hostile_frames_are_typed_errors() {
        // An announced length over the limit: refused before reading a body.
        let mut huge = u32::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 16]);
        assert!(matches!(
            read_frame::<Report>(&mut &huge[..]),
            Err(FrameError::TooLarge(_))
        ));
        // Cut inside the prefix and inside the body.
        let good = frame(&Report::Returned(vec![1; 32])).unwrap();
        assert!(matches!(
            read_frame::<Report>(&mut &good[..2]),
            Err(FrameError::Truncated)
        ));
        assert!(matches!(
            read_frame::<Report>(&mut &good[..good.len() - 1]),
            Err(FrameError::Truncated)
        ));
        // Clean end between frames.
        assert!(matches!(
            read_frame::<Report>(&mut &[][..]),
            Err(FrameError::Closed)
        ));
        // A body that is not a Report (variant 200).
        let mut bad = 1u32.to_le_bytes().to_vec();
        bad.push(200);
        assert!(matches!(
            read_frame::<Report>(&mut &bad[..]),
            Err(FrameError::Decode(_))
        ));
        // The async reader agrees.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(matches!(
                read_frame_async::<Report, _>(&mut &huge[..]).await,
                Err(FrameError::TooLarge(_))
            ));
            assert!(matches!(
                read_frame_async::<Report, _>(&mut &good[..good.len() - 1]).await,
                Err(FrameError::Truncated)
            ));
            assert!(matches!(
                read_frame_async::<Report, _>(&mut &bad[..]).await,
                Err(FrameError::Decode(_))
            ));
        });
    }

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &Report::Started).unwrap();
        write_frame(&mut buf, &Report::Returned(vec![1, 2, 3])).unwrap();
        let reports = parse_reports(&buf);
        assert!(matches!(reports[0], Report::Started));
        assert!(matches!(&reports[1], Report::Returned(v) if v == &[1, 2, 3]));
        // A torn tail is ignored.
        let reports = parse_reports(&buf[..buf.len() - 1]);
        assert_eq!(reports.len(), 1);
        let mut r = &buf[..];
        assert!(matches!(
            read_frame::<Report>(&mut r).unwrap(),
            Report::Started
        ));
    }
}
