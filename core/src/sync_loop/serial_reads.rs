//! One read at a time: a change while a read runs asks for one more read after it,
//! never more. The keepalive's body ([`super::Keepalive`]) and the outbox entries
//! behind `onOutboxChange` ([`crate::outbox::OutboxWatch`]) are read this way.

/// Coalesces the reads a stream of changes asks for (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SerialReads {
    reading: bool,
    again: bool,
}

impl SerialReads {
    /// Something changed: whether to start a read now (none is running). A change
    /// during a read asks for one more read after it.
    pub fn touched(&mut self) -> bool {
        if self.reading {
            self.again = true;
            return false;
        }
        self.reading = true;
        true
    }

    /// The running read finished: whether to read again at once (changes came during
    /// it); if so, that read counts as running.
    pub fn finished(&mut self) -> bool {
        let again = std::mem::take(&mut self.again);
        self.reading = again;
        again
    }

    /// No read runs, and changes that came meanwhile are dropped (the next change
    /// starts a read).
    pub fn reset(&mut self) {
        *self = SerialReads::default();
    }
}

#[cfg(test)]
mod tests {
    use super::SerialReads;

    #[test]
    fn changes_during_a_read_ask_for_exactly_one_more() {
        let mut reads = SerialReads::default();
        assert!(reads.touched(), "the first change starts a read");
        assert!(
            !reads.touched() && !reads.touched(),
            "changes during it start none"
        );
        assert!(reads.finished(), "they ask for one more read");
        assert!(!reads.touched(), "that read runs");
        assert!(reads.finished());
        assert!(!reads.finished(), "nothing came during it: done");
        assert!(reads.touched());
        reads.reset();
        assert!(reads.touched(), "after a reset the next change reads");
    }
}
