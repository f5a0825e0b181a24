//! Guarded copies on Windows: a copy loop whose faults a vectored exception
//! handler redirects, as the Linux x86_64 guard does with its signal
//! handler.
//!
//! The copy is one `asm!` block with local labels only (no symbol, so two
//! versions of xmmap link together): `rep movsb` on x86_64, a byte loop on
//! aarch64. Before copying, the block stores the addresses of its faulting
//! instruction(s) and of its recovery point in this thread's record. The
//! handler claims an exception only when all of these hold:
//!
//! 1. it is `EXCEPTION_IN_PAGE_ERROR` (the view's backing could not be read:
//!    a network file gone, a disk error) or `EXCEPTION_ACCESS_VIOLATION` (a
//!    protection that forbids the access);
//! 2. the exception address is a faulting instruction this thread's copy
//!    recorded;
//! 3. the address the access was made to lies in the mapped range that copy
//!    registered.
//!
//! It then records the exception, moves the instruction pointer to the
//! recovery label and continues execution; the count register still holds
//! the bytes not copied, which the routine returns. Every other exception
//! continues the search, so the handlers after ours (and structured
//! exception handling, and the default of terminating the process) see it
//! exactly as without xmmap: a vectored handler needs no chaining.
//!
//! `CopyError::Bus` is `EXCEPTION_IN_PAGE_ERROR` (the page could not be read
//! in), `CopyError::Segv` an access violation; `Os` is not produced here.

use std::cell::Cell;
use std::io;
use std::sync::atomic::{compiler_fence, Ordering};
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{EXCEPTION_ACCESS_VIOLATION, EXCEPTION_IN_PAGE_ERROR};

use crate::sys::CopyError;
use windows_sys::Win32::System::Diagnostics::Debug::{
    AddVectoredExceptionHandler, EXCEPTION_CONTINUE_EXECUTION, EXCEPTION_CONTINUE_SEARCH,
    EXCEPTION_POINTERS,
};

/// What this thread's guarded copy watches, and what the handler saw.
struct Active {
    /// Mapped range of the copy in progress; `lo == hi` when none.
    lo: Cell<usize>,
    hi: Cell<usize>,
    /// The exception code the handler claimed, 0 if none.
    code: Cell<i32>,
    /// Addresses of the copy's faulting instructions (the load and, on
    /// aarch64, the store; x86_64 has one `rep movsb`) and of its recovery
    /// point, stored by the copy itself before it starts.
    fault_ip: [Cell<usize>; 2],
    recover_ip: Cell<usize>,
}

thread_local! {
    // Const-initialised and without a destructor: access is a plain
    // TLS-relative load, with no lazy registration, so the handler (which
    // runs on the faulting thread) may touch it.
    static ACTIVE: Active = const {
        Active {
            lo: Cell::new(0),
            hi: Cell::new(0),
            code: Cell::new(0),
            fault_ip: [Cell::new(0), Cell::new(0)],
            recover_ip: Cell::new(0),
        }
    };
}

static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

/// Nothing to skip: the vectored handler sees every fault of every thread,
/// whatever else the process installs, so a guarded copy asks the kernel
/// nothing first.
///
/// # Safety
/// - None beyond the caller's: kept for the interface every backend gives.
pub(crate) unsafe fn guard_assume_signals_untouched() {}

/// Whether a guarded copy makes a system call before copying: never here.
pub(crate) fn guarded_copy_makes_syscalls() -> bool {
    false
}

/// Adds the vectored exception handler once per process, first in the
/// list (lazily; later calls are an atomic load).
///
/// # References
/// - [AddVectoredExceptionHandler](https://learn.microsoft.com/en-us/windows/win32/api/errhandlingapi/nf-errhandlingapi-addvectoredexceptionhandler)
pub(crate) fn guard_install() -> io::Result<()> {
    let r = INSTALLED.get_or_init(|| {
        // SAFETY: `on_exception` has the PVECTORED_EXCEPTION_HANDLER
        // signature and lives for the whole process; it is never removed.
        let h = unsafe { AddVectoredExceptionHandler(1, Some(on_exception)) };
        if h.is_null() {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(())
        }
    });
    match r {
        Ok(()) => Ok(()),
        Err(code) => Err(io::Error::from_raw_os_error(*code)),
    }
}

