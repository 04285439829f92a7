//! The consumer handle: its own local deque, the search that fills it, and what happens to its
//! items when it goes.

use std::time::Instant;

use buffer_api::{Consumer, RecvError, RecvTimeoutError, TryRecvError};
use buffer_sync::{Arc, Mutex};
use crossbeam_deque::{Steal, Stealer, Worker};
use crossbeam_utils::Backoff;

use crate::STEAL_BATCH;
use crate::shared::Shared;

/// One consumer handle's own deque, and its copy of the other consumers' stealers.
struct Local<T> {
    id: usize,
    deque: Worker<T>,
    peers: Vec<Stealer<T>>,
    /// The [`Shared`] peers version `peers` was copied at.
    peers_version: usize,
}

/// The receiving handle of a [`Steal`](crate::Steal) buffer. Each handle, clones included, has
/// its own local deque; see the crate docs.
pub struct StealConsumer<T> {
    shared: Arc<Shared<T>>,
    /// The deque is the owner's alone (crossbeam's `Worker` is not `Sync`); the lock lets
    /// several threads share one handle, and is otherwise uncontended. It is never held while
    /// waiting.
    local: Mutex<Local<T>>,
}

impl<T> StealConsumer<T> {
    /// A new consumer of `shared`, with an empty local deque of its own.
    pub(crate) fn join(shared: Arc<Shared<T>>) -> Self {
        let deque = Worker::new_fifo();
        let id = shared.join_consumer(deque.stealer());
        Self {
            shared,
            local: Mutex::new(Local {
                id,
                deque,
                peers: Vec::new(),
                peers_version: usize::MAX,
            }),
        }
    }

    /// An item from the local deque, else a batch from the injector, else a batch from
    /// another consumer's deque; its slot freed.
    fn take(&self) -> Option<T> {
        let item = {
            let mut local = self.local.lock();
            self.find(&mut local)
        }?;
        self.shared.release(1);
        Some(item)
    }

    fn find(&self, local: &mut Local<T>) -> Option<T> {
        if let Some(item) = local.deque.pop() {
            return Some(item);
        }
        self.refresh_peers(local);
        loop {
            let mut retry = false;
            let sources = std::iter::once(Source::Injector(&self.shared.injector))
                .chain(local.peers.iter().map(Source::Peer));
            for source in sources {
                match source.steal_into(&local.deque) {
                    Steal::Success(item) => return Some(item),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// Whether no deque this handle can reach holds an item: its own, the injector, its peers'.
    fn nothing_visible(&self) -> bool {
        let mut local = self.local.lock();
        self.refresh_peers(&mut local);
        local.deque.is_empty()
            && self.shared.injector.is_empty()
            && local.peers.iter().all(Stealer::is_empty)
    }

    fn refresh_peers(&self, local: &mut Local<T>) {
        if let Some((peers, version)) = self.shared.peers_since(local.id, local.peers_version) {
            local.peers = peers;
            local.peers_version = version;
        }
    }

    /// Receives until `deadline` (`None`: forever): looks, backs off a few rounds (spins,
    /// then yields), and then parks while nothing is to be found and more may come; one last
    /// look after the deadline.
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut timed_out = false;
        let backoff = Backoff::new();
        loop {
            if let Some(item) = self.take() {
                return Ok(item);
            }
            if self.shared.drained() {
                return Err(RecvTimeoutError::Disconnected);
            }
            if timed_out {
                return Err(RecvTimeoutError::Timeout);
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            timed_out = !self
                .shared
                .wait_for_item(|| self.nothing_visible(), deadline);
        }
    }
}

/// Where a consumer steals from.
enum Source<'a, T> {
    Injector(&'a crossbeam_deque::Injector<T>),
    Peer(&'a Stealer<T>),
}

impl<T> Source<'_, T> {
    /// Moves up to [`STEAL_BATCH`] items into `deque` and returns one of them.
    fn steal_into(&self, deque: &Worker<T>) -> Steal<T> {
        match self {
            Self::Injector(injector) => injector.steal_batch_with_limit_and_pop(deque, STEAL_BATCH),
            Self::Peer(stealer) => stealer.steal_batch_with_limit_and_pop(deque, STEAL_BATCH),
        }
    }
}

impl<T> Clone for StealConsumer<T> {
    fn clone(&self) -> Self {
        Self::join(Arc::clone(&self.shared))
    }
}

impl<T> Drop for StealConsumer<T> {
    /// The items still in this handle's deque go back to the injector (or are dropped, when
    /// this was the last consumer), so a consumer that stops, or whose thread panics, loses
    /// nothing.
    fn drop(&mut self) {
        let (id, left) = {
            let local = self.local.lock();
            let left = std::iter::from_fn(|| local.deque.pop()).collect();
            (local.id, left)
        };
        self.shared.leave_consumer(id, left);
    }
}

shared_handle!(StealConsumer);

impl<T: Send + 'static> Consumer<T> for StealConsumer<T> {
    fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.take() {
            Some(item) => Ok(item),
            None if self.shared.drained() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    /// Waits for one item as `recv` does, then takes up to `max - 1` more as `try_recv`
    /// would (this handle's deque first, where that item's steal left its batch), and frees
    /// their slots in one step.
    fn recv_batch(&self, buf: &mut Vec<T>, max: usize) -> Result<usize, RecvError> {
        if max == 0 {
            return Ok(0);
        }
        buf.push(self.recv()?);
        let more = {
            let mut local = self.local.lock();
            let before = buf.len();
            buf.extend(std::iter::from_fn(|| self.find(&mut local)).take(max - 1));
            buf.len() - before
        };
        if more > 0 {
            self.shared.release(more);
        }
        Ok(1 + more)
    }
}
