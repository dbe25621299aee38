//! RFC 6962 / RFC 9162 Merkle tree hashes, inclusion and consistency proofs.
//!
//! The tree over leaf hashes `D[0..n)` is the RFC 6962 §2.1 Merkle Tree Hash
//! (`MTH`): the empty tree hashes to `SHA-256("")`, one leaf to its leaf hash,
//! and a larger tree to `node_hash(MTH(D[0..k)), MTH(D[k..n)))` where `k` is
//! the largest power of two strictly below `n`.
//!
//! Three ways to obtain hashes are provided:
//!
//! - [`tree_hash`], [`inclusion_proof`], [`consistency_proof`]: the recursive
//!   definitions over a slice of leaf hashes held in memory (reference code,
//!   used by tests and small tools).
//! - [`TreeBuilder`]: streaming append with `O(log n)` memory; each
//!   [`TreeBuilder::push`] exposes the hashes that the new leaf completes,
//!   which is what a log writer stores and packs into tiles.
//! - [`HashReader`] with [`tree_hash_from_reader`], [`prove_inclusion`] and
//!   [`prove_consistency`]: proofs computed from *stored hashes*, addressed
//!   by the dense index of [`stored_hash_index`] (the layout of Go's
//!   `golang.org/x/mod/sumdb/tlog`, after Crosby and Wallach).
//!
//! Verification ([`verify_inclusion`], [`verify_consistency`]) follows RFC 9162
//! §2.1.3.2 and §2.1.4.2 and first checks the exact proof length that the
//! sizes imply, so that a malformed proof is named as such.

use crate::hash::{Hash, node_hash};
use crate::limits::{MAX_PROOF_HASHES, MAX_TREE_SIZE};

/// Why a proof was rejected by [`verify_inclusion`] or [`verify_consistency`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index must be below the tree size (so no leaf is in an empty tree).
    #[error("leaf index {index} is not below tree size {tree_size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// A proof longer than [`MAX_PROOF_HASHES`] is rejected before any hashing.
    #[error("proof has {got} hashes, more than the cap of {MAX_PROOF_HASHES}")]
    ProofTooLong {
        /// Number of hashes supplied.
        got: usize,
    },
    /// The tree sizes fix the exact number of hashes in the proof.
    #[error("proof has {got} hashes, the sizes require exactly {expected}")]
    WrongProofLength {
        /// Number of hashes the sizes require.
        expected: usize,
        /// Number of hashes supplied.
        got: usize,
    },
    /// The root recomputed from the proof differs from the trusted root.
    #[error("recomputed root does not match the expected root")]
    RootMismatch,
    /// Consistency: the old tree size must not exceed the new tree size.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeAboveNewSize {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// Consistency: trees of equal size are consistent only if their roots are equal.
    #[error("trees of equal size have different roots")]
    EqualSizesDifferentRoots,
    /// Consistency: the root of a tree of size 0 must be the empty-tree hash.
    #[error("the root of the empty tree must be SHA-256 of the empty string")]
    EmptyTreeRootMismatch,
    /// Consistency: the old root recomputed from the proof differs from the old root.
    #[error("recomputed old root does not match the old root")]
    OldRootMismatch,
    /// Consistency: the new root recomputed from the proof differs from the new root.
    #[error("recomputed new root does not match the new root")]
    NewRootMismatch,
    /// Tree sizes above [`MAX_TREE_SIZE`] are rejected before any hashing.
    #[error("tree size {tree_size} is above the maximum of {MAX_TREE_SIZE}")]
    TreeTooLarge {
        /// The offending tree size.
        tree_size: u64,
    },
}

impl ProofError {
    /// A stable, kebab-case code for the error (test vectors, JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::IndexOutOfRange { .. } => "index-out-of-range",
            ProofError::ProofTooLong { .. } => "proof-too-long",
            ProofError::WrongProofLength { .. } => "wrong-proof-length",
            ProofError::RootMismatch => "root-mismatch",
            ProofError::OldSizeAboveNewSize { .. } => "old-size-above-new-size",
            ProofError::EqualSizesDifferentRoots => "equal-sizes-different-roots",
            ProofError::EmptyTreeRootMismatch => "empty-tree-root-mismatch",
            ProofError::OldRootMismatch => "old-root-mismatch",
            ProofError::NewRootMismatch => "new-root-mismatch",
            ProofError::TreeTooLarge { .. } => "tree-too-large",
        }
    }
}

