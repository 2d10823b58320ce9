/*
 * asid_rollovers_leave_each_process_its_own_memory_on_every_cpu: 300
 * short-lived processes, as many alive at once as there are CPUs, each of
 * two threads pinned to two CPUs (process n on CPUs n and n + 1), each
 * thread writing words tagged with its process and thread to its own page
 * and reading them back, while the first also maps, checks, fills and
 * unmaps 3 MiB of fresh memory (page tables made and freed). Every word
 * read is the one its thread wrote last, every fresh page reads zero
 * before its first write, and the parent's own page keeps its writes: a
 * process never sees another's memory.
 *
 * With asid_bits=8 (make test's EL2 and SMP=4 boots; `BOOTARGS=asid_bits=8`
 * for scripts/run-program) 300 address spaces need more than the 255
 * ASIDs, so the ASID generation rolls over while threads of live processes
 * run at EL0 on every CPU (mmu/asid.rs: their ASIDs stay reserved, each
 * CPU flushes its own TLB at its next switch). Two spaces under one ASID
 * at once would let a thread hit the other's TLB entries on real
 * hardware; QEMU flushes a vCPU's TLB whenever TTBR0's ASID changes, so
 * there the test holds the rest: no panic, no hang, nothing leaked,
 * memory intact. Takes the CPU count as its first argument, as
 * smp_test.h's tests do.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smp_test.h"

#define PROCESSES 300
#define ROUNDS 8
#define WORDS_PER_THREAD 512 /* one page each */
#define FRESH_LEN (3UL << 20) /* spans two level-3 tables at least */

static int cpus;
static uint64_t *mine;
static atomic_int failed;

struct thread_arg {
    int index;
    int cpu0; /* the CPU of thread 0: the process's number */
    uint64_t tag;
};

static void *writer(void *p)
{
    struct thread_arg *a = p;
    int cpu = (a->cpu0 + a->index) % cpus;
    if (cpus > 1 && pin_to(cpu) != 0) {
        fprintf(stderr, "pid %d thread %d: pin to cpu %d failed\n", getpid(), a->index, cpu);
        atomic_store(&failed, 1);
        return NULL;
    }
    volatile uint64_t *w = mine + (size_t)a->index * WORDS_PER_THREAD;
    for (int r = 0; r < ROUNDS && !atomic_load(&failed); r++) {
        for (int i = 0; i < WORDS_PER_THREAD; i += 8)
            w[i] = a->tag | (uint64_t)r << 16 | (uint64_t)i;
        if (r % 16 == 0)
            sched_yield();
        for (int i = 0; i < WORDS_PER_THREAD; i += 8) {
            uint64_t want = a->tag | (uint64_t)r << 16 | (uint64_t)i;
            if (w[i] != want) {
                fprintf(stderr, "pid %d thread %d on cpu %d: word %d holds %#lx, wrote %#lx\n", getpid(), a->index,
                        current_cpu(), i, (unsigned long)w[i], (unsigned long)want);
                atomic_store(&failed, 1);
                return NULL;
            }
        }
    }
    return NULL;
}

/* Fresh memory, mapped, checked zero, filled, unmapped: tables come and go. */
static void churn(uint64_t tag)
{
    for (int r = 0; r < 1 && !atomic_load(&failed); r++) {
        volatile uint64_t *f = mmap(NULL, FRESH_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (f == MAP_FAILED) {
            fprintf(stderr, "pid %d: mmap failed\n", getpid());
            atomic_store(&failed, 1);
            return;
        }
        for (size_t off = 0; off < FRESH_LEN / 8; off += 4096 / 8 * 61) {
            if (f[off] != 0) {
                fprintf(stderr, "pid %d: fresh page at +%#lx holds %#lx before any write\n", getpid(),
                        (unsigned long)(off * 8), (unsigned long)f[off]);
                atomic_store(&failed, 1);
            }
            f[off] = tag | off;
        }
        for (size_t off = 0; off < FRESH_LEN / 8; off += 4096 / 8 * 61) {
            if (f[off] != (tag | off)) {
                fprintf(stderr, "pid %d: fresh page at +%#lx holds %#lx, wrote %#lx\n", getpid(),
                        (unsigned long)(off * 8), (unsigned long)f[off], (unsigned long)(tag | off));
                atomic_store(&failed, 1);
            }
        }
        munmap((void *)f, FRESH_LEN);
    }
}

static int child(int n)
{
    uint64_t tag = (uint64_t)getpid() << 40 | (uint64_t)n << 28;
    int threads = 2;
    mine = mmap(NULL, (size_t)threads * WORDS_PER_THREAD * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
    if (mine == MAP_FAILED)
        return 2;
    pthread_t t[SMP_TEST_MAX_CPUS];
    struct thread_arg args[SMP_TEST_MAX_CPUS];
    for (int i = 1; i < threads; i++) {
        args[i] = (struct thread_arg){i, n, tag | (uint64_t)i << 24};
        if (pthread_create(&t[i], NULL, writer, &args[i]) != 0)
            return 3;
    }
    args[0] = (struct thread_arg){0, n, tag};
    churn(tag);
    writer(&args[0]);
    for (int i = 1; i < threads; i++)
        pthread_join(t[i], NULL);
    return atomic_load(&failed) ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    /* The parent's own page, checked between the children it starts. */
    volatile uint64_t *own = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(own != MAP_FAILED, "mmap: %m");
    int alive = 0, started = 0, ended = 0;
    while (ended < PROCESSES) {
        while (started < PROCESSES && alive < cpus) {
            own[started % 512] = 0x7000000000000000ULL | (uint64_t)started;
            pid_t pid = fork();
            CHECK(pid >= 0, "fork %d: %m", started);
            if (pid == 0)
                _exit(child(started));
            started++;
            alive++;
        }
        int status;
        pid_t pid = wait(&status);
        CHECK(pid > 0, "wait: %m");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d ended with status %#x", pid, status);
        alive--;
        ended++;
        for (int i = 0; i < started && i < 512; i++) {
            int last = i + (started - 1 - i) / 512 * 512;
            CHECK(own[i] == (0x7000000000000000ULL | (uint64_t)last), "parent word %d holds %#lx, wrote %#x", i,
                  (unsigned long)own[i], last);
        }
    }
    printf("asid_rollovers_leave_each_process_its_own_memory_on_every_cpu: %d processes of 2 threads on %d CPUs\n",
           PROCESSES, cpus);
    return 0;
}
