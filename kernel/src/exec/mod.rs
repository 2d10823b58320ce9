//! Starting a program: checking its ELF file and laying out its first stack.

pub mod elf;
#[cfg(test)]
mod elf_fuzz;
pub mod layout;
pub mod stack;
