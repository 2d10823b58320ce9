// Reset entry: from the first instruction QEMU runs to the first Rust code.
//
// QEMU loads the kernel as an arm64 Linux "Image" (Documentation/arch/arm64/
// booting.rst): at a 2 MiB-aligned physical address, MMU and D-cache off,
// x0 = physical address of the device tree, at EL2 with
// `-machine virt,virtualization=on` and at EL1 otherwise.
//
// This file does only what Rust cannot do with the MMU off:
//   1. keep the device-tree pointer, park secondary CPUs,
//   2. drop from EL2 to EL1 (HCR_EL2.RW for AArch64 EL1, HCR_EL2.ATA so EL1
//      and EL0 may access allocation tags; the debug and fine-grained traps
//      off and VBAR_EL2 at a stub, as Linux's init_el2_state),
//   3. clear .bss,
//   4. build two throw-away page tables with block descriptors:
//        TTBR0: identity map of the 1 GiB holding the kernel (and of the one
//               holding the device tree), so the MMU can be turned on while
//               running at physical addresses and Rust can read the DTB;
//        TTBR1: the kernel image at KIMAGE_VADDR, 2 MiB blocks,
//   5. turn on the MMU and branch to the linked (upper-half) address.
// The Rust side (arch/aarch64/mmu/kernel_map.rs) then builds the real kernel
// address space with per-section permissions and retires both tables.
//
// Register use until kernel_main: x19 = DTB physical address,
// x20 = kernel physical base, x21 = exception level at entry.

.equ KIMAGE_VADDR, 0xffff800000000000
.equ SZ_2M, 0x200000

// Block descriptor attributes for the early maps (Arm ARM (DDI 0487K.a), "Translation table descriptor formats", stage 1):
// valid block (0b01), AttrIndx 1 (Normal write-back, see MAIR below),
// SH inner shareable (0b11 << 8), AF (1 << 10), UXN (1 << 54). AP = 0b00:
// read/write at EL1, no access at EL0. PXN clear: the kernel runs from these.
.equ EARLY_BLOCK_ATTRS, ((1 << 54) | (1 << 10) | (3 << 8) | (1 << 2) | 1)

// MAIR_EL1 (Arm ARM (DDI 0487K.a), MAIR_EL1): attr0 Device-nGnRE, attr1 Normal WB,
// attr2 Normal WB (switched to 0xF0 "Tagged" by Rust when MTE2 is present),
// attr3 Normal non-cacheable. Indices are mirrored in mmu/pte.rs (MemoryType).
.equ MAIR_EARLY, 0x44ffff04

// TCR_EL1 (Arm ARM (DDI 0487K.a), TCR_EL1): T0SZ = T1SZ = 16 (48-bit VA), 4 KiB granules
// (TG0 = 0b00, TG1 = 0b10), inner shareable, write-back walks, and TBI0
// (bit 37): the top byte of user addresses is ignored on every CPU, with or
// without MTE, because Linux's arm64 ABI says so (tagged-pointers.rst;
// __cpu_setup sets TCR_TBI0 unconditionally). IPS is filled in from
// ID_AA64MMFR0_EL1.PARange below.
.equ TCR_EARLY, ((1 << 37) | (2 << 30) | (3 << 28) | (1 << 26) | (1 << 24) | (16 << 16) | (3 << 12) | (1 << 10) | (1 << 8) | 16)