/// Errors from computing hashes or proofs through a [`HashReader`], or from
/// a [`TreeBuilder`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError<E: core::error::Error + 'static> {
    /// A leaf index must be below the tree size.
    #[error("leaf index {index} is not below tree size {tree_size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// A consistency proof needs `0 < old_size <= new_size`.
    #[error("no consistency proof from size {old_size} to size {new_size}")]
    InvalidSizes {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// Tree sizes above [`MAX_TREE_SIZE`] are not supported.
    #[error("tree size {0} is above the supported maximum")]
    TreeTooLarge(u64),
    /// The reader must return exactly one hash per requested index.
    #[error("hash reader returned {got} hashes for {requested} indexes")]
    WrongHashCount {
        /// Number of indexes requested.
        requested: usize,
        /// Number of hashes returned.
        got: usize,
    },
    /// The subtree roots given to [`TreeBuilder::from_subtree_roots`] must
    /// number exactly the set bits of the size.
    #[error("a tree of size {size} has {expected} complete subtrees, got {got}")]
    WrongSubtreeCount {
        /// The tree size.
        size: u64,
        /// Number of subtree roots the size requires.
        expected: usize,
        /// Number supplied.
        got: usize,
    },
    /// The hash reader failed.
    #[error("reading stored hashes: {0}")]
    Read(#[source] E),
}

/// Never produced: the error type of operations that cannot fail to read.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("infallible")]
pub enum Never {}

/// Reads stored hashes by their [`stored_hash_index`].
///
/// An implementation must return exactly one hash per requested index, in
/// the requested order, or an error.
pub trait HashReader {
    /// The error of a failed read.
    type Error: core::error::Error + 'static;

    /// Returns the hashes stored at `indexes`, in order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

/// A stored hash index that is not in the slice.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("stored hash index {0} is not stored")]
pub struct NotStored(pub u64);

/// A slice holds the stored hashes of a tree in [`stored_hash_index`] order.
impl HashReader for [Hash] {
    type Error = NotStored;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, NotStored> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|u| self.get(u))
                    .copied()
                    .ok_or(NotStored(i))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    type Error = NotStored;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, NotStored> {
        self.as_slice().read_hashes(indexes)
    }
}

/// The largest power of two strictly below `n` (`n >= 2`), the RFC 6962 split point.
fn split_point(n: u64) -> u64 {
    // n >= 2, so n - 1 >= 1 and the shift is at most 63.
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The largest power of two at most `n` (`n >= 1`) and its base-2 logarithm.
fn floor_pow2(n: u64) -> (u64, u32) {
    let l = 63 - n.leading_zeros();
    (1u64 << l, l)
}

/// RFC 6962 §2.1 Merkle Tree Hash of a list of leaf hashes (recursive
/// reference definition; [`Hash::EMPTY_TREE`] for no leaves).
pub fn tree_hash(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => Hash::EMPTY_TREE,
        [one] => *one,
        _ => {
            let k = split_point(leaf_hashes.len() as u64) as usize;
            node_hash(&tree_hash(&leaf_hashes[..k]), &tree_hash(&leaf_hashes[k..]))
        }
    }
}

/// RFC 6962 §2.1.1 audit path `PATH(index, D[n])` over leaf hashes held in
/// memory; `None` if `index` is not below the number of leaves.
pub fn inclusion_proof(leaf_hashes: &[Hash], index: u64) -> Option<Vec<Hash>> {
    let index = usize::try_from(index).ok()?;
    if index >= leaf_hashes.len() {
        return None;
    }
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split_point(d.len() as u64) as usize;
        if m < k {
            path(m, &d[..k], out);
            out.push(tree_hash(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(tree_hash(&d[..k]));
        }
    }
    let mut out = Vec::new();
    path(index, leaf_hashes, &mut out);
    Some(out)
}

/// RFC 6962 §2.1.2 consistency proof `PROOF(m, D[n])` from the tree of the
/// first `old_size` leaf hashes to the tree of all of them; `None` unless
/// `0 < old_size <= leaf_hashes.len()`. Equal sizes give the empty proof.
pub fn consistency_proof(leaf_hashes: &[Hash], old_size: u64) -> Option<Vec<Hash>> {
    let m = usize::try_from(old_size).ok()?;
    if m == 0 || m > leaf_hashes.len() {
        return None;
    }
    fn subproof(m: usize, d: &[Hash], b: bool, out: &mut Vec<Hash>) {
        if m == d.len() {
            if !b {
                out.push(tree_hash(d));
            }
            return;
        }
        let k = split_point(d.len() as u64) as usize;
        if m <= k {
            subproof(m, &d[..k], b, out);
            out.push(tree_hash(&d[k..]));
        } else {
            subproof(m - k, &d[k..], false, out);
            out.push(tree_hash(&d[..k]));
        }
    }
    let mut out = Vec::new();
    subproof(m, leaf_hashes, true, &mut out);
    Some(out)
}

/// Streaming RFC 6962 tree construction in `O(log n)` memory.
///
/// The builder keeps the roots of the complete subtrees that the binary
/// representation of the size describes (one per set bit, largest first).
/// [`TreeBuilder::push`] returns the hashes that the new leaf adds to the
/// stored-hash layout, in [`stored_hash_index`] order, so that a log writer
/// can persist them (and emit tiles) while streaming.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeBuilder {
    size: u64,
    /// Roots of the complete subtrees, largest (leftmost) first.
    stack: Vec<Hash>,
    /// Hashes added by the last push.
    added: Vec<Hash>,
}

impl TreeBuilder {
    /// An empty tree.
    pub fn new() -> TreeBuilder {
        TreeBuilder::default()
    }

    /// Resumes a tree of `size` leaves from the roots of its complete
    /// subtrees, largest first (as [`TreeBuilder::subtree_roots`] returns
    /// them, or as read from storage at `sub_tree_indexes(size)`).
    pub fn from_subtree_roots(size: u64, roots: &[Hash]) -> Result<TreeBuilder, TreeError<Never>> {
        if size > MAX_TREE_SIZE {
            return Err(TreeError::TreeTooLarge(size));
        }
        let expected = size.count_ones() as usize;
        if roots.len() != expected {
            return Err(TreeError::WrongSubtreeCount {
                size,
                expected,
                got: roots.len(),
            });
        }
        Ok(TreeBuilder {
            size,
            stack: roots.to_vec(),
            added: Vec::new(),
        })
    }

    /// Resumes a tree of `size` leaves from stored hashes.
    pub fn from_reader<R: HashReader + ?Sized>(
        size: u64,
        reader: &R,
    ) -> Result<TreeBuilder, TreeError<R::Error>> {
        if size > MAX_TREE_SIZE {
            return Err(TreeError::TreeTooLarge(size));
        }
        let indexes = sub_tree_indexes(size);
        let roots = read_exact(reader, &indexes)?;
        Ok(TreeBuilder {
            size,
            stack: roots,
            added: Vec::new(),
        })
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash. Returns the hashes this leaf adds to storage:
    /// the leaf hash, then the root of every subtree it completes, bottom
    /// up (Go's `StoredHashes`); they belong at consecutive indexes starting
    /// at `stored_hash_index(0, size_before_push)`.
    pub fn push(&mut self, leaf: Hash) -> Result<&[Hash], TreeError<Never>> {
        if self.size >= MAX_TREE_SIZE {
            return Err(TreeError::TreeTooLarge(self.size.saturating_add(1)));
        }
        self.added.clear();
        self.added.push(leaf);
        let mut h = leaf;
        for _ in 0..self.size.trailing_ones() {
            // The stack holds one root per set bit of size; every trailing one
            // bit has its root on top.
            let Some(left) = self.stack.pop() else {
                break;
            };
            h = node_hash(&left, &h);
            self.added.push(h);
        }
        self.stack.push(h);
        self.size += 1;
        Ok(&self.added)
    }

    /// The hashes added by the last [`TreeBuilder::push`].
    pub fn last_stored_hashes(&self) -> &[Hash] {
        &self.added
    }

    /// Roots of the complete subtrees of the current tree, largest first.
    pub fn subtree_roots(&self) -> &[Hash] {
        &self.stack
    }

    /// The RFC 6962 root of the current tree.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(last) = it.next() else {
            return Hash::EMPTY_TREE;
        };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// Position of the hash of node `n` at `level` (the root of leaves
/// `[n·2^level, (n+1)·2^level)`) in the dense stored-hash order, where every
/// leaf is followed by the subtree roots it completes.
///
/// Defined for nodes of trees of at most [`MAX_TREE_SIZE`] leaves.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // Node (level, n) is stored right after its last leaf, n' = (n+1)·2^level - 1,
    // and the level-1 .. level-1 nodes that leaf completes before it.
    let mut n = n;
    for _ in 0..level {
        n = n.wrapping_mul(2).wrapping_add(1);
    }
    // Leaf n' is at n' + n'/2 + n'/4 + ...: every earlier leaf k contributes
    // itself and the trailing-ones(k) subtree roots it completed.
    let mut i: u64 = 0;
    while n > 0 {
        i = i.wrapping_add(n);
        n >>= 1;
    }
    i.wrapping_add(u64::from(level))
}

/// Inverse of [`stored_hash_index`]: the `(level, n)` stored at `index`.
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // stored_hash_index(0, n) = 2n - popcount(n), so the leaf stored last at
    // or before `index` is at most 65 leaves after index/2; each step below
    // moves one leaf forward.
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    for _ in 0..=65 {
        // Leaf n+1 is stored after leaf n and the trailing-ones(n) roots n completes.
        let next = index_n
            .saturating_add(1)
            .saturating_add(u64::from(n.trailing_ones()));
        if next > index || next == u64::MAX {
            break;
        }
        n += 1;
        index_n = next;
    }
    let level = (index.saturating_sub(index_n)).min(63) as u8;
    (level, n >> level)
}

