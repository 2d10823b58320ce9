//! Starting a program: checking its ELF file and laying out its first stack.

pub mod elf;
pub mod layout;
pub mod stack;