// SCTLR_EL1 (Arm ARM (DDI 0487K.a), SCTLR_EL1) with the MMU on: M, C, SA, SA0 (EL0 stack
// alignment checks, as Linux sets), I, UCT (bit 15: EL0 may read CTR_EL0)
// and UCI (bit 26: EL0 may clean and invalidate caches by VA), which Linux
// sets so that __clear_cache works for code a program writes, plus the
// RES1-in-v8.0 bits EOS, TSCXT, EIS, nTLSMD, LSMAOE. SPAN (bit 23) is left 0
// so that PSTATE.PAN is set on every exception taken to EL1.
// EL0 system state as Linux's INIT_SCTLR_EL1_MMU_ON sets it: DZE (bit 14),
// so DC ZVA runs at EL0 and DCZID_EL0.DZP reads 0 (glibc's memset uses DC
// ZVA only then); nTWE (bit 18), so WFE at EL0 is not trapped. nTWI (bit
// 16) stays 0: WFI traps, and the trap is skipped as a no-op (Linux's
// wfi_handler; arch/aarch64/fault.rs), so a program cannot idle the CPU.
// WXN (bit 19) stays 0 as on Linux (kernel_map.rs says why).
.equ SCTLR_EL1_RES1, ((1 << 29) | (1 << 28) | (1 << 22) | (1 << 20) | (1 << 11))
.equ SCTLR_EL1_MMU_ON, (SCTLR_EL1_RES1 | (1 << 26) | (1 << 18) | (1 << 15) | (1 << 14) | (1 << 12) | (1 << 4) | (1 << 3) | (1 << 2) | 1)

// HCR_EL2 (Arm ARM (DDI 0487K.a), HCR_EL2): RW (bit 31) = EL1 is AArch64; ATA (bit 56) =
// EL1/EL0 tag accesses are not trapped and tag checks are performed;
// API/APK (bits 41/40) = pointer-authentication use is not trapped.
.equ HCR_EL2_VALUE, ((1 << 56) | (1 << 41) | (1 << 40) | (1 << 31))

// SPSR_EL2 for the drop: EL1h with D, A, I, F masked.
.equ SPSR_EL1H_MASKED, 0x3c5

// __init_el2_debug: MDCR_EL2 with no debug, PMU, SPE or trace trap to EL2,
// every PMU counter given to EL1 (HPMN = PMCR_EL0.N), and the profiling and
// trace buffers owned by the EL1&0 regime where present (E2PB, E2TB; with
// PMSCR_EL2 permitting physical addresses and the physical counter when
// SPE is not usable at EL2).
.macro el2_debug_traps
    mrs     x1, id_aa64dfr0_el1
    sbfx    x0, x1, #8, #4          // PMUVer (0xf: IMPLEMENTATION DEFINED)
    cmp     x0, #1
    b.lt    1f
    mrs     x0, pmcr_el0
    ubfx    x0, x0, #11, #5         // PMCR_EL0.N
1:  csel    x2, xzr, x0, lt
    ubfx    x0, x1, #32, #4         // PMSVer
    cbz     x0, 3f
    mrs     x0, S3_0_C9_C10_7       // PMBIDR_EL1
    and     x0, x0, #(1 << 4)       // P: buffer owned by a higher EL
    cbnz    x0, 2f
    mov     x0, #((1 << 6) | (1 << 4))  // PMSCR_EL2.PCT = physical, PA
    msr     S3_4_C9_C9_0, x0        // PMSCR_EL2
2:  orr     x2, x2, #(3 << 12)      // MDCR_EL2.E2PB
3:  ubfx    x0, x1, #44, #4         // TraceBuffer
    cbz     x0, 4f
    mrs     x0, S3_0_C9_C11_7       // TRBIDR_EL1
    and     x0, x0, #(1 << 4)       // P
    cbnz    x0, 4f
    orr     x2, x2, #(3 << 24)      // MDCR_EL2.E2TB
4:  msr     mdcr_el2, x2
.endm

// __init_el2_fgt: with FEAT_FGT (ID_AA64MMFR0_EL1.FGT), no fine-grained
// trap of EL1/EL0 register accesses or instructions to EL2. The "n" bits
// trap when 0: nPMSNEVFR_EL1 (HDFGxTR bit 62) with SPE v1.2, and
// nSMPRI_EL1 / nTPIDR2_EL0 (HFGxTR bits 54, 55) with SME, are set.
.macro el2_fine_grained_traps
    mrs     x1, id_aa64mmfr0_el1
    ubfx    x1, x1, #56, #4         // FGT
    cbz     x1, 3f
    mov     x0, xzr
    mrs     x1, id_aa64dfr0_el1
    ubfx    x1, x1, #32, #4         // PMSVer
    cmp     x1, #3
    b.lt    1f
    orr     x0, x0, #(1 << 62)
