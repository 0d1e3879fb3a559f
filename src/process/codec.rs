//! The wire format between a parent and a child: length-prefixed postcard frames
//! over the Unix socket that is the child's stdin.
//!
//! parent -> child: one [`Launch`] frame, then the parent shuts its write side, so
//! a target that reads stdin sees end of file.
//! child -> parent: [`Report::Started`] as soon as the launch was read, then one
//! final report (value, panic, or why the target could not run).

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

/// The largest frame accepted (1 GiB); anything larger is a corrupt stream.
const MAX_FRAME: usize = 1 << 30;

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
    /// The encoded arguments (or `Run` value).
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

/// Reads one frame from an async stream.
pub(crate) async fn read_frame_async<T, R>(r: &mut R) -> io::Result<T>
where
    T: for<'de> Deserialize<'de>,
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    postcard::from_bytes(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Encodes `value` as one frame: a little-endian `u32` length, then the bytes.
pub(crate) fn frame<T: Serialize>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    let body = postcard::to_stdvec(value)?;
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Appends `value` as one frame to `out`; `out` is unchanged on error.
pub(crate) fn frame_into<T: Serialize>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), postcard::Error> {
    let body = postcard::to_stdvec(value)?;
    let len = u32::try_from(body.len()).map_err(|_| postcard::Error::SerializeBufferFull)?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// Writes one frame, blocking.
pub(crate) fn write_frame<T: Serialize>(w: &mut impl Write, value: &T) -> io::Result<()> {
    let bytes = frame(value).map_err(io::Error::other)?;
    w.write_all(&bytes)?;
    w.flush()
}

/// Reads one frame, blocking.
pub(crate) fn read_frame<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> io::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    postcard::from_bytes(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Splits every complete frame off the front of `buf` (what a parent has read so
/// far); a torn or undecodable tail is ignored.
pub(crate) fn parse_reports(mut buf: &[u8]) -> Vec<Report> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let Some(body) = buf.get(4..4 + len) else {
            break;
        };
        match postcard::from_bytes(body) {
            Ok(report) => out.push(report),
            Err(_) => break,
        }
        buf = &buf[4 + len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
