//! The unit every stage after splitting works on: one message's bytes,
//! borrowed from the mapped mailbox, with where it came from.

/// One message, borrowed from its mailbox file (or from a decompression buffer).
#[derive(Debug, Clone, Copy)]
pub struct RawMessage<'a> {
    /// The message: header block, blank line, body. No mbox `From ` line.
    pub bytes: &'a [u8],
    /// Byte offset in the source file of the message's first byte (for an
    /// mbox, of its `From ` line; for gzip, in the decompressed stream).
    pub offset: u64,
    /// 0-based position of the message in its source.
    pub index: u64,
}
