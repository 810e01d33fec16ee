//! PHI detection for phigate: raw message bytes in, findings out.
#![deny(missing_docs)]
