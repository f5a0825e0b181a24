//! `xmmap residency` where it cannot run: the command walks Unix file
//! trees and asks `mincore`/`cachestat` about the page cache, which Windows
//! does not report (see the README's platform table). The arguments are
//! taken as they come and the command fails, naming why.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Result;

use crate::Globals;

/// Arguments of `xmmap residency` (not interpreted on this platform).
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Whatever `xmmap residency` takes on Unix.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

pub(crate) fn run(_args: &Args, _globals: &Globals) -> Result<ExitCode> {
    anyhow::bail!(
        "xmmap residency runs on Unix only: this platform does not report which pages of a file \
         are in its cache (no mincore or cachestat)"
    )
}