/// Number of hashes stored for a tree of `n` leaves.
pub fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // All hashes up to the last leaf, then the roots that leaf completes.
    stored_hash_index(0, n - 1) + 1 + u64::from((n - 1).trailing_ones())
}

/// The hashes to store when appending leaf `n` (0-based) with hash
/// `leaf_hash` to a tree of `n` leaves, reading up to `log2 n` earlier
/// hashes from `reader`. They belong at `stored_hash_index(0, n)` onwards.
pub fn stored_hashes<R: HashReader + ?Sized>(
    n: u64,
    leaf_hash: Hash,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if n >= MAX_TREE_SIZE {
        return Err(TreeError::TreeTooLarge(n.saturating_add(1)));
    }
    // Each trailing one bit of n completes a subtree with a left sibling
    // already stored; read those siblings, largest (leftmost) first.
    let m = n.trailing_ones() as u8;
    let indexes: Vec<u64> = (0..m)
        .rev()
        .map(|i| stored_hash_index(i, (n >> i) - 1))
        .collect();
    let siblings = read_exact(reader, &indexes)?;
    let mut out = Vec::with_capacity(usize::from(m) + 1);
    out.push(leaf_hash);
    let mut h = leaf_hash;
    for left in siblings.iter().rev() {
        h = node_hash(left, &h);
        out.push(h);
    }
    Ok(out)
}

