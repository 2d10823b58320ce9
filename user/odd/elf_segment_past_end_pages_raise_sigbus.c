/*
 * elf_segment_past_end_pages_raise_sigbus: run as a copy whose text
 * segment's file part scripts/corrupt-elf stretched 4 KiB past the end of
 * the file (kind segment-past-end; user/user.mk), as Linux 6.1 maps it: a
 * private file mapping that reaches past EOF. The bytes of the file's last
 * page after its end read as zeros, and the next page, wholly past the end
 * of the file, raises SIGBUS (BUS_ADRERR) at its address when touched
 * (filemap_fault's VM_FAULT_SIGBUS); a system call given that page fails
 * with EFAULT, no signal. Before, the loader refused such a
 * file ("truncated"). The file's size is where its section header table
 * ends (GNU ld puts it last); the text segment maps the file from offset 0
 * at __executable_start.
 */
#include <elf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "refpage_test.h"

extern const char __executable_start[];
extern char _end[];

static sigjmp_buf env;
static volatile int got_signo, got_code;
static volatile uintptr_t got_addr;

static void on_fault(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    got_signo = sig;
    got_code = info->si_code;
    got_addr = (uintptr_t)info->si_addr;
    siglongjmp(env, 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)__executable_start;
    uintptr_t size = eh->e_shoff + (uintptr_t)eh->e_shnum * eh->e_shentsize;
    const volatile char *eof = (const volatile char *)(__executable_start + size);
    uintptr_t past = ((uintptr_t)eof + 4095) & ~(uintptr_t)4095;
    uintptr_t bss_end = ((uintptr_t)_end + 4095) & ~(uintptr_t)4095;
    CHECK(((uintptr_t)eof & ~(uintptr_t)4095) >= bss_end,
          "layout: the end of the file (%#lx) is not past the data and .bss (end %#lx)", (unsigned long)eof,
          (unsigned long)bss_end);

    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0 && sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction failed");

    if (sigsetjmp(env, 1) == 0) {
        /* The file's last bytes: its last section header (sh_type of the
         * string table is SHT_STRTAB). */
        const Elf64_Shdr *last = (const Elf64_Shdr *)(eof - sizeof(Elf64_Shdr));
        CHECK(last->sh_type == SHT_STRTAB, "the file's last section header reads sh_type %u", last->sh_type);
        for (const volatile char *p = eof; (uintptr_t)p < past; p++)
            CHECK(*p == 0, "byte %#lx after the end of the file reads %#x", (unsigned long)(p - eof), *p);
    } else {
        CHECK(0, "signal %d code %d at %#lx reading the file's last page", got_signo, got_code,
              (unsigned long)got_addr);
    }
    printf("elf_segment_past_end_pages_raise_sigbus: file of %lu bytes; its last page after the end: %lu zero bytes\n",
           (unsigned long)size, (unsigned long)(past - (uintptr_t)eof));

    if (sigsetjmp(env, 1) == 0) {
        char c = *(const volatile char *)past;
        CHECK(0, "a read of %#lx, wholly past the end of the file, returned %#x", (unsigned long)past, c);
    }
    CHECK(got_signo == SIGBUS && got_code == BUS_ADRERR && got_addr == past,
          "reading %#lx: signal %d code %d at %#lx, want SIGBUS BUS_ADRERR there", (unsigned long)past, got_signo,
          got_code, (unsigned long)got_addr);
    got_signo = 0;
    errno = 0;
    ssize_t n = write(1, (const void *)past, 1);
    CHECK(n == -1 && errno == EFAULT && got_signo == 0, "write(1, %#lx, 1) returned %zd errno %d, signal %d",
          (unsigned long)past, n, errno, got_signo);
    printf("elf_segment_past_end_pages_raise_sigbus: the page past it, %#lx: SIGBUS BUS_ADRERR; write from it: "
           "EFAULT\n",
           (unsigned long)past);
    return 0;
}
