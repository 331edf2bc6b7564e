//! What fouro keeps on disk about tasks.

pub mod journal;
