//! Regression tests for bugs the fuzzer found; each is named after what broke.

use xmmap::{page_size, ErrorKind, MapOptions};

/// validate on a shared anonymous map reached the kernel, which answered a
/// bare EINVAL ("the kernel rejected the arguments").
#[test]
fn validate_on_shared_anonymous_memory_is_refused_clearly() {
    for len in [0, page_size()] {
        let e = MapOptions::new().len(len).validate(true).map_anon_shared().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        assert!(e.to_string().contains("shared file maps only"), "{e}");
        assert_eq!(e.raw_os_error(), None, "refused before the system call: {e}");
    }
}

/// grows_down on a shared anonymous map reached the kernel, which answered a
/// bare EINVAL.
#[test]
fn grows_down_on_shared_anonymous_memory_is_refused_clearly() {
    let e = MapOptions::new().len(page_size()).grows_down(true).map_anon_shared().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("private anonymous maps only"), "{e}");
    assert_eq!(e.raw_os_error(), None, "refused before the system call: {e}");
    let m = MapOptions::new().len(page_size()).grows_down(true).map_anon().unwrap();
    assert_eq!(m[0], 0);
}