fn read_exact<R: HashReader + ?Sized>(
    reader: &R,
    indexes: &[u64],
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes).map_err(TreeError::Read)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::WrongHashCount {
            requested: indexes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

/// Stored-hash indexes of the complete subtree roots of a tree of `n`
/// leaves, largest (leftmost) first. Their right-to-left fold with
/// [`node_hash`] is the tree root.
pub fn sub_tree_indexes(n: u64) -> Vec<u64> {
    let mut need = Vec::new();
    push_sub_tree_indexes(0, n, &mut need);
    need
}

/// Appends the indexes of the complete subtrees covering leaves `[lo, hi)`.
fn push_sub_tree_indexes(lo: u64, hi: u64, need: &mut Vec<u64>) {
    let mut lo = lo;
    while lo < hi {
        // The largest aligned power-of-two block starting at lo that fits.
        let (mut k, mut level) = floor_pow2(hi - lo);
        while lo & (k - 1) != 0 {
            k >>= 1;
            level -= 1;
        }
        need.push(stored_hash_index(level as u8, lo >> level));
        lo += k;
    }
}

/// Consumes the hashes read for `push_sub_tree_indexes(lo, hi)` and returns
/// the hash of leaves `[lo, hi)`.
fn sub_tree_hash_from(lo: u64, hi: u64, hashes: &mut core::slice::Iter<'_, Hash>) -> Option<Hash> {
    let mut count = 0usize;
    let mut l = lo;
    while l < hi {
        let (mut k, _) = floor_pow2(hi - l);
        while l & (k - 1) != 0 {
            k >>= 1;
        }
        count += 1;
        l += k;
    }
    let parts: Vec<Hash> = hashes.take(count).copied().collect();
    if parts.len() != count {
        return None;
    }
    let (last, rest) = parts.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    )
}

