//! A template backend to copy: the textbook bounded buffer, a `VecDeque` under one
//! [`std::sync::Mutex`] with one [`Condvar`] per predicate (not empty, not full), implementing
//! the `buffer-api` contract, and proved by its conformance suite (`tests/conformance.rs`).
//!
//! Rename [`Template`], keep the declarations in [`Template::CAPABILITIES`] true, and run
//! `cargo test`: the suite checks every declaration with an observable consequence.
//!
//! What it declares: native close, FIFO, no rendezvous (`bounded(0)` is refused), batches by
//! the trait's provided loops over single items, no `force_send`.
//!
//! # Invariants
//!
//! - `items.len() <= capacity`, always.
//! - Every wait is a `while` loop on its predicate, so a spurious or stolen wake-up only costs
//!   a check.
//! - A push notifies one waiter on `not_empty`, a pop one on `not_full`; a close or the last
//!   handle of a side leaving notifies everyone on both.
//! - No user value is dropped while the lock is held: items evicted when the last consumer
//!   leaves are taken out first and dropped after the unlock.
//!
//! No `unsafe` anywhere.
//!
//! # Example
//!
//! ```
//! use buffer_api::{Backend, Consumer, Producer};
//! use template_backend::Template;
//!
//! let (tx, rx) = Template::bounded::<u32>(2).expect("capacity 2 is valid");
//! tx.send(1).unwrap();
//! drop(tx);
//! assert_eq!(rx.recv(), Ok(1));
//! assert!(rx.recv().is_err(), "every producer gone and nothing buffered");
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use buffer_api::{
    Backend, Capabilities, CapacityError, Consumer, Discipline, Handle, Producer, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// The backend's marker type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Template;

impl Backend for Template {
    const NAME: &'static str = "template";
    // The plain bounded buffer that `Capabilities::new` describes: state only what differs,
    // with its `with_` methods (for example `.with_rendezvous(true)`).
    const CAPABILITIES: Capabilities = Capabilities::new(Discipline::Fifo);
    type Producer<T: Send + 'static> = TemplateProducer<T>;
    type Consumer<T: Send + 'static> = TemplateConsumer<T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        // Refuses capacity 0 (no rendezvous) and capacities that cannot be allocated. The
        // deque grows on demand, so no slot is allocated up front.
        buffer_api::check_capacity::<T>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                items: VecDeque::new(),
                capacity,
                producers: 1,
                consumers: 1,
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        });
        Ok((
            TemplateProducer {
                shared: Arc::clone(&shared),
            },
            TemplateConsumer { shared },
        ))
    }
}

/// What the mutex guards.
struct State<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// Live producer handles; 0 disconnects the consumers once they have drained.
    producers: usize,
    /// Live consumer handles; 0 disconnects the producers.
    consumers: usize,
    closed: bool,
}

impl<T> State<T> {
    /// Sends fail: closed, or no consumer left.
    fn refuses_sends(&self) -> bool {
        self.closed || self.consumers == 0
    }

    /// Nothing more will arrive: closed, or no producer left.
    fn ends_receives(&self) -> bool {
        self.closed || self.producers == 0
    }

    fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl<T> Shared<T> {
    /// The state. No user code runs under the lock, so a poisoned lock still guards a
    /// consistent state.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on `condvar` until `deadline` (or forever), returning the guard and whether the
    /// deadline has passed.
    fn wait<'a>(
        &self,
        condvar: &Condvar,
        state: MutexGuard<'a, State<T>>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State<T>>, bool) {
        match deadline {
            None => (
                condvar.wait(state).unwrap_or_else(PoisonError::into_inner),
                false,
            ),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return (state, true);
                }
                let (state, _) = condvar
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner);
                (state, false)
            }
        }
    }

    /// The one send: waits for room until `deadline` (`None`: forever).
    fn send(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let mut state = self.lock();
        loop {
            if state.refuses_sends() {
                return Err(SendTimeoutError::Disconnected(item));
            }
            if !state.is_full() {
                state.items.push_back(item);
                drop(state);
                self.not_empty.notify_one();
                return Ok(());
            }
            let timed_out;
            (state, timed_out) = self.wait(&self.not_full, state, deadline);
            if timed_out {
                return Err(SendTimeoutError::Timeout(item));
            }
        }
    }

    /// The one receive: waits for an item until `deadline` (`None`: forever).
    fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                drop(state);
                self.not_full.notify_one();
                return Ok(item);
            }
            if state.ends_receives() {
                return Err(RecvTimeoutError::Disconnected);
            }
            let timed_out;
            (state, timed_out) = self.wait(&self.not_empty, state, deadline);
            if timed_out {
                return Err(RecvTimeoutError::Timeout);
            }
        }
    }

    fn wake_everyone(&self) {
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
}

/// The sending handle.
pub struct TemplateProducer<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving handle.
pub struct TemplateConsumer<T> {
    shared: Arc<Shared<T>>,
}

// Clone and Debug by hand: derived ones would require `T: Clone` and `T: Debug`.
impl<T> Clone for TemplateProducer<T> {
    fn clone(&self) -> Self {
        self.shared.lock().producers += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Clone for TemplateConsumer<T> {
    fn clone(&self) -> Self {
        self.shared.lock().consumers += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for TemplateProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateProducer").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for TemplateConsumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateConsumer").finish_non_exhaustive()
    }
}

impl<T> Drop for TemplateProducer<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.producers -= 1;
        let last = state.producers == 0;
        drop(state);
        if last {
            self.shared.wake_everyone();
        }
    }
}

impl<T> Drop for TemplateConsumer<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.consumers -= 1;
        // The last consumer takes the buffered items with it (`BufferedDrop::OnLastConsumer`),
        // dropped below, after the unlock.
        let evicted = if state.consumers == 0 {
            std::mem::take(&mut state.items)
        } else {
            VecDeque::new()
        };
        let last = state.consumers == 0;
        drop(state);
        if last {
            self.shared.wake_everyone();
        }
        drop(evicted);
    }
}

/// `close`, `is_closed`, `len` and `capacity` read the same state from either side.
macro_rules! handle {
    ($handle:ident) => {
        impl<T: Send + 'static> Handle for $handle<T> {
            fn close(&self) -> bool {
                let mut state = self.shared.lock();
                if state.refuses_sends() || state.ends_receives() {
                    return false;
                }
                state.closed = true;
                drop(state);
                self.shared.wake_everyone();
                true
            }

            fn is_closed(&self) -> bool {
                let state = self.shared.lock();
                state.refuses_sends() || state.ends_receives()
            }

            fn len(&self) -> usize {
                self.shared.lock().items.len()
            }

            fn capacity(&self) -> usize {
                self.shared.lock().capacity
            }
        }
    };
}

handle!(TemplateProducer);
handle!(TemplateConsumer);

impl<T: Send + 'static> Producer<T> for TemplateProducer<T> {
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.shared
            .send(item, None)
            .map_err(|e| SendError(e.into_inner()))
    }

    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let mut state = self.shared.lock();
        if state.refuses_sends() {
            return Err(TrySendError::Disconnected(item));
        }
        if state.is_full() {
            return Err(TrySendError::Full(item));
        }
        state.items.push_back(item);
        drop(state);
        self.shared.not_empty.notify_one();
        Ok(())
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.shared.send(item, Some(deadline))
    }
}

impl<T: Send + 'static> Consumer<T> for TemplateConsumer<T> {
    fn recv(&self) -> Result<T, RecvError> {
        self.shared.recv(None).map_err(|_| RecvError)
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = self.shared.lock();
        if let Some(item) = state.items.pop_front() {
            drop(state);
            self.shared.not_full.notify_one();
            return Ok(item);
        }
        if state.ends_receives() {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.shared.recv(Some(deadline))
    }
}
