//! x86_64: a `rep movsb` copy whose faults a signal handler redirects.
//!
//! The copy routine is four instructions of assembly. The handler claims a
//! `SIGBUS` or `SIGSEGV` only when all of these hold:
//!
//! 1. the interrupted instruction pointer is the routine's `rep movsb`;
//! 2. this thread's guard record says it is inside a guarded copy;
//! 3. the faulting address (`si_addr`) lies in the mapped range that copy
//!    registered.
//!
//! It then records the signal and moves the instruction pointer to the
//! recovery label; `rcx` still holds the bytes not copied, which the routine
//! returns. Every other fault goes to the handler that was installed before
//! ours (Rust's stack-overflow handler, a sanitizer, the application's), or,
//! when that was the default action or "ignore", restores the default and
//! lets the fault happen again, so the process dies of the original signal
//! exactly as it would have without xmmap.

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};
use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{compiler_fence, Ordering};
use std::sync::OnceLock;

use super::CopyError;

// rdi = dst, rsi = src, rdx = len; returns in rax the bytes not copied. The
// System V ABI guarantees the direction flag is clear on entry. The labels
// are global (hidden) so that Rust can take their addresses.
core::arch::global_asm!(
    ".pushsection .text.xmmap_guard_copy_v1,\"ax\",@progbits",
    ".p2align 4",
    ".globl xmmap_guard_copy_v1",
    ".hidden xmmap_guard_copy_v1",
    ".type xmmap_guard_copy_v1,@function",
    "xmmap_guard_copy_v1:",
    "    mov rcx, rdx",
    ".globl xmmap_guard_copy_v1_fault",
    ".hidden xmmap_guard_copy_v1_fault",
    "xmmap_guard_copy_v1_fault:",
    "    rep movsb",
    ".globl xmmap_guard_copy_v1_recover",
    ".hidden xmmap_guard_copy_v1_recover",
    "xmmap_guard_copy_v1_recover:",
    "    mov rax, rcx",
    "    ret",
    ".size xmmap_guard_copy_v1, .-xmmap_guard_copy_v1",
    ".popsection",
);

extern "C" {
    fn xmmap_guard_copy_v1(dst: *mut u8, src: *const u8, len: usize) -> usize;
    static xmmap_guard_copy_v1_fault: u8;
    static xmmap_guard_copy_v1_recover: u8;
}

fn fault_ip() -> usize {
    // Only the address of the label is taken, never its contents.
    std::ptr::addr_of!(xmmap_guard_copy_v1_fault) as usize
}

fn recover_ip() -> usize {
    std::ptr::addr_of!(xmmap_guard_copy_v1_recover) as usize
}

/// What this thread's guarded copy watches, and what the handler saw.
struct Active {
    /// Mapped range of the copy in progress; `lo == hi` when none.
    lo: Cell<usize>,
    hi: Cell<usize>,
    /// The signal the handler claimed, 0 if none.
    signal: Cell<c_int>,
}

thread_local! {
    // Const-initialised and without a destructor: access is a plain
    // thread-pointer-relative load, with no lazy registration, so the signal
    // handler may touch it.
    static ACTIVE: Active = const {
        Active { lo: Cell::new(0), hi: Cell::new(0), signal: Cell::new(0) }
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
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

pub(super) fn install() -> io::Result<()> {
    // SAFETY: runs once; see `install_once`.
    match INSTALLED.get_or_init(|| unsafe { install_once() }) {
        Ok(()) => Ok(()),
        Err(code) => Err(io::Error::from_raw_os_error(*code)),
    }
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
            return Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL));
        }
        // SAFETY: all-zero is a valid `sigaction` (empty mask, no flags).
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = on_fault as *const () as libc::sighandler_t;
        // SA_ONSTACK: a stack overflow must still reach Rust's handler on the
        // alternate stack. No SA_NODEFER: a fault inside the handler must not
        // recurse.
        new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // SAFETY: `new` is a valid sigaction and `on_fault` has the
        // SA_SIGINFO signature.
        if unsafe { libc::sigaction(sig, &new, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL));
        }
    }
    Ok(())
}

/// The `SIGBUS`/`SIGSEGV` handler.
///
/// Async-signal-safe: it reads the saved context, reads and writes this
/// thread's `ACTIVE` record (plain TLS loads and stores), and otherwise calls
/// only `sigaction`, `raise` and the previous handler.
extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: with SA_SIGINFO the kernel passes a valid ucontext_t.
    let ip = unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] } as usize;
    // The instruction pointer is checked first: only a thread that is inside
    // the copy can be there, and that thread has already touched `ACTIVE`.
    if ip == fault_ip() {
        // SAFETY: the kernel passes a valid siginfo_t for SIGBUS/SIGSEGV.
        let addr = unsafe { (*info).si_addr() } as usize;
        let claimed = ACTIVE.with(|a| {
            let inside = a.lo.get() <= addr && addr < a.hi.get();
            if inside {
                a.signal.set(sig);
            }
            inside
        });
        if claimed {
            // SAFETY: as above; returning resumes at the recovery label with
            // rcx = bytes not copied.
            unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] = recover_ip() as i64 };
            return;
        }
    }
    // SAFETY: we are the handler for `sig`, called with the kernel's arguments.
    unsafe { chain(sig, info, ctx) };
}

/// Hands a fault that is not ours to whoever had `sig` before us.
///
/// # Safety
/// - Must be called from the signal handler for `sig` with its arguments.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let saved = if sig == libc::SIGBUS { &PREV_BUS } else { &PREV_SEGV };
    // SAFETY: written before this handler was installed, never again.
    let prev = unsafe { (*saved.0.get()).assume_init_ref() };
    let handler = prev.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: `info` is valid (see on_fault).
        let sent = unsafe { (*info).si_code } <= 0; // kill(2), raise(3), sigqueue(3)
        if handler == libc::SIG_IGN && sent {
            return;
        }
        // The kernel cannot ignore a fault: default action, then either the
        // faulting instruction re-executes or the sent signal is re-raised.
        // SAFETY: all-zero with SIG_DFL is a valid sigaction.
        let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
        dfl.sa_sigaction = libc::SIG_DFL;
        // SAFETY: sigaction and raise are async-signal-safe.
        unsafe {
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
            if sent {
                libc::raise(sig);
            }
        }
        return;
    }
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
}

/// # Safety
/// - As [`super::guarded_copy`].
pub(super) unsafe fn copy(
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
        // side are redirected by `on_fault`, which the caller installed.
        let left = unsafe { xmmap_guard_copy_v1(dst, src, len) };
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