/// The vectored exception handler: claims a fault of this thread's guarded
/// copy and resumes it at its recovery label; continues the search for
/// everything else.
///
/// It reads the exception record and this thread's `ACTIVE` record and
/// writes the context's instruction pointer; it allocates nothing and takes
/// no lock, so it is safe in whatever state the faulting code left.
unsafe extern "system" fn on_exception(info: *mut EXCEPTION_POINTERS) -> i32 {
    // SAFETY: the system passes valid exception and context records.
    let (rec, ctx) = unsafe { (&*(*info).ExceptionRecord, &mut *(*info).ContextRecord) };
    let code = rec.ExceptionCode;
    if (code != EXCEPTION_IN_PAGE_ERROR && code != EXCEPTION_ACCESS_VIOLATION)
        || rec.NumberParameters < 2
    {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    // For both codes, ExceptionInformation[1] is the address accessed.
    let (ip, addr) = (rec.ExceptionAddress as usize, rec.ExceptionInformation[1]);
    let resume = ACTIVE.with(|a| {
        let ours = ip != 0
            && a.fault_ip.iter().any(|f| f.get() == ip)
            && a.lo.get() <= addr
            && addr < a.hi.get();
        if ours {
            a.code.set(code);
        }
        ours.then(|| a.recover_ip.get())
    });
    match resume {
        Some(resume) => {
            #[cfg(target_arch = "x86_64")]
            {
                ctx.Rip = resume as u64;
            }
            #[cfg(target_arch = "aarch64")]
            {
                ctx.Pc = resume as u64;
            }
            EXCEPTION_CONTINUE_EXECUTION
        }
        None => EXCEPTION_CONTINUE_SEARCH,
    }
}

/// The copy: the shared recording `rep movsb` (`sys::rep_movsb`), with this
/// thread's record; returns the bytes not copied.
///
/// # Safety
/// - As [`guarded_copy`], and `a` must be this thread's `ACTIVE`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize, a: &Active) -> usize {
    // SAFETY: the caller vouches for both ranges; the two cells are this
    // thread's record, which outlives the copy.
    unsafe {
        crate::sys::rep_movsb::copy(dst, src, len, a.fault_ip[0].as_ptr(), a.recover_ip.as_ptr())
    }
}

/// The copy: a byte loop with `x2` = bytes left; a fault at the load (`2:`)
/// or the store (`3:`) resumes at `5:` with `x2` still counting the byte
/// that faulted. Returns the bytes not copied.
///
/// # Safety
/// - As [`guarded_copy`], and `a` must be this thread's `ACTIVE`.
#[cfg(target_arch = "aarch64")]
#[inline(never)]
unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize, a: &Active) -> usize {
    let left: usize;
    // SAFETY: the caller vouches for both ranges; the three stores go to
    // this thread's record, which outlives the block.
    unsafe {
        core::arch::asm!(
            "adr {t}, 2f",
            "str {t}, [{f0}]",
            "adr {t}, 3f",
            "str {t}, [{f1}]",
            "adr {t}, 5f",
            "str {t}, [{r}]",
            "cbz x2, 5f",
            "2:",
            "ldrb {b:w}, [x1]",
            "3:",
            "strb {b:w}, [x0]",
            "add x1, x1, #1",
            "add x0, x0, #1",
            "subs x2, x2, #1",
            "b.ne 2b",
            "5:",
            t = out(reg) _,
            b = out(reg) _,
            f0 = in(reg) a.fault_ip[0].as_ptr(),
            f1 = in(reg) a.fault_ip[1].as_ptr(),
            r = in(reg) a.recover_ip.as_ptr(),
            inout("x2") len => left,
            inout("x0") dst => _,
            inout("x1") src => _,
            options(nostack),
        );
    }
    left
}

/// `memcpy(dst, src, len)` where a fault on the mapped side (`src` when
/// `map_is_src`, else `dst`) stops the copy and is reported, not raised.
///
/// # References
/// - [Vectored exception handling](https://learn.microsoft.com/en-us/windows/win32/debug/vectored-exception-handling)
///
/// # Safety
/// - [`guard_install`] must have succeeded.
/// - `src..src+len` must be readable and `dst..dst+len` writable memory of
///   this process, except that pages of the mapped side may fault.
/// - No Rust reference may rely on the contents of `dst..dst+len` while the
///   copy runs (the destination is written outside Rust's knowledge).
pub(crate) unsafe fn guarded_copy(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    map_is_src: bool,
) -> Result<(), CopyError> {
    let lo = if map_is_src { src as usize } else { dst as usize };
    ACTIVE.with(|a| {
        // Saved and restored so that a guarded copy nested in this one (from
        // an exception filter, say) leaves it intact.
        let saved = (a.lo.get(), a.hi.get(), a.code.get());
        a.lo.set(lo);
        a.hi.set(lo + len);
        a.code.set(0);
        compiler_fence(Ordering::SeqCst);
        // SAFETY: the caller vouches for both ranges; faults on the mapped
        // side are redirected by `on_exception`, which is installed.
        let left = unsafe { copy_bytes(dst, src, len, a) };
        compiler_fence(Ordering::SeqCst);
        let code = a.code.get();
        a.lo.set(saved.0);
        a.hi.set(saved.1);
        a.code.set(saved.2);
        if left == 0 {
            return Ok(());
        }
        let copied = len - left;
        if code == EXCEPTION_ACCESS_VIOLATION {
            Err(CopyError::Segv { copied })
        } else {
            Err(CopyError::Bus { copied })
        }
    })
}
