//! What a futex is known by (Linux's `union futex_key`, kernel/futex/core.c
//! `get_futex_key`).
//!
//! - A private futex (FUTEX_PRIVATE_FLAG, glibc's default for everything
//!   not process-shared) is the address space and the address: the fast
//!   key, no mapping looked up.
//! - A shared futex (no FUTEX_PRIVATE_FLAG: pthread_mutexattr_setpshared,
//!   sem_init(pshared = 1), the CLONE_CHILD_CLEARTID wake at exit) in a
//!   MAP_SHARED mapping (anonymous shared memory, a /dev/shm file) is the
//!   shared object and the byte offset in it, so every process that maps
//!   the object, at whatever address, meets the same waiters. Anywhere
//!   else (private memory) it is the private key, as on Linux.
//!
//! A waiter's key holds a reference to its object, so while anyone waits
//! the object cannot be freed and its address taken by another: keys
//! compared by pointer stay unambiguous (Linux compares the inode's
//! `i_sequence` for the same reason).

use alloc::sync::Arc;

use super::Process;
use crate::exec::elf::USER_END;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::shared_memory::SharedMemory;
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::vma::{AreaFlags, Backing};

#[derive(Clone)]
pub enum FutexKey {
    /// This address space (the `Shared` cell's address) and this address.
    Private { mm: usize, addr: u64 },
    /// This shared object, this byte offset in it.
    Shared { object: Arc<SharedMemory>, offset: u64 },
}

impl PartialEq for FutexKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (FutexKey::Private { mm: a, addr: x }, FutexKey::Private { mm: b, addr: y }) => a == b && x == y,
            (FutexKey::Shared { object: a, offset: x }, FutexKey::Shared { object: b, offset: y }) => {
                Arc::ptr_eq(a, b) && x == y
            }
            _ => false,
        }
    }
}

/// The futex word is not a user address, or no mapping holds the address
/// of a shared futex (Linux's get_futex_key fails with EFAULT there).
#[derive(Debug, PartialEq, Eq)]
pub struct NotMapped;

/// The private key of `addr` in `p`'s address space: the address as the
/// program passed it, tag included (Linux's get_futex_key keys
/// `(unsigned long)uaddr`, never untagged: a wake through a pointer with
/// another tag than the waiter's does not find it).
pub fn private_key(p: &Process, addr: UserAddr) -> FutexKey {
    FutexKey::Private { mm: Arc::as_ptr(&p.mm) as usize, addr: addr.raw_with_tag() }
}

/// The key of `addr` for a futex operation; `shared` is the absence of
/// FUTEX_PRIVATE_FLAG. As Linux's get_futex_key: the futex word must pass
/// access_ok under the caller's tagged-address ABI (a tagged pointer
/// without it is EFAULT, even for a wake); a shared one's page is found
/// untagged (get_user_pages_fast untags).
pub fn futex_key(p: &Process, addr: UserAddr, shared: bool) -> Result<FutexKey, NotMapped> {
    let checked = addr.untagged(TagRule::Access).as_u64();
    if checked.checked_add(4).is_none_or(|end| end > USER_END) {
        return Err(NotMapped);
    }
    if !shared {
        return Ok(private_key(p, addr));
    }
    let va = addr.untagged(TagRule::AddressSpace);
    // The shared side: the key is taken from the area and the lock given
    // back before the futex word is read (a user copy, which may fault).
    let space = p.mm.read();
    let area = space.areas().find(va).ok_or(NotMapped)?;
    match &area.backing {
        Backing::SharedMemory(object) if area.flags.contains(AreaFlags::SHARED) => {
            let offset = area.page_index(va) * PAGE_SIZE as u64 + va.page_offset() as u64;
            Ok(FutexKey::Shared { object: object.clone(), offset })
        }
        // Private memory (and the read-only refpage file, whose pages no
        // one can write): the address space is the key.
        _ => Ok(private_key(p, addr)),
    }
}
