//! Guarded copies through the fault signal: a copy loop whose `SIGBUS` or
//! `SIGSEGV` a process-wide handler redirects to a recovery label.
//!
//! Shared by the Linux backend (x86_64) and the POSIX backend (x86_64 and
//! aarch64 on macOS, FreeBSD, and Linux under `--cfg xmmap_posix`). The copy
//! is per architecture (`rep movsb` on x86_64, an aligned word loop on
//! aarch64), the access to the interrupted program counter per OS (`pc`,
//! `set_pc`); the rest is common.
//!
//! The copy routine is one `asm!` block with local labels only (no symbol,
//! so two versions of xmmap link together). The handler claims a `SIGBUS`
//! or `SIGSEGV` only when all of these hold:
//!
//! 1. it is a fault (`si_code > 0`), not a signal sent by `kill` or
//!    `sigqueue`;
//! 2. the interrupted program counter lies in the copy instructions whose
//!    addresses this thread's copy recorded;
//! 3. this thread's guard record says it is inside a guarded copy;
//! 4. the faulting address (`si_addr`) lies in the mapped range that copy
//!    registered.
//!
//! It then records the signal and moves the program counter to the
//! recovery label; the count register still holds the bytes not copied,
//! which the routine returns. Every other fault goes to the handler that was
//! installed before ours (Rust's stack-overflow handler, a sanitizer, the
//! application's), or, when that was the default action or "ignore",
//! restores the default and lets the fault happen again, so the process dies
//! of the original signal exactly as it would have without xmmap.
//!
//! A fault the kernel cannot deliver (the thread blocks `SIGBUS` or
//! `SIGSEGV`) kills the process, and a fault that reaches a handler
//! installed over ours may never reach ours, so callers ask
//! [`fast_path_ready`] first and take another way when it says no.

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};
use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{compiler_fence, AtomicBool, Ordering};
use std::sync::OnceLock;

use super::CopyError;

/// The copy: the shared recording `rep movsb` (`sys::rep_movsb`), which
/// stores the addresses of its `rep movsb` and of the instruction after it
/// in this thread's record: that is how the handler knows the fault is ours
/// and where to resume. Returns the bytes not copied.
///
/// # Safety
/// - As [`copy`], and `a` must be this thread's `ACTIVE`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn copy_asm(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    _map_is_src: bool,
    a: &Active,
) -> usize {
    // SAFETY: the caller vouches for both ranges; the two cells are this
    // thread's record, which outlives the copy.
    unsafe { super::rep_movsb::copy(dst, src, len, a.fault_ip.as_ptr(), a.recover_ip.as_ptr()) }
}

/// The copy: bytes until the mapped side is 8-byte aligned, then 8-byte
/// words, then the tail bytes; `n` counts down from `len` and is returned:
/// the bytes not copied.
///
/// As on x86_64 the labels are local and the block records where its copy
/// instructions start and where it resumes. A fault on a load (the map is
/// the source) or a store (the map is the destination) leaves `n` counting
/// the bytes of that access as not copied. The count stays exact: the
/// mapped side's accesses are aligned, so none straddles a page, and a page
/// is backed or lost as a whole.
///
/// # Safety
/// - As [`copy`], and `a` must be this thread's `ACTIVE`.
#[cfg(target_arch = "aarch64")]
#[inline(never)]
unsafe fn copy_asm(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    map_is_src: bool,
    a: &Active,
) -> usize {
    let mapped = if map_is_src { src as usize } else { dst as usize };
    // Bytes before the mapped side reaches an 8-byte boundary.
    let head = mapped.wrapping_neg() % 8;
    let left: usize;
    // SAFETY: the caller vouches for both ranges; the two stores go to
    // this thread's record, which outlives the block.
    unsafe {
        core::arch::asm!(
            "adr {t}, 2f",
            "str {t}, [{f}]",
            "adr {t}, 3f",
            "str {t}, [{r}]",
            "2:",
            "cbz {n}, 3f",
            "cbz {h}, 4f",
            "ldrb {b:w}, [{s}], #1",
            "strb {b:w}, [{d}], #1",
            "sub {h}, {h}, #1",
            "sub {n}, {n}, #1",
            "b 2b",
            "4:",
            "cmp {n}, #8",
            "b.lo 5f",
            "ldr {b}, [{s}], #8",
            "str {b}, [{d}], #8",
            "sub {n}, {n}, #8",
            "b 4b",
            "5:",
            "cbz {n}, 3f",
            "ldrb {b:w}, [{s}], #1",
            "strb {b:w}, [{d}], #1",
            "sub {n}, {n}, #1",
            "b 5b",
            "3:",
            t = out(reg) _,
            b = out(reg) _,
            f = in(reg) a.fault_ip.as_ptr(),
            r = in(reg) a.recover_ip.as_ptr(),
            n = inout(reg) len => left,
            h = inout(reg) head => _,
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            options(nostack),
        );
    }
    left
}