1:  msr     S3_4_C3_C1_4, x0        // HDFGRTR_EL2
    msr     S3_4_C3_C1_5, x0        // HDFGWTR_EL2
    mov     x0, xzr
    mrs     x1, id_aa64pfr1_el1
    ubfx    x1, x1, #24, #4         // SME
    cbz     x1, 2f
    orr     x0, x0, #(1 << 54)
    orr     x0, x0, #(1 << 55)
2:  msr     S3_4_C1_C1_4, x0        // HFGRTR_EL2
    msr     S3_4_C1_C1_5, x0        // HFGWTR_EL2
    msr     S3_4_C1_C1_6, xzr       // HFGITR_EL2
    mrs     x1, id_aa64pfr0_el1
    ubfx    x1, x1, #44, #4         // AMU: HAFGRTR_EL2 is UNDEFINED without it
    cbz     x1, 3f
    msr     S3_4_C3_C1_6, xzr       // HAFGRTR_EL2
3:
.endm

// Linux's init_el2_state for one CPU (the boot CPU and every secondary
// that enters at EL2), then an exception return to EL1h at `target`.
.macro el2_setup_and_drop_to target
    ldr     x0, =HCR_EL2_VALUE
    msr     hcr_el2, x0
    mov     x0, #3                  // CNTHCTL_EL2.EL1PCTEN | EL1PCEN: EL1 timer access
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mov     x0, #0x33ff             // CPTR_EL2: RES1 bits, TFP = 0 (no FP/SIMD trap)
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mrs     x0, midr_el1            // EL1 reads of MIDR/MPIDR see the real values
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    // The rest of Linux's init_el2_state (arch/arm64/include/asm/el2_setup.h)
    // for what EL1 and EL0 may touch: registers whose reset values are
    // UNKNOWN on hardware (QEMU resets most of them to harmless values;
    // VBAR_EL2 it leaves at 0, where an HVC would go to no code).
    adrp    x0, el2_stub_vectors    // physical: the MMU is off at EL2
    add     x0, x0, :lo12:el2_stub_vectors
    msr     vbar_el2, x0
    el2_debug_traps
    el2_fine_grained_traps
    ldr     x0, =SCTLR_EL1_RES1     // EL1 starts with MMU and caches off
    msr     sctlr_el1, x0
    mov     x0, #SPSR_EL1H_MASKED
    msr     spsr_el2, x0
    adr     x0, \target
    msr     elr_el2, x0
    isb
    eret
.endm

    .section .text.head, "ax"
    .globl _start
_start:
    // arm64 Image header (booting.rst, "Call the kernel image").
    b       primary_entry           // code0
    .long   0                       // code1
    .quad   0                       // text_offset: load at the 2 MiB boundary
    .quad   __image_size            // image_size, including .bss and stack
    .quad   (1 << 1)                // flags: little-endian, 4 KiB pages, 2 MiB aligned
    .quad   0                       // res2
    .quad   0                       // res3
    .quad   0                       // res4
    .ascii  "ARM\x64"               // magic
    .long   0                       // res5

    .section .text.boot, "ax"
primary_entry:
    mov     x19, x0                 // device tree (physical)

    // Only CPU 0 boots; QEMU holds the others in PSCI, but a secondary that
    // does arrive here waits forever rather than racing on shared state.
    mrs     x1, mpidr_el1
    and     x1, x1, #0xffffff       // Aff2..Aff0
    cbnz    x1, park

    mrs     x21, CurrentEL
    lsr     x21, x21, #2
    cmp     x21, #2
    b.ne    at_el1

    // ---- EL2: configure the hypervisor controls and drop to EL1 ----
    el2_setup_and_drop_to at_el1

