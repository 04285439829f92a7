//! Shared machinery of the suite: self-counting payloads, sizes, timing constants, the watchdog.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use buffer_api::{Backend, Handle};

/// The "must not have happened yet" probe: an operation that should block is checked to still
/// be blocked after this long.
pub const EPSILON: Duration = Duration::from_millis(50);

/// The soft upper bound for "promptly": generous, because CI machines are slow and noisy.
pub const SLACK: Duration = Duration::from_secs(5);

/// The multiplier for item counts and repetitions, from `BUFFER_CONFORMANCE_SCALE` (default 1).
///
/// # Panics
///
/// If the variable is set to anything but a positive integer.
pub fn scale() -> usize {
    match std::env::var("BUFFER_CONFORMANCE_SCALE") {
        Err(_) => 1,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("BUFFER_CONFORMANCE_SCALE must be a positive integer, got {text:?}"),
        },
    }
}

/// `n` multiplied by [`scale`].
pub fn scaled(n: usize) -> usize {
    n.saturating_mul(scale())
}

/// Ends the sending side for the rest of an item: `close()` where the backend offers it (which
/// must report that it closed the buffer), and in every case drops `p`, which must be the last
/// producer handle, so that a backend without close disconnects instead. Either way consumers
/// then drain what is buffered and see `Disconnected`.
///
/// # Panics
///
/// If a backend that offers close says the buffer was closed already.
pub fn stop_sending<B: Backend, T: Send + 'static>(p: B::Producer<T>, what: &str) {
    if B::CAPABILITIES.closes() {
        assert!(p.close(), "{}: close() {what}", B::NAME);
    }
    drop(p);
}

/// A fresh random seed and a generator started from it, for a randomised item: the item puts
/// the seed into its failure messages, so that a failing schedule can be told from another.
pub(crate) fn seeded_rng() -> (u64, fastrand::Rng) {
    let seed = fastrand::u64(..);
    (seed, fastrand::Rng::with_seed(seed))
}

/// Runs `run` `reps` times on one generator from [`seeded_rng`], giving each run the context
/// `seed S, rep R` for its failure messages.
pub(crate) fn seeded_reps(reps: usize, mut run: impl FnMut(&mut fastrand::Rng, &str)) {
    let (seed, mut rng) = seeded_rng();
    for rep in 0..reps {
        run(&mut rng, &format!("seed {seed}, rep {rep}"));
    }
}

/// Builds a buffer of `B` with a capacity the test knows is valid.
///
/// # Panics
///
/// If the backend refuses the capacity.
#[allow(clippy::type_complexity)]
pub fn new_buffer<B: Backend, T: Send + 'static>(
    capacity: usize,
) -> (B::Producer<T>, B::Consumer<T>) {
    match B::bounded(capacity) {
        Ok(pair) => pair,
        Err(e) => panic!("{}: bounded({capacity}) failed: {e}", B::NAME),
    }
}

/// Runs one behaviour of the suite on its own thread and fails it, by name, if it does not
/// finish in time (`BUFFER_WATCHDOG_SECS`, default 120 s). A panic inside it is re-raised
/// unchanged.
///
/// # Panics
///
/// When the item panics or hangs.
pub fn watchdog(name: &'static str, item: fn()) {
    let limit = std::env::var("BUFFER_WATCHDOG_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(120), Duration::from_secs);
    let (done_tx, done_rx) = mpsc::channel();
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let outcome = panic::catch_unwind(item);
            let _ = done_tx.send(outcome);
        })
        .expect("spawning the item's thread");
    match done_rx.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{name}: watchdog fired, the item hung for more than {limit:?}"),
    }
}

/// A thread started to perform one blocking operation, so the test can check whether it has
/// finished yet without trusting timing for the verdict.
pub struct Probe<R> {
    done: Arc<AtomicBool>,
    handle: thread::JoinHandle<R>,
}

/// Starts `op` on a new thread and returns a [`Probe`] on it.
pub fn spawn_probe<R: Send + 'static>(op: impl FnOnce() -> R + Send + 'static) -> Probe<R> {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let handle = thread::spawn(move || {
        let result = op();
        flag.store(true, Ordering::SeqCst);
        result
    });
    Probe { done, handle }
}

impl<R> Probe<R> {
    /// Whether the operation has returned.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    /// Asserts the operation is still blocked after [`EPSILON`].
    ///
    /// # Panics
    ///
    /// If it has already returned.
    pub fn assert_blocked(&self, what: &str) {
        thread::sleep(EPSILON);
        assert!(
            !self.is_done(),
            "{what} returned, but it should still be blocked"
        );
    }

    /// Waits for the operation's result.
    ///
    /// # Panics
    ///
    /// If the operation panicked.
    pub fn join(self) -> R {
        match self.handle.join() {
            Ok(r) => r,
            Err(payload) => panic::resume_unwind(payload),
        }
    }
}

/// Counts how many [`Tracked`] items one test created and how many of them were dropped.
///
/// One counter per test, never a global: tests run in parallel.
#[derive(Clone, Default)]
pub struct DropCounter {
    inner: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    created: AtomicUsize,
    dropped: AtomicUsize,
}

impl DropCounter {
    /// A new counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates the item `(producer, seq)`, counted by this counter.
    pub fn item(&self, producer: usize, seq: u64) -> Tracked {
        self.inner.created.fetch_add(1, Ordering::SeqCst);
        Tracked {
            producer,
            seq,
            counts: Arc::clone(&self.inner),
        }
    }

    /// How many items this counter created.
    pub fn created(&self) -> usize {
        self.inner.created.load(Ordering::SeqCst)
    }

    /// How many of them have been dropped.
    pub fn dropped(&self) -> usize {
        self.inner.dropped.load(Ordering::SeqCst)
    }

    /// How many are still alive somewhere.
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }
}

/// A test payload: identity `(producer, seq)`, and a token that counts its own drop.
pub struct Tracked {
    /// The producer that made it.
    pub producer: usize,
    /// Its position in that producer's sequence.
    pub seq: u64,
    counts: Arc<Counts>,
}

impl Tracked {
    /// The item's identity.
    pub fn id(&self) -> (usize, u64) {
        (self.producer, self.seq)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.counts.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracked({}, {})", self.producer, self.seq)
    }
}

/// Runs `f` and catches a panic, for tests that panic on purpose.
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> thread::Result<R> {
    panic::catch_unwind(AssertUnwindSafe(f))
}