/// The root of the tree of `n` leaves from stored hashes (one read of at
/// most `1 + log2 n` hashes).
pub fn tree_hash_from_reader<R: HashReader + ?Sized>(
    n: u64,
    reader: &R,
) -> Result<Hash, TreeError<R::Error>> {
    if n > MAX_TREE_SIZE {
        return Err(TreeError::TreeTooLarge(n));
    }
    if n == 0 {
        return Ok(Hash::EMPTY_TREE);
    }
    let indexes = sub_tree_indexes(n);
    let hashes = read_exact(reader, &indexes)?;
    let mut it = hashes.iter();
    sub_tree_hash_from(0, n, &mut it).ok_or(TreeError::WrongHashCount {
        requested: indexes.len(),
        got: hashes.len(),
    })
}

fn leaf_proof_indexes(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if lo + 1 >= hi {
        return;
    }
    let k = split_point(hi - lo);
    if n < lo + k {
        leaf_proof_indexes(lo, lo + k, n, need);
        push_sub_tree_indexes(lo + k, hi, need);
    } else {
        push_sub_tree_indexes(lo, lo + k, need);
        leaf_proof_indexes(lo + k, hi, n, need);
    }
}

fn leaf_proof(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &mut core::slice::Iter<'_, Hash>,
    out: &mut Vec<Hash>,
) -> Option<()> {
    if lo + 1 >= hi {
        // The verifier knows the leaf hash itself.
        return Some(());
    }
    let k = split_point(hi - lo);
    // Indexes were read left subtree first, so consume in that order.
    if n < lo + k {
        leaf_proof(lo, lo + k, n, hashes, out)?;
        out.push(sub_tree_hash_from(lo + k, hi, hashes)?);
    } else {
        let left = sub_tree_hash_from(lo, lo + k, hashes)?;
        leaf_proof(lo + k, hi, n, hashes, out)?;
        out.push(left);
    }
    Some(())
}

/// RFC 6962 §2.1.1 inclusion proof of leaf `index` in the tree of
/// `tree_size` leaves, from stored hashes.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    tree_size: u64,
    index: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if tree_size > MAX_TREE_SIZE {
        return Err(TreeError::TreeTooLarge(tree_size));
    }
    if index >= tree_size {
        return Err(TreeError::IndexOutOfRange { index, tree_size });
    }
    let mut indexes = Vec::new();
    leaf_proof_indexes(0, tree_size, index, &mut indexes);
    let hashes = read_exact(reader, &indexes)?;
    let mut it = hashes.iter();
    let mut out = Vec::new();
    leaf_proof(0, tree_size, index, &mut it, &mut out).ok_or(TreeError::WrongHashCount {
        requested: indexes.len(),
        got: hashes.len(),
    })?;
    Ok(out)
}

fn tree_proof_indexes(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if n == hi {
        if lo != 0 {
            push_sub_tree_indexes(lo, hi, need);
        }
        return;
    }
    let k = split_point(hi - lo);
    if n <= lo + k {
        tree_proof_indexes(lo, lo + k, n, need);
        push_sub_tree_indexes(lo + k, hi, need);
    } else {
        push_sub_tree_indexes(lo, lo + k, need);
        tree_proof_indexes(lo + k, hi, n, need);
    }
}

