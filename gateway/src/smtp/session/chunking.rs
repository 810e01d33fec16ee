//! CHUNKING (RFC 3030): BDAT chunks, each read whole (its size is on the
//! wire) and kept only while the message stays under the size limit.

use super::*;

impl Session {
    pub(super) fn bdat(&mut self, s: State, size: u64, last: bool) -> (State, Step) {
        let (h, tx, so_far) = match s {
            State::Mail(h, tx) if !tx.rcpts.is_empty() => (h, tx, 0),
            State::Bdat(h, tx, n) => (h, tx, n),
            s => {
                let then = Reply::new(554, "5.5.1 No valid recipients");
                return (s, Step::then_only(Action::DiscardChunk { size, then }));
            }
        };
        // The chunk is read whatever happens: its bytes are on their way.
        let keep = so_far.saturating_add(size) <= self.limits.max_message_size;
        let action = Action::ReadChunk { size, last, keep };
        (State::Bdat(h, tx, so_far), Step::then_only(action))
    }

    /// A chunk read and dropped because all sessions together held the
    /// memory content may take: the transaction ends with `452 4.3.1`, to
    /// be sent again later.
    pub fn chunk_refused(&mut self, body: &mut Vec<u8>) -> Content {
        let state = std::mem::replace(&mut self.state, State::Closed);
        let State::Bdat(h, ..) = state else {
            self.state = state;
            return Content::Replied(Step::reply(common::bad_sequence("no BDAT in progress")));
        };
        *body = Vec::new();
        self.state = State::Ready(h);
        Content::Replied(self.error(no_memory_reply()))
    }

    /// A BDAT chunk was read into `body` (the content so far), or dropped
    /// when `kept` is false.
    pub fn chunk_done(&mut self, size: u64, last: bool, kept: bool, body: &mut Vec<u8>) -> Content {
        let state = std::mem::replace(&mut self.state, State::Closed);
        let State::Bdat(h, tx, so_far) = state else {
            self.state = state;
            return Content::Replied(Step::reply(common::bad_sequence("no BDAT in progress")));
        };
        if !kept {
            body.clear();
            self.state = State::Ready(h);
            let r = Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size");
            return Content::Replied(self.error(r));
        }
        let total = so_far + size;
        if !last {
            self.state = State::Bdat(h, tx, total);
            let r = Reply::new(250, format!("2.0.0 {size} octets received"));
            return Content::Replied(Step::reply(r));
        }
        self.state = State::Ready(h.clone());
        let content = std::mem::take(body);
        if let Err(e) = check_content(&content) {
            return Content::Replied(self.error(content_error_reply(e)));
        }
        self.accepted(h, tx, content)
    }
}
