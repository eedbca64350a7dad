//! Identities of twins and identity resolution.
