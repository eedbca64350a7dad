//! Identity visibility: which identities of a twin a caller may see (spec §2.7, §2.18).
