//! The per-patient event queue: ordered by (time, phase, sequence number), with lazy
//! cancellation by generation stamps.
//!
//! A patient rarely has more than a handful of pending events, so the queue is a vector kept
//! sorted from last to first: `pop` takes the end in O(1) and `schedule` walks back from the end
//! (a new event is usually the soonest). The order key packs (time, phase, sequence number) into
//! one `u128` whose integer order is the event order. At these sizes this beats a binary heap
//! (measured: the heap's sift-down was the largest single cost of the engine).
//!
//! # Ordering guarantees
//!
//! Events pop in increasing time. At the same instant the lower [`Phase`] goes first: deaths,
//! then changes of disease state (relapse), then clinical steps, then the end of the horizon.
//! Within one phase, events pop in the order they were scheduled (FIFO, by sequence number).
//! So a death at the same instant as a relapse is processed and the relapse never is.
//!
//! # Cancellation
//!
//! Each event belongs to a [`Track`]. Cancelling a track bumps its generation in O(1); entries
//! stamped with an older generation are dropped when they reach the front of the queue. No
//! search, no hash map. Typical use: a response cancels the pending disease death, a relapse
//! cancels the pending transplant and the remaining treatment cycles.
//!
//! # Reservation
//!
//! An event that will most likely be the next to pop (a start of line at the current instant)
//! can take its place in the order and its cancellation stamp now ([`EventQueue::reserve`]) and
//! be handled directly if it would indeed pop next ([`EventQueue::would_pop_next`]), or be
//! scheduled in that place otherwise. Either way the order of events is the same as if it had
//! been scheduled when reserved.

use crate::time::Days;

/// Tie-break rank of events at the same instant; lower goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Deaths: nothing else may happen at the instant of death.
    Death = 0,
    /// Changes of disease state (relapse): they decide what the clinical steps see.
    Disease = 1,
    /// Clinical steps: assessments, infusions, transplants, starts of therapy.
    Care = 2,
    /// End of the time horizon: after everything else at that instant.
    Horizon = 3,
}

impl Phase {
    /// The phase whose discriminant is `k` (the phase byte of an order key).
    #[inline]
    fn from_key(k: u8) -> Phase {
        match k {
            0 => Phase::Death,
            1 => Phase::Disease,
            2 => Phase::Care,
            _ => Phase::Horizon,
        }
    }
}

/// An independently cancellable family of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// Never cancelled: background death, the end of the horizon, a decided transplant death.
    Fixed = 0,
    /// The disease clock: relapse while in remission, disease death in supportive care.
    Disease = 1,
    /// The treatment plan: cycles, CAR-T steps, assessments, a scheduled transplant.
    Care = 2,
}

const TRACKS: usize = 3;

/// The time part of the order key: the IEEE bits of the time, mapped so that integer order is
/// numeric order (as `f64::total_cmp` does). The map is its own inverse up to the top bit.
#[inline]
fn time_key(time: Days) -> u64 {
    let bits = time.get().to_bits();
    (bits ^ (((bits as i64 >> 63) as u64) >> 1)) ^ (1 << 63)
}

/// The time a [`time_key`] was made from.
#[inline]
fn key_time(key: u64) -> Days {
    let x = key ^ (1 << 63);
    let bits = x ^ (((x as i64 >> 63) as u64) >> 1);
    Days::new(f64::from_bits(bits)).expect("keys are made from finite times")
}

/// The order key: time, then phase, then sequence number, compared as one `u128`.
#[inline]
fn order_key(time: Days, phase: Phase, seq: u64) -> u128 {
    (u128::from(time_key(time)) << 64) | (u128::from(phase as u8) << 56) | u128::from(seq)
}

/// A scheduled event as stored in the queue: the order key (time, phase and sequence number,
/// unpacked on the way out), the cancellation stamp and the payload. Kept small because
/// scheduling moves entries.
#[derive(Debug, Clone, Copy)]
struct Entry<E> {
    key: u128,
    track: Track,
    generation: u32,
    event: E,
}

/// A place in the queue's order taken in advance ([`EventQueue::reserve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    seq: u64,
    track: Track,
    generation: u32,
}

/// A live event taken from the queue.
#[derive(Debug, Clone, Copy)]
pub struct Scheduled<E> {
    /// When it happens.
    pub time: Days,
    /// Tie-break at equal times.
    pub phase: Phase,
    /// Scheduling order, the last tie-break (FIFO).
    pub seq: u64,
    /// The payload.
    pub event: E,
}

