//! [`FlatMap`]: a map from small keys (codes, review items) to small values for the
//! converter's per-cell look-ups, which can be asked to fetch a key's slot into the cache ahead
//! of the look-up. A row's code cells are looked up one after another with much work between
//! them; fetching every slot of the row first lets the memory fetches overlap instead of
//! stalling the converter once per cell.

use crate::code::{Code, System};

/// A key of a [`FlatMap`]: copied, compared, hashed to 64 bits, with one value that marks an
/// empty slot (never a key).
pub(crate) trait FlatKey: Copy + Eq {
    /// The value of an empty slot.
    const EMPTY: Self;
    /// A hash of the key (spread by the map: it need not be random in its top bits).
    fn hash64(&self) -> u64;
}

impl FlatKey for Code {
    const EMPTY: Code = Code::NONE;
    #[inline]
    fn hash64(&self) -> u64 {
        self.packed()
    }
}

impl FlatKey for (System, Code) {
    const EMPTY: (System, Code) = (System::Icd9Dx, Code::NONE);
    #[inline]
    fn hash64(&self) -> u64 {
        self.1.packed() ^ (self.0.index() as u64).rotate_right(2)
    }
}

/// Open addressing with linear probing over `(key, value)` slots, at most three quarters full.
pub(crate) struct FlatMap<K, V> {
    slots: Vec<(K, V)>,
    /// `slots.len()` is `1 << bits` (or 0).
    bits: u32,
    len: usize,
}

impl<K: FlatKey, V: Copy + Default> Default for FlatMap<K, V> {
    fn default() -> Self {
        FlatMap {
            slots: Vec::new(),
            bits: 0,
            len: 0,
        }
    }
}

impl<K: FlatKey, V: Copy + Default> FlatMap<K, V> {
    /// The first slot to probe for `key` (Fibonacci hashing: the top bits of the product).
    #[inline]
    fn home(&self, key: &K) -> usize {
        (key.hash64().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
    }

    /// The slot holding `key`, or the empty one where it would go (the map has slots).
    #[inline]
    fn find(&self, key: &K) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = &self.slots[i].0;
            if slot == key || *slot == K::EMPTY {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The value of `key`, if it has one.
    #[inline]
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let slot = &self.slots[self.find(key)];
        (slot.0 == *key).then_some(&slot.1)
    }

    /// The value of `key`, if it has one, to change.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let i = self.find(key);
        let slot = &mut self.slots[i];
        (slot.0 == *key).then_some(&mut slot.1)
    }

    /// The value of `key`, given the default value first if it has none; and whether it had.
    #[inline]
    pub(crate) fn entry(&mut self, key: K) -> (&mut V, bool) {
        debug_assert!(key != K::EMPTY, "the empty slot's key is no key");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let i = self.find(&key);
        let had = self.slots[i].0 == key;
        if !had {
            self.slots[i] = (key, V::default());
            self.len += 1;
        }
        (&mut self.slots[i].1, had)
    }

    /// Give `key` the value `value`.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        *self.entry(key).0 = value;
    }

    /// How many keys have values.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Forget every key (keeping the slots).
    pub(crate) fn clear(&mut self) {
        self.slots.fill((K::EMPTY, V::default()));
        self.len = 0;
    }

    /// The keys and their values, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots
            .iter()
            .filter(|s| s.0 != K::EMPTY)
            .map(|(k, v)| (k, v))
    }

    /// Ask the processor to bring the slot `key` would be looked up in into the cache.
    #[inline]
    pub(crate) fn prefetch(&self, key: &K) {
        if self.len == 0 {
            return;
        }
        let slot = &self.slots[self.home(key)];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint: it reads nothing the program sees, and `slot` is a
        // valid reference.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>((slot as *const (K, V)).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    fn grow(&mut self) {
        let bits = (self.bits + 1).max(6);
        let empty = (K::EMPTY, V::default());
        let old = std::mem::replace(&mut self.slots, vec![empty; 1 << bits]);
        self.bits = bits;
        for (key, value) in old.into_iter().filter(|s| s.0 != K::EMPTY) {
            let i = self.find(&key);
            self.slots[i] = (key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_put_in_through_growth() {
        let mut map = FlatMap::<Code, u32>::default();
        let codes: Vec<Code> = (0..5000u32)
            .map(|n| Code::parse_str(System::Icd9Dx, &format!("{:03}.{}", n / 10, n % 10)).unwrap())
            .collect();
        assert!(map.get(&codes[0]).is_none());
        for (n, code) in codes.iter().enumerate().step_by(2) {
            map.insert(*code, n as u32);
        }
        for (n, code) in codes.iter().enumerate() {
            map.prefetch(code);
            assert_eq!(
                map.get(code).copied(),
                (n % 2 == 0).then_some(n as u32),
                "{n}"
            );
        }
        map.insert(codes[0], 7);
        *map.get_mut(&codes[2]).unwrap() += 1;
        assert_eq!(map.get(&codes[0]), Some(&7));
        assert_eq!(map.get(&codes[2]), Some(&3));
        assert_eq!(map.entry(codes[1]), (&mut 0, false));
        assert_eq!(map.entry(codes[1]), (&mut 0, true));
        assert_eq!(map.len(), 2501);
        let mut keys: Vec<Code> = map.iter().map(|(k, _)| *k).collect();
        keys.sort();
        let mut expected: Vec<Code> = codes.iter().step_by(2).copied().collect();
        expected.push(codes[1]);
        expected.sort();
        assert_eq!(keys, expected);
        map.clear();
        assert!(map.get(&codes[0]).is_none() && map.iter().next().is_none());
        map.insert(codes[0], 1);
        assert_eq!(map.get(&codes[0]), Some(&1));
    }
}
