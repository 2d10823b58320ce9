//! Starting a program: checking its ELF file and laying out its first stack.

// Safe code only: what needs `unsafe` is a primitive in arch/ or mm/
// (frames, page tables, user copies, the one-CPU cells), as Asterinas
// splits its framekernel.
#![deny(unsafe_code)]

pub mod elf;
#[cfg(test)]
mod elf_fuzz;
pub mod layout;
pub mod stack;
