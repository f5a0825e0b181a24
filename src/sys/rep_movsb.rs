//! x86_64's guarded copy, one `asm!` block shared by the signal guard
//! (`sys::fault`, Linux, macOS, FreeBSD) and the Windows vectored-exception
//! guard (`sys::windows::guard`): both recognise a fault of theirs by the
//! instruction address this block records, and resume after it.

/// `rep movsb` with `rcx` = `len`; returns the bytes not copied.
///
/// The labels are local to the `asm!` block, so no symbol is emitted and two
/// versions of this crate link into one binary. Before copying, the block
/// stores the address of its `rep movsb` in `*fault_ip` and that of the
/// instruction after it in `*recover_ip`: a fault handler that finds the
/// faulting instruction at `*fault_ip` resumes at `*recover_ip` with `rcx`
/// still counting the bytes not copied. Rust guarantees the direction flag is
/// clear on entry.
///
/// # Safety
/// - `src..src+len` must be readable and `dst..dst+len` writable memory of
///   this process, except that pages of the mapped side may fault, and only
///   while a handler that resumes at `*recover_ip` is installed.
/// - `fault_ip` and `recover_ip` must be valid for writes for the whole copy
///   (the calling thread's record).
#[inline(never)]
pub(super) unsafe fn copy(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    fault_ip: *mut usize,
    recover_ip: *mut usize,
) -> usize {
    let left: usize;
    // SAFETY: the caller vouches for both ranges and both cells.
    unsafe {
        core::arch::asm!(
            "lea {t}, [rip + 2f]",
            "mov qword ptr [{f}], {t}",
            "lea {t}, [rip + 3f]",
            "mov qword ptr [{r}], {t}",
            "2:",
            "rep movsb",
            "3:",
            t = out(reg) _,
            f = in(reg) fault_ip,
            r = in(reg) recover_ip,
            inout("rcx") len => left,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack),
        );
    }
    left
}
