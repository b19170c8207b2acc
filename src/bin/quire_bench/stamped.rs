//! A client TCP stream that keeps the kernel's receive time of what it last read, so that the generator stamps a
//! frame with when it reached the machine and not with when its busy loop got round to it.
//!
//! At n500 the server sends each held round to 500 sockets at once, and the generator needs about 12 ms of its one
//! core to read such a burst: a frame read at the end of it was stamped up to 12 ms late, which made every n500 run
//! generator-bound. `SO_TIMESTAMPNS` asks TCP for the time its receive path took each segment in; `recvmsg` returns
//! the newest of the segments it copied. A read that spans two segments therefore stamps the older one's frames
//! late, never early: what this measures can only err against the server.

use std::{
    io,
    os::fd::{AsFd, AsRawFd},
    pin::Pin,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context, Poll, ready},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::{
    io::{AsyncRead, AsyncWrite, Interest, ReadBuf},
    net::TcpStream,
};

#[derive(Debug)]
pub struct StampedTcp {
    tcp: TcpStream,
    /// Nanoseconds since the Unix epoch of the last read's newest segment; 0 before any.
    last: AtomicU64,
}

impl StampedTcp {
    pub async fn connect(addr: &str) -> io::Result<StampedTcp> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        setsockopt(&tcp.as_fd(), sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
        Ok(StampedTcp {
            tcp,
            last: AtomicU64::new(0),
        })
    }

    /// When the kernel received the newest bytes read so far, on the monotonic clock (`now` being the time it is
    /// now); `None` if it has not said.
    pub fn arrived(&self, now: Instant) -> Option<Instant> {
        let nanos = self.last.load(Ordering::Relaxed);
        if nanos == 0 {
            return None;
        }
        let received = UNIX_EPOCH + Duration::from_nanos(nanos);
        // The two clocks read at once: how long ago it arrived, whatever the offset between them.
        let ago = SystemTime::now()
            .duration_since(received)
            .unwrap_or_default();
        Some(now.checked_sub(ago).unwrap_or(now))
    }

    /// One `recvmsg` into `into`; keeps the kernel's time of the newest bytes read.
    fn recv_into(&self, into: &mut [u8]) -> io::Result<usize> {
        let mut iov = [io::IoSliceMut::new(into)];
        let mut control = nix::cmsg_space!(nix::sys::time::TimeSpec);
        let msg = recvmsg::<()>(
            self.tcp.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        if msg.bytes > 0 {
            let stamp = msg.cmsgs().ok().and_then(|mut cmsgs| {
                cmsgs.find_map(|cmsg| match cmsg {
                    ControlMessageOwned::ScmTimestampns(ts) => {
                        let nanos =
                            i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec());
                        u64::try_from(nanos).ok()
                    }
                    _ => None,
                })
            });
            // Bytes the kernel did not stamp are of unknown age: never lend them an older read's time.
            self.last.store(stamp.unwrap_or(0), Ordering::Relaxed);
        }
        Ok(msg.bytes)
    }
}

impl AsyncRead for StampedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match this
                .tcp
                .try_io(Interest::READABLE, || this.recv_into(unfilled))
            {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for StampedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// The stamp is when the bytes arrived, not when they were read: read 60 ms late, it is still about 60 ms old.
    #[tokio::test]
    async fn a_late_read_is_stamped_with_the_arrival() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (connected, accepted) = tokio::join!(StampedTcp::connect(&addr), listener.accept());
        let (mut stream, (mut peer, _)) = (connected.unwrap(), accepted.unwrap());
        let before = Instant::now();
        assert_eq!(stream.arrived(before), None, "nothing read yet");
        // The kernel turns receive stamping on for everyone a moment after the first socket asks (a deferred
        // static key), so the very first bytes may come unstamped; the generator's warm-up covers that.
        tokio::time::sleep(Duration::from_millis(20)).await;
        peer.write_all(b"hello").await.unwrap();
        let sent = Instant::now();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut buf = [0u8; 16];
        let n = stream.read(&mut buf).await.unwrap();
        let read_at = Instant::now();
        assert_eq!(&buf[..n], b"hello");
        let arrived = stream.arrived(read_at).expect("the kernel's stamp");
        assert!(
            read_at - arrived >= Duration::from_millis(50),
            "stamped {:?} before the read",
            read_at - arrived
        );
        assert!(
            arrived + Duration::from_millis(10) >= sent,
            "not before the send"
        );
    }
}
