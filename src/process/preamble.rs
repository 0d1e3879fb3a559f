//! What a child writes to stderr before it reaches `init()`.
//!
//! A child's stderr starts out as its launch socket (its stdin carries the
//! parent's real stderr): until `init()` runs, whatever the child's `main`
//! prints to stderr (a CLI's usage message, a panic before `init()`) reaches
//! the parent, which copies it to its own stderr at once and keeps the last
//! [`TAIL`] bytes. `init()` writes [`SENTINEL`] and puts the real stderr back
//! as fd 2, so from there on the child writes to the parent's stderr directly
//! (and outlives the parent's death, as Python's spawn children do). A child
//! that exits before the sentinel left only text: its tail goes into the
//! error ([`ProcessJoinError::NoInit`](crate::error::ProcessJoinError::NoInit),
//! [`PoolError::WorkerStart`](crate::error::PoolError::WorkerStart)).
//!
//! A leaf: it imports nothing else from `process/`.

use std::io::Write;

/// Written by the child's `init()` when it takes over: the end of the text
/// and the start of the report frames. NUL bytes and an 0xff byte: not text
/// a program prints to stderr.
pub(crate) const SENTINEL: &[u8] = b"\x00\xffthreadlet-init\xff\x00";

/// How much of the pre-`init()` text the error keeps (the end of it).
pub(crate) const TAIL: usize = 2048;

/// The parent's reader of one child's pre-`init()` text.
#[derive(Debug, Default)]
pub(crate) struct Preamble {
    tail: Vec<u8>,
    done: bool,
}

impl Preamble {
    /// Whether the sentinel was seen (the child reached `init()`).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Takes the text at the front of `buf` (the bytes read so far, not yet
    /// taken): copies it to `out` (this process's stderr), keeps its tail, and
    /// removes it from `buf`. Once the sentinel is found it is removed too,
    /// and `buf` keeps only what follows it (the report frames); after that
    /// this does nothing. A partial sentinel at the end of `buf` stays there
    /// for the next call.
    pub(crate) fn take(&mut self, buf: &mut Vec<u8>, out: &mut dyn Write) {
        if self.done {
            return;
        }
        let (text, rest) = match find(buf, SENTINEL) {
            Some(at) => {
                self.done = true;
                (at, at + SENTINEL.len())
            }
            None => {
                let keep = partial_suffix(buf, SENTINEL);
                (buf.len() - keep, buf.len() - keep)
            }
        };
        if text > 0 {
            let text = &buf[..text];
            let _ = out.write_all(text).and_then(|()| out.flush());
            self.tail.extend_from_slice(text);
            let over = self.tail.len().saturating_sub(TAIL);
            self.tail.drain(..over);
        }
        buf.drain(..rest);
    }

    /// The end of the text, as lossy UTF-8 without trailing whitespace.
    pub(crate) fn tail(&self) -> String {
        String::from_utf8_lossy(&self.tail).trim_end().to_owned()
    }
}

/// Reads `rd` byte by byte (it is buffered) up to and including the
/// sentinel, copying the text before it to our stderr; `preamble` keeps its
/// tail. Nothing after the sentinel is consumed.
///
/// # Errors
///
/// End of file or a read error before the sentinel: the child never reached
/// `init()`.
pub(crate) async fn skip<R: tokio::io::AsyncBufRead + Unpin>(
    rd: &mut R,
    preamble: &mut Preamble,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    while !preamble.is_done() {
        buf.push(rd.read_u8().await?);
        preamble.take(&mut buf, &mut std::io::stderr());
    }
    Ok(())
}

/// Where `needle` (not empty) first occurs in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The length of the longest end of `hay` that is a proper start of `needle`.
fn partial_suffix(hay: &[u8], needle: &[u8]) -> usize {
    (1..needle.len())
        .rev()
        .find(|&k| hay.ends_with(&needle[..k]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_then_sentinel_in_pieces() {
        let mut pre = Preamble::default();
        let mut out = Vec::new();
        let mut buf = b"usage: x".to_vec();
        buf.extend_from_slice(&SENTINEL[..3]);
        pre.take(&mut buf, &mut out);
        assert!(!pre.is_done());
        assert_eq!(buf, &SENTINEL[..3]);
        buf.extend_from_slice(&SENTINEL[3..]);
        buf.extend_from_slice(b"FRAMES");
        pre.take(&mut buf, &mut out);
        assert!(pre.is_done());
        assert_eq!(buf, b"FRAMES");
        assert_eq!(pre.tail(), "usage: x");
        assert_eq!(out, b"usage: x");
        buf.extend_from_slice(b"more");
        pre.take(&mut buf, &mut out);
        assert_eq!(buf, b"FRAMESmore");
    }

    #[test]
    fn keeps_only_the_tail() {
        let mut pre = Preamble::default();
        let mut out = Vec::new();
        let mut buf = vec![b'a'; TAIL * 2];
        buf.extend_from_slice(b"\nlast line\n");
        pre.take(&mut buf, &mut out);
        assert!(buf.is_empty());
        let tail = pre.tail();
        assert!(tail.ends_with("last line"));
        assert!(tail.len() <= TAIL);
    }
}
