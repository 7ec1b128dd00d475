/* How fast the bytes of a dump reach a parser: read(2) into one reused
 * buffer of CHUNK bytes (what flameconv does), against mmap(2) and walking
 * the mapping. Both touch every byte (a running sum), as a parser would.
 * Warm page cache; the median of RUNS runs; wall time.
 *
 *   Benchmarks/scripts/run-read-bench.sh [FILE...]   (builds it with cc -O2)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t touch(const unsigned char *p, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) { uint64_t w; memcpy(&w, p + i, 8); sum += w; }
    return sum;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double by_read(const char *path, size_t chunk, uint64_t *sum) {
    double t0 = now();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { perror(path); exit(1); }
    unsigned char *buf = malloc(chunk);
    ssize_t n;
    while ((n = read(fd, buf, chunk)) > 0) *sum += touch(buf, (size_t)n);
    free(buf);
    close(fd);
    return now() - t0;
}

static double by_mmap(const char *path, int populate, uint64_t *sum) {
    double t0 = now();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { perror(path); exit(1); }
    struct stat st;
    fstat(fd, &st);
    unsigned char *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    *sum += touch(p, (size_t)st.st_size);
    munmap(p, (size_t)st.st_size);
    close(fd);
    return now() - t0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: readbench FILE [RUNS] [CHUNK]\n"); return 2; }
    int runs = argc > 2 ? atoi(argv[2]) : 21;
    size_t chunk = argc > 3 ? (size_t)atol(argv[3]) : 1 << 20;
    double r[runs], m[runs], mp[runs];
    uint64_t sum = 0;
    by_read(argv[1], chunk, &sum);  /* warm the page cache */
    for (int i = 0; i < runs; i++) {
        r[i] = by_read(argv[1], chunk, &sum);
        m[i] = by_mmap(argv[1], 0, &sum);
        mp[i] = by_mmap(argv[1], 1, &sum);
    }
    qsort(r, runs, sizeof r[0], cmp);
    qsort(m, runs, sizeof m[0], cmp);
    qsort(mp, runs, sizeof mp[0], cmp);
    struct stat st;
    stat(argv[1], &st);
    double mb = st.st_size / 1e6;
    printf("%s\t%.1f MB\tread %zu KiB: %.2f ms (%.0f MB/s)\tmmap: %.2f ms (%.0f MB/s)\tmmap+populate: %.2f ms (%.0f MB/s)\t(checksum %llu)\n",
           argv[1], mb, chunk >> 10, r[runs / 2] * 1e3, mb / r[runs / 2], m[runs / 2] * 1e3, mb / m[runs / 2],
           mp[runs / 2] * 1e3, mb / mp[runs / 2], (unsigned long long)(sum & 0xff));
    return 0;
}