fn tree_proof(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &mut core::slice::Iter<'_, Hash>,
    out: &mut Vec<Hash>,
) -> Option<()> {
    if n == hi {
        // The old tree itself: the verifier knows its root when it is the
        // whole old tree (lo == 0); otherwise it is part of the proof.
        if lo != 0 {
            out.push(sub_tree_hash_from(lo, hi, hashes)?);
        }
        return Some(());
    }
    let k = split_point(hi - lo);
    if n <= lo + k {
        tree_proof(lo, lo + k, n, hashes, out)?;
        out.push(sub_tree_hash_from(lo + k, hi, hashes)?);
    } else {
        let left = sub_tree_hash_from(lo, lo + k, hashes)?;
        tree_proof(lo + k, hi, n, hashes, out)?;
        out.push(left);
    }
    Some(())
}

/// RFC 6962 §2.1.2 consistency proof from the tree of `old_size` leaves to
/// the tree of `new_size` leaves, from stored hashes. Needs
/// `0 < old_size <= new_size`; equal sizes give the empty proof.
pub fn prove_consistency<R: HashReader + ?Sized>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if new_size > MAX_TREE_SIZE {
        return Err(TreeError::TreeTooLarge(new_size));
    }
    if old_size == 0 || old_size > new_size {
        return Err(TreeError::InvalidSizes { old_size, new_size });
    }
    let mut indexes = Vec::new();
    tree_proof_indexes(0, new_size, old_size, &mut indexes);
    let hashes = read_exact(reader, &indexes)?;
    let mut it = hashes.iter();
    let mut out = Vec::new();
    tree_proof(0, new_size, old_size, &mut it, &mut out).ok_or(TreeError::WrongHashCount {
        requested: indexes.len(),
        got: hashes.len(),
    })?;
    Ok(out)
}

/// Number of hashes in the inclusion proof of leaf `index` in a tree of
/// `size` leaves (`index < size`): the levels where the paths to `index` and
/// to the last leaf differ ("inner"), plus one per left sibling above them
/// ("border").
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// Number of hashes in the consistency proof from `old_size` to `new_size`
/// (`0 < old_size < new_size`).
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    // The old tree's rightmost complete subtree has 2^shift leaves; above it
    // the proof is an inclusion proof of that subtree's node in the new tree,
    // plus that node itself unless it is the whole old tree.
    let shift = old_size.trailing_zeros();
    let index = (old_size - 1) >> shift;
    let size = ((new_size - 1) >> shift) + 1;
    let seed = usize::from(index != 0);
    inclusion_proof_len(index, size) + seed
}

/// Shifts `fn_` and `sn` right together until the low bit of `fn_` is set or `fn_` is 0.
fn shift_until_lsb_set(fn_: &mut u64, sn: &mut u64) {
    // When fn_ is 0 the loop stops; otherwise trailing_zeros < 64.
    if *fn_ == 0 {
        return;
    }
    let z = fn_.trailing_zeros();
    *fn_ >>= z;
    *sn >>= z;
}