/// The program counter of the interrupted context.
///
/// # Safety
/// - `uc` must be the `ucontext_t` the kernel passed to an SA_SIGINFO handler.
unsafe fn pc(uc: *mut libc::ucontext_t) -> usize {
    // SAFETY: the caller passes the kernel's context; each arm reads the
    // field that OS and architecture keep the program counter in.
    unsafe {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        let pc = (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
        #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
        let pc = (*uc).uc_mcontext.pc as usize;
        #[cfg(all(target_os = "macos", target_arch = "x86_64"))]
        let pc = (*(*uc).uc_mcontext).__ss.__rip as usize;
        #[cfg(all(target_os = "macos", target_arch = "aarch64"))]
        let pc = (*(*uc).uc_mcontext).__ss.__pc as usize;
        #[cfg(all(target_os = "freebsd", target_arch = "x86_64"))]
        let pc = (*uc).uc_mcontext.mc_rip as usize;
        #[cfg(all(target_os = "freebsd", target_arch = "aarch64"))]
        let pc = (*uc).uc_mcontext.mc_gpregs.gp_elr as usize;
        pc
    }
}

/// Sets the program counter the interrupted context resumes at.
///
/// # Safety
/// - As [`pc`]; `to` must be an address the interrupted code may resume at.
unsafe fn set_pc(uc: *mut libc::ucontext_t, to: usize) {
    // SAFETY: as in `pc`; the kernel restores the context on return.
    unsafe {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        {
            (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] = to as i64;
        }
        #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
        {
            (*uc).uc_mcontext.pc = to as u64;
        }
        #[cfg(all(target_os = "macos", target_arch = "x86_64"))]
        {
            (*(*uc).uc_mcontext).__ss.__rip = to as u64;
        }
        #[cfg(all(target_os = "macos", target_arch = "aarch64"))]
        {
            (*(*uc).uc_mcontext).__ss.__pc = to as u64;
        }
        #[cfg(all(target_os = "freebsd", target_arch = "x86_64"))]
        {
            (*uc).uc_mcontext.mc_rip = to as libc::register_t;
        }
        #[cfg(all(target_os = "freebsd", target_arch = "aarch64"))]
        {
            (*uc).uc_mcontext.mc_gpregs.gp_elr = to as libc::register_t;
        }
    }
}

/// What this thread's guarded copy watches, and what the handler saw.
struct Active {
    /// Mapped range of the copy in progress; `lo == hi` when none.
    lo: Cell<usize>,
    hi: Cell<usize>,
    /// The signal the handler claimed, 0 if none.
    signal: Cell<c_int>,
    /// Addresses of the copy's first faulting instruction and of its
    /// recovery point (just past the last), stored by the copy itself before
    /// it starts.
    fault_ip: Cell<usize>,
    recover_ip: Cell<usize>,
}

thread_local! {
    // Const-initialised and without a destructor: access is a plain
    // thread-pointer-relative load, with no lazy registration, so the signal
    // handler may touch it. (On macOS a thread's first access to the image's
    // thread-locals allocates their block; a thread that runs a guarded copy
    // has made that access before it can fault in the copy, and a thread of
    // Rust code has made it when it started. Only a foreign fault on a
    // thread that never ran Rust code reaches the handler first.)
    static ACTIVE: Active = const {
        Active {
            lo: Cell::new(0),
            hi: Cell::new(0),
            signal: Cell::new(0),
            fault_ip: Cell::new(0),
            recover_ip: Cell::new(0),
        }
    };
}

/// A `sigaction` saved before ours was installed, written once (inside the
/// `OnceLock` initialiser, before the handler that reads it exists).
struct Saved(UnsafeCell<MaybeUninit<libc::sigaction>>);

// SAFETY: written once before any reader can run (the handler is installed
// after the write), then only read.
unsafe impl Sync for Saved {}

static PREV_BUS: Saved = Saved(UnsafeCell::new(MaybeUninit::uninit()));
static PREV_SEGV: Saved = Saved(UnsafeCell::new(MaybeUninit::uninit()));
/// Whether the saved SA_RESETHAND handler of SIGBUS / SIGSEGV has run: the
/// kernel runs a one-shot handler once, so after that the signal's
/// previous action is SIG_DFL, also once ours has been re-installed.
static SPENT_BUS: AtomicBool = AtomicBool::new(false);
static SPENT_SEGV: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

/// Installs the handler once per process (lazily; later calls are an
/// atomic load).
pub(crate) fn install() -> io::Result<()> {
    // SAFETY: runs once; see `install_once`.
    match INSTALLED.get_or_init(|| unsafe { install_once() }) {
        Ok(()) => Ok(()),
        Err(code) => Err(io::Error::from_raw_os_error(*code)),
    }
}

fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL)
}

