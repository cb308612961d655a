//! argus-local.