/// Verifies that `leaf` (a leaf hash) is leaf `index` of the tree of
/// `tree_size` leaves whose root is `root`, by RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if tree_size > MAX_TREE_SIZE {
        return Err(ProofError::TreeTooLarge { tree_size });
    }
    // Step 1: the index must be inside the tree (an empty tree has no leaves).
    if index >= tree_size {
        return Err(ProofError::IndexOutOfRange { index, tree_size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::ProofTooLong { got: proof.len() });
    }
    // The sizes fix the proof length; checking it first names the fault and
    // makes the "sn reached 0 early" / "sn not 0 at the end" checks of the
    // RFC redundant (they are kept below regardless).
    let expected = inclusion_proof_len(index, tree_size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    // Step 2: fn is the leaf's position, sn the last leaf's position.
    let mut fn_ = index;
    let mut sn = tree_size - 1;
    // Step 3: start from the leaf hash.
    let mut r = *leaf;
    // Step 4: climb, one proof hash per level that has a sibling.
    for p in proof {
        // 4a: no levels left to climb means the proof is too long.
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                expected,
                got: proof.len(),
            });
        }
        // 4b: a right child (odd fn), or the last node of its level (fn == sn,
        // whose right sibling is missing, so the proof hash is a left sibling
        // further up): hash p on the left and skip the levels where the node
        // is promoted without a sibling. Otherwise p is the right sibling.
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_until_lsb_set(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        // 4c: one level up.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5: all levels consumed and the computed root matches.
    if sn != 0 {
        return Err(ProofError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`, by RFC 9162
/// §2.1.4.2.
///
/// Sizes equal: the proof must be empty and the roots equal (and, for size
/// 0, equal to [`Hash::EMPTY_TREE`]). Old size 0: every tree extends the empty
/// tree, so the proof must be empty and `old_root` must be
/// [`Hash::EMPTY_TREE`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if new_size > MAX_TREE_SIZE {
        return Err(ProofError::TreeTooLarge {
            tree_size: new_size,
        });
    }
    if old_size > new_size {
        return Err(ProofError::OldSizeAboveNewSize { old_size, new_size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::ProofTooLong { got: proof.len() });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(ProofError::EqualSizesDifferentRoots);
        }
        if old_size == 0 && *old_root != Hash::EMPTY_TREE {
            return Err(ProofError::EmptyTreeRootMismatch);
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if *old_root != Hash::EMPTY_TREE {
            return Err(ProofError::EmptyTreeRootMismatch);
        }
        return Ok(());
    }
    // Now 0 < old_size < new_size, and the sizes fix the proof length.
    let expected = consistency_proof_len(old_size, new_size);
    let wrong_len = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    // Step 1: a non-trivial consistency proof is never empty.
    if proof.len() != expected || proof.is_empty() {
        return Err(wrong_len);
    }
    // Step 2: when the old tree is a complete subtree (size a power of two),
    // its root is the starting node and the proof omits it; prepend it.
    let (first, rest): (&Hash, &[Hash]) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some((f, r)) => (f, r),
            None => return Err(wrong_len),
        }
    };
    // Step 3: positions of the last old leaf and the last new leaf.
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    // Step 4: skip the levels where the last old leaf is a right child inside
    // the starting subtree.
    if fn_ & 1 == 1 {
        let ones = fn_.trailing_ones();
        fn_ >>= ones;
        sn >>= ones;
    }
    // Step 5: both running roots start at the starting node.
    let mut fr = *first;
    let mut sr = *first;
    // Step 6: climb; each proof hash is a left sibling of both paths, or a
    // right sibling of the new path only.
    for c in rest {
        // 6a: no levels left in the new tree means the proof is too long.
        if sn == 0 {
            return Err(wrong_len);
        }
        // 6b: left sibling (the old path is a right child, or is the last
        // node of its level): combine into both roots and skip the levels
        // without siblings. Otherwise: right sibling, new root only.
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_until_lsb_set(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // 6c: one level up.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7: every level used, and both recomputed roots match.
    if sn != 0 {
        return Err(wrong_len);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn stored_hash_index_round_trips() {
        for level in 0..8u8 {
            for n in 0..300u64 {
                let i = stored_hash_index(level, n);
                assert_eq!(split_stored_hash_index(i), (level, n));
            }
        }
    }

    #[test]
    fn split_stored_hash_index_terminates_on_any_input() {
        for i in [
            u64::MAX,
            u64::MAX - 1,
            u64::MAX - 70,
            1 << 63,
            (1 << 63) + 5,
        ] {
            let (level, n) = split_stored_hash_index(i);
            assert!(level <= 63);
            assert!(n <= i / 2 + 66);
        }
        // The last stored hash of the largest tree is still exact.
        let last = stored_hash_count(MAX_TREE_SIZE) - 1;
        assert_eq!(split_stored_hash_index(last), (62, 0));
    }

    #[test]
    fn stored_hash_index_is_dense_in_push_order() {
        let mut b = TreeBuilder::new();
        let mut next = 0u64;
        for leaf in leaves(600) {
            let n = b.size();
            assert_eq!(stored_hash_index(0, n), next);
            let added = b.push(leaf).unwrap().len() as u64;
            next += added;
            assert_eq!(stored_hash_count(n + 1), next);
        }
    }

    #[test]
    fn builder_matches_reference_root() {
        let l = leaves(70);
        let mut b = TreeBuilder::new();
        assert_eq!(b.root(), Hash::EMPTY_TREE);
        for (i, h) in l.iter().enumerate() {
            b.push(*h).unwrap();
            assert_eq!(b.root(), tree_hash(&l[..=i]));
        }
    }

    #[test]
    fn proof_lengths_match_generated_proofs() {
        let l = leaves(70);
        for n in 1..=70u64 {
            for i in 0..n {
                let p = inclusion_proof(&l[..n as usize], i).unwrap();
                assert_eq!(p.len(), inclusion_proof_len(i, n));
            }
            for m in 1..n {
                let p = consistency_proof(&l[..n as usize], m).unwrap();
                assert_eq!(p.len(), consistency_proof_len(m, n), "{m} {n}");
            }
        }
    }

    #[test]
    fn verification_rejects_bad_sizes_with_named_errors() {
        let l = leaves(5);
        let root = tree_hash(&l);
        // An empty tree has no leaves.
        assert_eq!(
            verify_inclusion(&l[0], 0, 0, &[], &Hash::EMPTY_TREE),
            Err(ProofError::IndexOutOfRange {
                index: 0,
                tree_size: 0
            })
        );
        assert_eq!(
            verify_inclusion(&l[0], 5, 5, &[], &root),
            Err(ProofError::IndexOutOfRange {
                index: 5,
                tree_size: 5
            })
        );
        let big = MAX_TREE_SIZE + 1;
        assert_eq!(
            verify_inclusion(&l[0], 0, big, &[], &root),
            Err(ProofError::TreeTooLarge { tree_size: big })
        );
        assert_eq!(
            verify_inclusion(&l[0], 0, u64::MAX, &[], &root),
            Err(ProofError::TreeTooLarge {
                tree_size: u64::MAX
            })
        );
        assert_eq!(
            verify_consistency(1, u64::MAX, &root, &root, &[]),
            Err(ProofError::TreeTooLarge {
                tree_size: u64::MAX
            })
        );
        assert_eq!(
            verify_consistency(6, 5, &root, &root, &[]),
            Err(ProofError::OldSizeAboveNewSize {
                old_size: 6,
                new_size: 5
            })
        );
        // Equal sizes: empty proof, equal roots.
        assert_eq!(verify_consistency(5, 5, &root, &root, &[]), Ok(()));
        assert_eq!(
            verify_consistency(5, 5, &root, &root, &[root]),
            Err(ProofError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            verify_consistency(0, 0, &root, &root, &[]),
            Err(ProofError::EmptyTreeRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 5, &Hash::EMPTY_TREE, &root, &[]),
            Ok(())
        );
        // The last leaf of the largest allowed tree: the proof-length rule
        // is checked without overflow.
        assert!(matches!(
            verify_inclusion(&l[0], MAX_TREE_SIZE - 1, MAX_TREE_SIZE, &[], &root),
            Err(ProofError::WrongProofLength {
                expected: 62,
                got: 0
            })
        ));
    }

    #[test]
    fn proof_generation_rejects_bad_sizes() {
        let stored: Vec<Hash> = Vec::new();
        assert!(matches!(
            prove_inclusion(MAX_TREE_SIZE + 1, 0, &stored),
            Err(TreeError::TreeTooLarge(_))
        ));
        assert!(matches!(
            prove_consistency(1, u64::MAX, &stored),
            Err(TreeError::TreeTooLarge(_))
        ));
        assert!(matches!(
            tree_hash_from_reader(u64::MAX, &stored),
            Err(TreeError::TreeTooLarge(_))
        ));
        assert!(matches!(
            prove_inclusion(0, 0, &stored),
            Err(TreeError::IndexOutOfRange { .. })
        ));
        assert_eq!(inclusion_proof(&[], 0), None);
        assert_eq!(consistency_proof(&leaves(3), 4), None);
        assert_eq!(consistency_proof(&leaves(3), 0), None);
        assert_eq!(consistency_proof(&leaves(3), 3), Some(vec![]));
    }
}