/// Our `sigaction`: SA_ONSTACK so that a stack overflow still reaches Rust's
/// handler on the alternate stack; no SA_NODEFER, so that a fault inside the
/// handler does not recurse.
fn ours() -> libc::sigaction {
    // SAFETY: all-zero is a valid `sigaction` (empty mask, no flags).
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = on_fault as *const () as libc::sighandler_t;
    new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    new
}

/// # Safety
/// - Must run at most once per process (the `OnceLock` ensures it).
unsafe fn install_once() -> Result<(), i32> {
    for (sig, saved) in [(libc::SIGBUS, &PREV_BUS), (libc::SIGSEGV, &PREV_SEGV)] {
        // Read the current disposition first and store it, then install: the
        // handler never runs before the disposition it chains to is saved.
        // (Another thread changing the disposition between the two calls
        // would be lost; installing signal handlers is process-wide and must
        // not race in any program.)
        // SAFETY: a query only writes `saved`, which no handler reads yet.
        if unsafe { libc::sigaction(sig, std::ptr::null(), saved.0.get().cast()) } != 0 {
            return Err(last_errno());
        }
        // SAFETY: `ours()` is a valid sigaction whose handler has the
        // SA_SIGINFO signature.
        if unsafe { libc::sigaction(sig, &ours(), std::ptr::null_mut()) } != 0 {
            return Err(last_errno());
        }
    }
    Ok(())
}

/// Set once by [`assume_signals_untouched`]: [`fast_path_ready`] asks
/// the kernel nothing.
static UNTOUCHED: AtomicBool = AtomicBool::new(false);

/// From now on, [`fast_path_ready`] says yes without asking the kernel.
///
/// # Safety
/// - From now on, for the life of the process, no thread runs a guarded
///   copy with `SIGBUS` or `SIGSEGV` blocked, and no code replaces or
///   resets the `SIGBUS`/`SIGSEGV` disposition after [`install`] (a handler
///   installed later that chains to ours, as this module documents, is
///   fine).
pub(crate) unsafe fn assume_signals_untouched() {
    UNTOUCHED.store(true, Ordering::Relaxed);
}

/// Whether [`assume_signals_untouched`] was called.
pub(crate) fn signals_assumed_untouched() -> bool {
    UNTOUCHED.load(Ordering::Relaxed)
}

/// Why a fault in a copy on this thread would not reach `on_fault` now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotReady {
    /// The thread blocks `SIGBUS` or `SIGSEGV`: the kernel would kill the
    /// process on the fault instead of delivering it.
    Blocked,
    /// A handler (or "ignore") was installed over ours after we installed
    /// it. It receives the fault first and may not chain to ours; it is
    /// left in place.
    Displaced,
}

