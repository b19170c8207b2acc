//! A connection's outbound queue: the hub puts a round's frames in it once for everyone in the document, and each
//! connection writes the frames addressed to it.
//!
//! The queue used to carry one frame per message: at 500 people a round of 25 ops was 12,500 queue pushes and
//! pops, each with its permit, its wake-up check and its reference count, about 16 % of the server's CPU at n500
//! (perf, 2026-12-04). Now a round is one shared list and one queue message per connection. `limits.outbound_queue`
//! still counts frames, as documented: a counter beside the queue holds how many are waiting to be written.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::mpsc;

use super::{ConnId, Frame};

/// Who a frame of a round is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    To(ConnId),
    AllBut(ConnId),
    /// Every connection that asked for comments (`hello.comments`), but one.
    CommentersBut(ConnId),
}

impl Target {
    fn includes(self, conn: ConnId, comments: bool) -> bool {
        match self {
            Target::To(to) => to == conn,
            Target::AllBut(except) => except != conn,
            Target::CommentersBut(except) => comments && except != conn,
        }
    }
}

/// A round's frames in the order they were produced, each with who it is for.
#[derive(Debug)]
pub struct Round {
    frames: Vec<(Target, Frame)>,
}

impl Round {
    pub fn new(frames: Vec<(Target, Frame)>) -> Round {
        Round { frames }
    }

    /// Frames for the connection `conn`, which asked for comments or not.
    pub fn frames_for(&self, conn: ConnId, comments: bool) -> impl Iterator<Item = &Frame> {
        self.frames
            .iter()
            .filter(move |(target, _)| target.includes(conn, comments))
            .map(|(_, frame)| frame)
    }

    /// Whether every frame is for one connection (acks, replies): then sending each to its own is cheaper than
    /// asking everyone.
    pub fn only_direct(&self) -> bool {
        self.frames
            .iter()
            .all(|(target, _)| matches!(target, Target::To(_)))
    }

    /// The frames one by one, for `only_direct` rounds.
    pub fn into_frames(self) -> impl Iterator<Item = (Target, Frame)> {
        self.frames.into_iter()
    }
}

/// One message of the queue.
#[derive(Debug)]
pub enum Outbound {
    /// A frame for this connection alone.
    One(Frame),
    /// A round shared by the document's connections.
    Round(Arc<Round>),
}

impl Outbound {
    /// The frames of this message for the connection `conn`.
    pub fn frames_for(&self, conn: ConnId, comments: bool) -> impl Iterator<Item = &Frame> {
        let (one, round) = match self {
            Outbound::One(frame) => (Some(frame), None),
            Outbound::Round(round) => (None, Some(round.frames_for(conn, comments))),
        };
        one.into_iter().chain(round.into_iter().flatten())
    }
}

/// The queue of a connection that writes at most `limit` frames behind: the hub's end and the connection's.
pub fn outbound(limit: usize) -> (OutboundTx, OutboundRx) {
    let (tx, rx) = mpsc::channel(limit.max(1));
    let waiting = Arc::new(AtomicUsize::new(0));
    let sender = OutboundTx {
        tx,
        waiting: waiting.clone(),
        limit,
    };
    (sender, OutboundRx { rx, waiting })
}

/// The hub's end of a connection's queue.
#[derive(Debug, Clone)]
pub struct OutboundTx {
    tx: mpsc::Sender<Outbound>,
    waiting: Arc<AtomicUsize>,
    limit: usize,
}

impl OutboundTx {
    /// Queues a message that holds `frames` frames for this connection. False, and nothing queued, when the
    /// connection is gone or cannot keep up (more than `limit` frames would be waiting); the hub then drops it.
    pub fn send(&self, message: Outbound, frames: usize) -> bool {
        let waiting = self.waiting.fetch_add(frames, Ordering::Relaxed) + frames;
        if waiting <= self.limit && self.tx.try_send(message).is_ok() {
            return true;
        }
        self.waiting.fetch_sub(frames, Ordering::Relaxed);
        false
    }
}

/// The connection's end of its queue.
#[derive(Debug)]
pub struct OutboundRx {
    rx: mpsc::Receiver<Outbound>,
    waiting: Arc<AtomicUsize>,
}

impl OutboundRx {
    /// The next message; `None` once the hub has dropped the connection and everything queued was read.
    pub async fn recv(&mut self) -> Option<Outbound> {
        self.rx.recv().await
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Option<Outbound> {
        self.rx.try_recv().ok()
    }

    /// `frames` frames were written: room for as many more.
    pub fn written(&self, frames: usize) {
        self.waiting.fetch_sub(frames, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &'static str) -> Frame {
        Frame::from_static(text.as_bytes())
    }

    fn texts<'a>(frames: impl Iterator<Item = &'a Frame>) -> Vec<&'a [u8]> {
        frames.map(|frame| frame.as_ref()).collect()
    }

    #[test]
    fn each_connection_reads_its_own_frames_of_a_round_in_order() {
        let round = Round::new(vec![
            (Target::To(1), frame("ack-1")),
            (Target::AllBut(1), frame("op-1")),
            (Target::CommentersBut(2), frame("comment-2")),
            (Target::AllBut(2), frame("op-2")),
        ]);
        assert_eq!(
            texts(round.frames_for(1, false)),
            [b"ack-1".as_slice(), b"op-2"]
        );
        assert_eq!(texts(round.frames_for(2, true)), [b"op-1".as_slice()]);
        assert_eq!(
            texts(round.frames_for(3, true)),
            [b"op-1".as_slice(), b"comment-2", b"op-2"]
        );
        assert_eq!(
            texts(round.frames_for(3, false)),
            [b"op-1".as_slice(), b"op-2"]
        );
    }

    /// The limit counts frames, not messages: a reader that falls `limit` frames behind is refused more (a
    /// refusal takes no room), and writing makes room again.
    #[tokio::test]
    async fn the_queue_holds_at_most_its_limit_in_frames() {
        let (tx, mut rx) = outbound(3);
        let round = Arc::new(Round::new(vec![
            (Target::AllBut(9), frame("a")),
            (Target::AllBut(9), frame("b")),
        ]));
        assert!(tx.send(Outbound::Round(round.clone()), 2));
        assert!(tx.send(Outbound::One(frame("c")), 1));
        assert!(!tx.send(Outbound::Round(round.clone()), 2), "5 frames > 3");
        let first = rx.recv().await.expect("queued");
        assert_eq!(texts(first.frames_for(1, false)), [b"a".as_slice(), b"b"]);
        rx.written(2);
        assert!(
            tx.send(Outbound::Round(round), 2),
            "room again after writing"
        );
    }
}
