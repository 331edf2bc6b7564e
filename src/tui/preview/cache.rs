//! Fitted previews kept for when they are asked for again (or were fetched ahead): the
//! least recently used go first, and what is kept is bounded by its bytes, not by a count,
//! since a preview weighs from a few kilobytes (half blocks in a pane) to megabytes (a
//! full-screen kitty image).
//!
//! A saved image is written once under a name of its own (the task id and the image's index),
//! so its path and the cells it is fitted to name the preview: nothing on disk is read to
//! find one.

use std::path::PathBuf;

use lru::LruCache;

use super::Payload;
use crate::tui::action::Fitted;

/// How many bytes of previews are kept: a few dozen full-screen images, hundreds in a pane.
pub const LIMIT: usize = 16 * 1024 * 1024;

/// What names a preview: the file, and the box of cells it was fitted to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub path: PathBuf,
    pub cells: (u16, u16),
}

/// Fitted previews, least recently used first out, at most `limit` bytes.
#[derive(Debug)]
pub struct Cache {
    entries: LruCache<Key, (Fitted, usize)>,
    bytes: usize,
    limit: usize,
}

impl Cache {
    pub fn new(limit: usize) -> Cache {
        Cache {
            entries: LruCache::unbounded(),
            bytes: 0,
            limit,
        }
    }

    /// The preview, now the most recently used.
    pub fn get(&mut self, key: &Key) -> Option<Fitted> {
        self.entries.get(key).map(|(f, _)| f.clone())
    }

    /// Whether the preview is kept (its place in the order unchanged).
    pub fn contains(&self, key: &Key) -> bool {
        self.entries.contains(key)
    }

    /// Keeps a preview, dropping the least recently used until the whole fits. One larger
    /// than the limit on its own is not kept.
    pub fn insert(&mut self, key: Key, fitted: Fitted) {
        let size = weight(&key, &fitted);
        if let Some((_, old)) = self.entries.pop(&key) {
            self.bytes -= old;
        }
        if size > self.limit {
            return;
        }
        while self.bytes + size > self.limit {
            match self.entries.pop_lru() {
                Some((_, (_, dropped))) => self.bytes -= dropped,
                None => break,
            }
        }
        self.bytes += size;
        self.entries.put(key, (fitted, size));
    }

    /// The bytes kept (the images' and a little for each entry's bookkeeping).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What a kept preview costs in memory: its pixels or bytes, its path, and the entry itself.
pub fn weight(key: &Key, fitted: &Fitted) -> usize {
    let body = match &*fitted.payload {
        Payload::Viuer(image) => image.as_bytes().len(),
        Payload::Kitty { transmit, .. } | Payload::KittyCells { transmit, .. } => transmit.len(),
        Payload::Bytes(bytes) => bytes.len(),
    };
    body + key.path.as_os_str().len() + 128
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn key(name: &str) -> Key {
        Key {
            path: PathBuf::from(name),
            cells: (80, 40),
        }
    }

    fn fitted(bytes: usize) -> Fitted {
        Fitted {
            cells: (80, 40),
            source_dims: (1536, 1024),
            payload: Arc::new(Payload::Bytes(vec![0; bytes])),
        }
    }

    #[test]
    fn the_bytes_kept_never_pass_the_limit() {
        let mut cache = Cache::new(10_000);
        for i in 0..200 {
            // 1,000 to 3,000 bytes each, and the odd one too large to keep at all.
            let size = if i % 50 == 7 {
                20_000
            } else {
                1_000 + (i * 37) % 2_000
            };
            cache.insert(key(&format!("{i}.png")), fitted(size));
            assert!(cache.bytes() <= 10_000, "{} after {i}", cache.bytes());
            let sum: usize = cache.entries.iter().map(|(_, (_, w))| w).sum();
            assert_eq!(sum, cache.bytes(), "the count matches what is kept");
        }
        assert!(cache.len() >= 3, "{}", cache.len());
        assert!(!cache.contains(&key("7.png")), "too large to keep");
        // Put again, an entry counts once.
        let mut cache = Cache::new(10_000);
        cache.insert(key("a"), fitted(4_000));
        cache.insert(key("a"), fitted(3_000));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), weight(&key("a"), &fitted(3_000)));
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let one = weight(&key("a"), &fitted(1_000));
        let mut cache = Cache::new(3 * one);
        for name in ["a", "b", "c"] {
            cache.insert(key(name), fitted(1_000));
        }
        // Seen again, "a" is the newest; "contains" does not count as a use.
        assert!(cache.get(&key("a")).is_some());
        assert!(cache.contains(&key("b")));
        cache.insert(key("d"), fitted(1_000));
        assert!(!cache.contains(&key("b")), "b was the least recently used");
        for name in ["a", "c", "d"] {
            assert!(cache.contains(&key(name)), "{name}");
        }
        // One twice as large makes room for itself by the two oldest.
        cache.insert(key("e"), fitted(2_000));
        assert!(!cache.contains(&key("c")) && !cache.contains(&key("a")));
        assert!(cache.contains(&key("d")) && cache.contains(&key("e")));
        assert!(cache.bytes() <= 3 * one);
        // Another size is another preview.
        let other = Key {
            cells: (40, 20),
            ..key("d")
        };
        assert!(cache.get(&other).is_none());
    }
}