/// Whether a fault in the copy on this thread would reach `on_fault`
/// now; re-installs our handler where the disposition was reset to the
/// default since.
///
/// After [`assume_signals_untouched`] the answer is yes with no system
/// call: the caller of that function promised what these checks look for.
///
/// Both are asked of the kernel on every copy, because either can change at
/// any time from outside this crate: the thread's mask (`pthread_sigmask`,
/// as `sigwait`/`signalfd` threads block everything; the kernel then kills
/// on a blocked fault instead of delivering it) and the disposition
/// (`signal(SIGBUS, SIG_DFL)`, or Rust's own handler resetting itself on a
/// signal sent with `kill`). A cached answer could be stale by the time the
/// copy faults.
///
/// A disposition reset to `SIG_DFL` is ours to take back: re-installing
/// keeps the disposition saved at the first install as the one faults that
/// are not ours chain to, and the default action for those faults is what
/// that chain ends in anyway. Any other disposition was installed on
/// purpose after ours (a crash reporter, a runtime, an "ignore"); taking
/// it over would silently cut it off from every later fault, so it stays,
/// and the answer is [`NotReady::Displaced`].
pub(crate) fn fast_path_ready() -> Result<(), NotReady> {
    if signals_assumed_untouched() {
        return Ok(());
    }
    // SAFETY: all-zero is a valid sigset_t and sigaction; the calls only
    // query, or install `ours()` over SIG_DFL.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        if libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) != 0 {
            return Err(NotReady::Blocked);
        }
        if libc::sigismember(&mask, libc::SIGBUS) == 1
            || libc::sigismember(&mask, libc::SIGSEGV) == 1
        {
            return Err(NotReady::Blocked);
        }
        for sig in [libc::SIGBUS, libc::SIGSEGV] {
            let mut cur: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut cur) != 0 {
                return Err(NotReady::Displaced);
            }
            if cur.sa_sigaction == on_fault as *const () as libc::sighandler_t {
                continue;
            }
            if cur.sa_sigaction != libc::SIG_DFL
                || libc::sigaction(sig, &ours(), std::ptr::null_mut()) != 0
            {
                return Err(NotReady::Displaced);
            }
        }
    }
    Ok(())
}

/// The `SIGBUS`/`SIGSEGV` handler.
///
/// Async-signal-safe: it reads the saved context, reads and writes this
/// thread's `ACTIVE` record (plain TLS loads and stores of a const-initialised
/// record without destructor), and otherwise calls only `sigaction`,
/// `sigprocmask`, `raise` and the previous handler.
extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: with SA_SIGINFO the kernel passes a valid ucontext_t.
    let ip = unsafe { pc(uc) };
    // SAFETY: the kernel passes a valid siginfo_t.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // A sent signal (si_code <= 0: kill, tgkill, sigqueue) is never ours,
    // wherever the thread happened to be.
    if code > 0 {
        let resume = ACTIVE.with(|a| {
            let inside = a.fault_ip.get() <= ip
                && ip < a.recover_ip.get()
                && a.lo.get() <= addr
                && addr < a.hi.get();
            if inside {
                a.signal.set(sig);
            }
            inside.then(|| a.recover_ip.get())
        });
        if let Some(resume) = resume {
            // SAFETY: as above; returning resumes at the copy's recovery
            // label with its count register = bytes not copied.
            unsafe { set_pc(uc, resume) };
            return;
        }
    }
    // SAFETY: we are the handler for `sig`, called with the kernel's arguments.
    unsafe { chain(sig, info, ctx) };
}