at_el1:
    msr     daifset, #0xf
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    isb

    // The kernel must sit on a 2 MiB boundary for the early block map.
    adrp    x20, __image_start
    tst     x20, #(SZ_2M - 1)
    b.ne    park

    // ---- clear .bss (physical addresses: adrp is PC-relative) ----
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:

    // ---- TTBR0: identity map of the kernel's and the DTB's 1 GiB ----
    adrp    x0, early_id_l0
    adrp    x1, early_id_l1
    orr     x2, x1, #3              // table descriptor
    lsr     x3, x20, #39
    and     x3, x3, #511
    str     x2, [x0, x3, lsl #3]
    ldr     x5, =EARLY_BLOCK_ATTRS
    lsr     x4, x20, #30
    and     x6, x4, #511
    orr     x4, x5, x4, lsl #30
    str     x4, [x1, x6, lsl #3]
    // Map the DTB's GiB too when it shares the kernel's 512 GiB L0 slot;
    // otherwise pass 0 and let Rust fall back (and say so).
    cbz     x19, 3f
    lsr     x4, x19, #39
    cmp     x4, x3
    b.eq    4f
    mov     x19, #0
    b       3f
4:  lsr     x4, x19, #30
    and     x6, x4, #511
    orr     x4, x5, x4, lsl #30
    str     x4, [x1, x6, lsl #3]
3:

    // ---- TTBR1: kernel image at KIMAGE_VADDR with 2 MiB blocks ----
    adrp    x0, early_k_l0
    adrp    x1, early_k_l1
    adrp    x2, early_k_l2
    orr     x3, x1, #3
    str     x3, [x0, #(256 * 8)]    // L0 index of KIMAGE_VADDR
    orr     x3, x2, #3
    str     x3, [x1]                // L1 index 0
    adrp    x3, __image_end
    sub     x3, x3, x20
    add     x3, x3, #0x1ff, lsl #12 // + 2 MiB - 4 KiB (the size is page aligned)
    lsr     x3, x3, #21             // number of 2 MiB blocks, rounded up
    orr     x4, x20, x5
    mov     x6, #0
5:  str     x4, [x2, x6, lsl #3]
    add     x4, x4, #SZ_2M
    add     x6, x6, #1
    cmp     x6, x3
    b.lo    5b

    // ---- MMU on ----
    ldr     x0, =MAIR_EARLY
    msr     mair_el1, x0
    ldr     x0, =TCR_EARLY
    mrs     x1, id_aa64mmfr0_el1
    and     x1, x1, #7              // PARange
    bfi     x0, x1, #32, #3         // TCR_EL1.IPS
    msr     tcr_el1, x0
    adrp    x0, early_id_l0
    msr     ttbr0_el1, x0
    adrp    x0, early_k_l0
    msr     ttbr1_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    ldr     x0, =SCTLR_EL1_MMU_ON
    msr     sctlr_el1, x0
    isb
    ic      iallu
    dsb     nsh
    isb
    ldr     x0, =primary_switched   // absolute: the upper-half address
    br      x0

primary_switched:
    ldr     x0, =__boot_stack_top
    mov     sp, x0
    mov     x29, xzr                // end of the frame-pointer chain
    mov     x30, xzr
    mov     x0, x19                 // dtb physical address (0: none mapped)
    mov     x1, x21                 // exception level at entry
    mov     x2, x20                 // kernel physical base
    bl      kernel_main
park:
    wfe
    b       park

// A secondary CPU, started by PSCI CPU_ON (arch/aarch64/smp.rs; PSCI
// (DEN0022D), "CPU_ON"): at the physical address smp.rs passed, MMU and
// caches off, at EL2 when EL2 exists (QEMU starts it at the highest EL it
// gives the kernel, whatever EL the caller is at) and at EL1 otherwise, x0 = context
// id = the (virtual) address of its CpuData (cpu_local.rs). The same EL2
// setup and drop as the boot CPU; then the boot CPU's MMU registers from
// secondary_mmu_setup (MAIR, TCR, TTBR1, SCTLR; smp.rs cleaned them to the
// point of coherency), with the boot identity map (early_id_l0, kept in
// .bss) in TTBR0 just long enough to turn the MMU on and branch high.
// Register use: x19 = CpuData, x21 = exception level at entry.
    .globl secondary_entry
secondary_entry:
    msr     daifset, #0xf
    mov     x19, x0
    mrs     x21, CurrentEL
    lsr     x21, x21, #2
    cmp     x21, #2
    b.ne    secondary_at_el1
    el2_setup_and_drop_to secondary_at_el1

secondary_at_el1:
    msr     daifset, #0xf
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    isb
    adrp    x1, secondary_mmu_setup
    add     x1, x1, :lo12:secondary_mmu_setup
    ldp     x2, x22, [x1]           // MAIR_EL1, TCR_EL1
    ldp     x4, x5, [x1, #16]       // TTBR1_EL1, SCTLR_EL1
    msr     mair_el1, x2
    bic     x3, x22, #(1 << 7)      // TCR_EL1.EPD0 = 0: walk TTBR0 (the identity map)
    msr     tcr_el1, x3
    adrp    x0, early_id_l0
    msr     ttbr0_el1, x0
    msr     ttbr1_el1, x4
    isb
    tlbi    vmalle1
    dsb     nsh
    msr     sctlr_el1, x5
    isb
    ic      iallu
    dsb     nsh
    isb
    ldr     x0, =secondary_switched // absolute: the upper-half address
    br      x0

secondary_switched:
    msr     tcr_el1, x22            // the boot CPU's TCR: TTBR0 walks off again
    msr     ttbr0_el1, xzr
    isb
    tlbi    vmalle1                 // no identity entry may survive
    dsb     nsh
    isb
    msr     tpidr_el1, x19          // this CPU's CpuData
    ldr     x0, [x19, #8]           // CpuData.boot_stack_top
    mov     sp, x0
    mov     x29, xzr
    mov     x30, xzr
    mov     x0, x19
    mov     x1, x21
    bl      secondary_main
    b       park

    .ltorg

// EL2 vectors once the kernel has dropped to EL1 (Linux's hyp stub,
// arch/arm64/kernel/hyp-stub.S): the kernel offers no hypercalls, so an
// HVC from EL1 gets HVC_STUB_ERR in x0 and returns to the next instruction;
// anything else taken to EL2 is unexpected, and parks the CPU as Linux's
// invalid vectors do. Physical addresses: EL2 runs with its MMU off.
.equ HVC_STUB_ERR, 0xbadca11
.equ ESR_EC_HVC64, 0x16
    .balign 0x800
el2_stub_vectors:
    .rept 8                         // current EL, SP_EL0 and SP_ELx
    .balign 0x80
    b       park
    .endr
    .balign 0x80                    // lower EL, AArch64: synchronous
    mrs     x0, esr_el2
    lsr     x0, x0, #26
    cmp     x0, #ESR_EC_HVC64
    b.ne    park
    movz    x0, #(HVC_STUB_ERR & 0xffff)
    movk    x0, #(HVC_STUB_ERR >> 16), lsl #16
    eret
    .rept 7                         // lower EL: IRQ, FIQ, SError; AArch32
    .balign 0x80
    b       park
    .endr

    // Early page tables, one 4 KiB page each, zeroed with .bss above.
    .section .bss.early_page_tables, "aw", %nobits
    .balign 4096
early_id_l0:    .space 4096
early_id_l1:    .space 4096
early_k_l0:     .space 4096
early_k_l1:     .space 4096
early_k_l2:     .space 4096
    .globl early_id_l0
