/*
 * What the first write to a fresh page costs on this machine, with 4 KiB pages or transparent huge
 * pages. Not part of the build or CI: a probe behind the figures in README.md ("Why it stops
 * here", single inserts and huge pages).
 *
 *   gcc -O2 -o /tmp/first-touch eng/probes/first-touch.c
 *   /tmp/first-touch 256 1 3    # 256 MiB, MADV_HUGEPAGE, 3 rounds
 *   /tmp/first-touch 256 0 3    # 256 MiB, MADV_NOHUGEPAGE, 3 rounds
 *
 * Each round maps a fresh anonymous region (2 MiB aligned), writes one byte per 4 KiB page in
 * address order, times each write, and unmaps the region; the next round starts at once, so the
 * kernel may hand it the pages the last round just freed. Prints the mean per 4 KiB and the
 * slowest single write (with huge pages: the fault that made a 2 MiB page).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4)
    {
        fprintf(stderr, "usage: %s MiB huge(0|1) rounds\n", argv[0]);
        return 2;
    }
    const size_t huge = (size_t)2 << 20;
    size_t bytes = (size_t)atoi(argv[1]) << 20;
    int use_huge = atoi(argv[2]);
    int rounds = atoi(argv[3]);
    for (int r = 0; r < rounds; r++)
    {
        char *map = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED)
        {
            perror("mmap");
            return 1;
        }
        char *region = (char *)(((size_t)map + huge - 1) & ~(huge - 1));
        if (madvise(region, bytes, use_huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
        {
            perror("madvise");
        }
        double slowest = 0, start = now_ns();
        for (size_t offset = 0; offset < bytes; offset += 4096)
        {
            double t = now_ns();
            region[offset] = 1;
            double spent = now_ns() - t;
            if (spent > slowest)
            {
                slowest = spent;
            }
        }
        double total = now_ns() - start;
        printf("huge=%d round %d: %.0f ns per 4 KiB, slowest write %.0f us\n", use_huge, r, total / (bytes / 4096), slowest / 1000);
        munmap(map, bytes + huge);
    }
    return 0;
}
