//! The guest's allocator: talc, plus a bump arena for the per-request calls
//! (`plan`, `respond`, `respond-error`). Planning makes dozens of small
//! allocations that all die with the call; a general-purpose allocator
//! spent about a fifth of the component's time on them, a bump pointer
//! costs a few instructions and frees nothing one by one.
//!
//! Why this is sound: during such a call nothing outlives it but its
//! result. The engine is immutable while it plans (`&self`, no interior
//! mutability in the translator) and the translator keeps no global state.
//! The result is read by the host, then freed by the post-return function
//! (a no-op for arena memory), all before the next call starts; the arena
//! is reset when the next call begins, not when this one ends. Whatever was
//! allocated outside a call (the engine at `load`, the call's arguments)
//! lives in talc and is freed there.
//!
//! wasm32 is single-threaded: the state needs no synchronisation.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;

/// Bytes reserved once for the arena; a call that needs more gets the rest
/// from talc (large bodies, bulk inserts).
const ARENA_BYTES: usize = 256 << 10;

pub struct Allocator {
    talc: talc::wasm::WasmDynamicTalc,
    arena: UnsafeCell<Arena>,
}

struct Arena {
    start: usize,
    end: usize,
    /// Next free byte.
    top: usize,
    /// Where the last allocation starts: it may grow in place.
    last: usize,
    active: bool,
}

// SAFETY: wasm32 guests run on one thread.
unsafe impl Sync for Allocator {}

impl Allocator {
    pub const fn new() -> Allocator {
        Allocator {
            talc: talc::wasm::new_wasm_dynamic_allocator(),
            arena: UnsafeCell::new(Arena {
                start: 0,
                end: 0,
                top: 0,
                last: 0,
                active: false,
            }),
        }
    }

    /// Starts a per-request call: the previous call's arena memory is
    /// reused. The arena serves allocations until the guard drops.
    pub fn call(&'static self) -> Call {
        if self.with(|a| a.start == 0) {
            let layout = Layout::from_size_align(ARENA_BYTES, 16).expect("arena layout");
            // SAFETY: a non-zero size.
            let start = unsafe { self.talc.alloc(layout) } as usize;
            self.with(|a| {
                a.start = start;
                a.end = if start == 0 { 0 } else { start + ARENA_BYTES };
            });
        }
        self.with(|a| {
            a.top = a.start;
            a.last = a.start;
            a.active = a.start != 0;
        });
        Call(self)
    }

    /// The arena's state, for the length of `f` (which must not allocate).
    fn with<R>(&self, f: impl FnOnce(&mut Arena) -> R) -> R {
        // SAFETY: one thread, and `f` does not re-enter the allocator, so
        // this is the only reference.
        f(unsafe { &mut *self.arena.get() })
    }
}

impl Arena {
    fn holds(&self, ptr: *mut u8) -> bool {
        (self.start..self.end).contains(&(ptr as usize))
    }

    fn bump(&mut self, layout: Layout) -> Option<*mut u8> {
        if !self.active {
            return None;
        }
        let at = self.top.checked_next_multiple_of(layout.align())?;
        let top = at.checked_add(layout.size())?;
        if top > self.end {
            return None;
        }
        self.last = at;
        self.top = top;
        Some(at as *mut u8)
    }
}

/// Marks a per-request call; the arena stops serving when it drops.
pub struct Call(&'static Allocator);

impl Drop for Call {
    fn drop(&mut self) {
        self.0.with(|a| a.active = false);
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.with(|a| a.bump(layout)) {
            Some(ptr) => ptr,
            // SAFETY: forwarded as received.
            None => unsafe { self.talc.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.with(|a| a.holds(ptr)) {
            // SAFETY: not arena memory, so talc's.
            unsafe { self.talc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.with(|a| a.holds(ptr)) {
            // SAFETY: talc's memory, forwarded as received.
            return unsafe { self.talc.realloc(ptr, layout, new_size) };
        }
        // The last allocation grows (or shrinks) where it is.
        let in_place = self.with(|a| {
            let fits = a.active && ptr as usize == a.last && a.last + new_size <= a.end;
            if fits {
                a.top = a.last + new_size;
            }
            fits
        });
        if in_place {
            return ptr;
        }
        // SAFETY: `new_size` is non-zero and fits the alignment (the
        // GlobalAlloc contract for realloc).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as `alloc`.
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not
            // overlap (the new one is past `top`, or talc's).
            unsafe { std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size)) };
        }
        moved
    }
}