/// A min-queue of events with per-track lazy cancellation. Reused across patients: `clear`
/// keeps the allocation.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    /// Sorted by key, largest first: the next event is at the end.
    pending: Vec<Entry<E>>,
    seq: u64,
    generations: [u32; TRACKS],
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            pending: Vec::with_capacity(32),
            seq: 0,
            generations: [0; TRACKS],
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the queue for the next patient, keeping its memory.
    pub fn clear(&mut self) {
        self.pending.clear();
        self.seq = 0;
        self.generations = [0; TRACKS];
    }

    /// Schedules `event` at `time` on `track`.
    #[inline(always)]
    pub fn schedule(&mut self, time: Days, phase: Phase, track: Track, event: E) {
        let r = self.reserve(track);
        self.schedule_reserved(time, phase, r, event);
    }

    #[inline(always)]
    fn insert(&mut self, entry: Entry<E>) {
        let key = entry.key;
        // Keys are unique (the sequence number breaks ties, so a later entry with an equal
        // (time, phase) pops after the earlier ones). Insertion sort from the end: shift the
        // smaller keys up one place each (a handful at most; no `memmove` call).
        self.pending.push(entry);
        let p = self.pending.as_mut_slice();
        let mut at = p.len() - 1;
        while at > 0 && p[at - 1].key < key {
            p[at] = p[at - 1];
            at -= 1;
        }
        p[at] = entry;
    }

    /// Takes the sequence number and cancellation stamp that [`EventQueue::schedule`] would
    /// give an event on `track` now, for [`EventQueue::schedule_reserved`] later: the event
    /// then keeps its place among same-time events and is cancelled by a cancel in between,
    /// exactly as if it had been scheduled now.
    #[inline(always)]
    pub fn reserve(&mut self, track: Track) -> Reserved {
        let seq = self.seq;
        self.seq += 1;
        Reserved {
            seq,
            track,
            generation: self.generations[track as usize],
        }
    }

    /// Whether an event reserved as `r` would still be live (its track not cancelled since).
    #[inline]
    pub fn is_live(&self, r: Reserved) -> bool {
        self.stamp_is_current(r.track, r.generation)
    }

    /// Whether `generation` is still the current stamp of `track`.
    #[inline]
    fn stamp_is_current(&self, track: Track, generation: u32) -> bool {
        generation == self.generations[track as usize]
    }

    /// Drops the cancelled entries at the front (the end of `pending`); then the front entry,
    /// if any, is live.
    #[inline]
    fn drop_cancelled_front(&mut self) {
        while let Some(e) = self.pending.last() {
            if self.stamp_is_current(e.track, e.generation) {
                return;
            }
            self.pending.pop();
        }
    }

    /// Whether an event at `time` in `phase`, reserved as `r`, would be the next to pop: every
    /// live pending event comes after it. Drops cancelled entries from the front on the way.
    #[inline]
    pub fn would_pop_next(&mut self, time: Days, phase: Phase, r: Reserved) -> bool {
        self.drop_cancelled_front();
        self.pending
            .last()
            .is_none_or(|e| e.key > order_key(time, phase, r.seq))
    }

    /// Schedules `event` at `time` with the place and stamp reserved as `r`.
    #[inline(always)]
    pub fn schedule_reserved(&mut self, time: Days, phase: Phase, r: Reserved, event: E) {
        self.insert(Entry {
            key: order_key(time, phase, r.seq),
            track: r.track,
            generation: r.generation,
            event,
        });
    }

    /// Cancels every event currently scheduled on `track`; later schedules are unaffected.
    pub fn cancel(&mut self, track: Track) {
        self.generations[track as usize] = self.generations[track as usize].wrapping_add(1);
    }

    /// The next live event, skipping cancelled ones.
    #[inline]
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        self.drop_cancelled_front();
        self.pending.pop().map(|entry| Scheduled {
            time: key_time((entry.key >> 64) as u64),
            phase: Phase::from_key((entry.key >> 56) as u8),
            seq: entry.key as u64 & ((1 << 56) - 1),
            event: entry.event,
        })
    }

    /// Number of stored entries, cancelled ones included.
    pub fn stored(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: f64) -> Days {
        Days::new(x).unwrap()
    }

    fn drain(q: &mut EventQueue<&'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| q.pop().map(|e| e.event)).collect()
    }

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        q.schedule(d(5.0), Phase::Care, Track::Care, "c");
        q.schedule(d(1.0), Phase::Care, Track::Care, "a");
        q.schedule(d(3.0), Phase::Horizon, Track::Fixed, "b");
        assert_eq!(drain(&mut q), ["a", "b", "c"]);
    }

    #[test]
    fn ties_break_by_phase_then_fifo() {
        let mut q = EventQueue::new();
        q.schedule(d(2.0), Phase::Horizon, Track::Fixed, "horizon");
        q.schedule(d(2.0), Phase::Care, Track::Care, "care-1");
        q.schedule(d(2.0), Phase::Disease, Track::Disease, "relapse");
        q.schedule(d(2.0), Phase::Care, Track::Care, "care-2");
        q.schedule(d(2.0), Phase::Death, Track::Fixed, "death");
        assert_eq!(
            drain(&mut q),
            ["death", "relapse", "care-1", "care-2", "horizon"]
        );
    }

    #[test]
    fn cancellation_drops_only_that_track_and_only_earlier_events() {
        let mut q = EventQueue::new();
        q.schedule(d(10.0), Phase::Disease, Track::Disease, "relapse-old");
        q.schedule(d(20.0), Phase::Death, Track::Fixed, "background");
        q.schedule(d(4.0), Phase::Care, Track::Care, "cycle");
        q.cancel(Track::Disease);
        q.schedule(d(15.0), Phase::Disease, Track::Disease, "relapse-new");
        assert_eq!(drain(&mut q), ["cycle", "relapse-new", "background"]);
    }

    #[test]
    fn order_key_orders_like_total_cmp() {
        let times = [0.0, -0.0, 1e-300, 0.5, 1.0, 1e300, -1.0, -1e-300];
        for &a in &times {
            for &b in &times {
                let (ka, kb) = (
                    order_key(d(a), Phase::Care, 0),
                    order_key(d(b), Phase::Care, 0),
                );
                assert_eq!(ka.cmp(&kb), a.total_cmp(&b), "{a} vs {b}");
            }
        }
        assert!(order_key(d(1.0), Phase::Death, 9) < order_key(d(1.0), Phase::Care, 0));
        assert!(order_key(d(1.0), Phase::Care, 1) < order_key(d(1.0), Phase::Care, 2));
        assert!(order_key(d(1.0), Phase::Horizon, 0) < order_key(d(1.000001), Phase::Death, 0));
    }

    #[test]
    fn popped_entries_carry_their_time_phase_and_sequence() {
        let times = [0.0, -0.0, 1e-300, 0.5, 7.25, 365.0 * 80.0, 1e300];
        let phases = [Phase::Death, Phase::Disease, Phase::Care, Phase::Horizon];
        let mut q = EventQueue::new();
        for (i, &t) in times.iter().enumerate() {
            q.schedule(d(t), phases[i % 4], Track::Fixed, i);
        }
        let mut seen = 0;
        while let Some(e) = q.pop() {
            assert_eq!(e.time.get().to_bits(), times[e.event].to_bits());
            assert_eq!(e.phase, phases[e.event % 4]);
            assert_eq!(e.seq, e.event as u64);
            seen += 1;
        }
        assert_eq!(seen, times.len());
    }

    #[test]
    fn a_reserved_event_keeps_its_place_and_its_cancellation() {
        let mut q = EventQueue::new();
        q.schedule(d(2.0), Phase::Care, Track::Care, "a");
        let r = q.reserve(Track::Care);
        q.schedule(d(2.0), Phase::Care, Track::Care, "c");
        q.schedule(d(2.0), Phase::Death, Track::Fixed, "death");
        // "a" and the death come before the reserved event; "c" after it.
        assert!(!q.would_pop_next(d(2.0), Phase::Care, r));
        q.schedule_reserved(d(2.0), Phase::Care, r, "b");
        assert_eq!(drain(&mut q), ["death", "a", "b", "c"]);

        let r = q.reserve(Track::Care);
        q.schedule(d(5.0), Phase::Care, Track::Care, "later");
        q.schedule(d(1.0), Phase::Care, Track::Care, "stale");
        q.cancel(Track::Care);
        assert!(!q.is_live(r));
        q.schedule(d(3.0), Phase::Care, Track::Care, "fresh");
        let r = q.reserve(Track::Care);
        // The cancelled entries in front are dropped; "fresh" at 3 comes after an event at 2.
        assert!(q.would_pop_next(d(2.0), Phase::Care, r));
        assert!(!q.would_pop_next(d(3.5), Phase::Care, r));
        assert_eq!(drain(&mut q), ["fresh"]);
    }

    #[test]
    fn clear_resets_for_the_next_patient() {
        let mut q = EventQueue::new();
        q.schedule(d(1.0), Phase::Care, Track::Care, "x");
        q.cancel(Track::Care);
        assert_eq!(
            q.stored(),
            1,
            "a cancelled entry stays stored until it reaches the front"
        );
        q.clear();
        q.schedule(d(1.0), Phase::Care, Track::Care, "y");
        assert_eq!(drain(&mut q), ["y"]);
        assert_eq!(q.stored(), 0);
    }
}