/// Hands a signal that is not ours to whoever had `sig` before us, as the
/// kernel would have delivered it: honouring SA_RESETHAND, SA_NODEFER,
/// SA_SIGINFO, the handler's `sa_mask`, SIG_IGN and SIG_DFL.
///
/// # Safety
/// - Must be called from the signal handler for `sig` with its arguments.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let (saved, spent) =
        if sig == libc::SIGBUS { (&PREV_BUS, &SPENT_BUS) } else { (&PREV_SEGV, &SPENT_SEGV) };
    // SAFETY: written before this handler was installed, never again.
    let prev = unsafe { (*saved.0.get()).assume_init_ref() };
    let one_shot = prev.sa_flags & libc::SA_RESETHAND != 0;
    // An atomic swap is async-signal-safe; a one-shot handler that has run
    // is SIG_DFL from then on.
    let handler = if one_shot && spent.swap(true, Ordering::SeqCst) {
        libc::SIG_DFL
    } else {
        prev.sa_sigaction
    };
    // Sent by kill(2), raise(3) or sigqueue(3) rather than by a fault.
    // SAFETY: `info` is valid (see on_fault).
    let sent = unsafe { (*info).si_code } <= 0;
    // SAFETY: all-zero with SIG_DFL is a valid sigaction.
    let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
    dfl.sa_sigaction = libc::SIG_DFL;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        if handler == libc::SIG_IGN && sent {
            return;
        }
        // The kernel cannot ignore a fault: default action, then either the
        // faulting instruction re-executes or the sent signal is re-raised.
        // SAFETY: sigaction and raise are async-signal-safe.
        unsafe {
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
            if sent {
                libc::raise(sig);
            }
        }
        return;
    }
    if one_shot {
        // The kernel resets a one-shot handler before running it; so do we,
        // or a handler that returns would be entered again forever.
        // SAFETY: async-signal-safe.
        unsafe { libc::sigaction(sig, &dfl, std::ptr::null_mut()) };
    }
    // The mask the kernel would have set: the current one (the interrupted
    // mask plus `sig`) plus the handler's `sa_mask`, less `sig` for
    // SA_NODEFER.
    // SAFETY: sigprocmask, sigaddset and sigdelset are async-signal-safe and
    // get valid sets.
    let old = unsafe {
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &prev.sa_mask, &mut old);
        let mut now: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, std::ptr::null(), &mut now);
        if prev.sa_flags & libc::SA_NODEFER != 0 {
            libc::sigdelset(&mut now, sig);
        } else {
            libc::sigaddset(&mut now, sig);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &now, std::ptr::null_mut());
        old
    };
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: SA_SIGINFO says the handler has this signature.
        let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(handler) };
        f(sig, info, ctx);
    } else {
        // SAFETY: without SA_SIGINFO the handler takes the signal number.
        let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
        f(sig);
    }
    // SAFETY: restores the mask saved above.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
}

/// `memcpy(dst, src, len)` where a fault on the mapped side (`src` when
/// `map_is_src`, else `dst`) stops the copy and is reported.
///
/// # Safety
/// - [`install`] must have succeeded and [`fast_path_ready`] said yes on
///   this thread (a blocked fault kills the process).
/// - `src..src+len` must be readable and `dst..dst+len` writable memory of
///   this process, except that pages of the mapped side may fault.
/// - No Rust reference may rely on the contents of `dst..dst+len` while the
///   copy runs.
pub(crate) unsafe fn copy(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    map_is_src: bool,
) -> Result<(), CopyError> {
    let lo = if map_is_src { src as usize } else { dst as usize };
    ACTIVE.with(|a| {
        // Saved and restored so that a guarded copy in a signal handler that
        // interrupts this one leaves it intact.
        let saved = (a.lo.get(), a.hi.get(), a.signal.get());
        a.lo.set(lo);
        a.hi.set(lo + len);
        a.signal.set(0);
        compiler_fence(Ordering::SeqCst);
        // SAFETY: the caller vouches for both ranges; faults on the mapped
        // side are redirected by `on_fault`, which is installed and not
        // blocked (the caller asked `fast_path_ready`).
        let left = unsafe { copy_asm(dst, src, len, map_is_src, a) };
        compiler_fence(Ordering::SeqCst);
        let signal = a.signal.get();
        a.lo.set(saved.0);
        a.hi.set(saved.1);
        a.signal.set(saved.2);
        if left == 0 {
            return Ok(());
        }
        let copied = len - left;
        if signal == libc::SIGSEGV {
            Err(CopyError::Segv { copied })
        } else {
            Err(CopyError::Bus { copied })
        }
    })
}
