/* A musl libc program for the initramfs: printf, malloc from brk (small)
 * and mmap (large), and an exit status (argv[1], default 42). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("hello from musl: pid %d, argc %d, argv[0] %s\n", (int)getpid(), argc, argv[0]);
    char *small = malloc(100);
    char *big = malloc(1 << 20);
    if (!small || !big) {
        printf("malloc failed\n");
        return 1;
    }
    strcpy(small, "brk");
    memset(big, 0x5a, 1 << 20);
    unsigned long sum = 0;
    for (int i = 0; i < (1 << 20); i += 4096)
        sum += (unsigned char)big[i];
    printf("malloc: small block says %s, big block has %lu pages\n", small, sum / 0x5a);
    volatile double x = argc;
    printf("floating point: %.3f\n", x * 1.25 + 0.5);
    free(big);
    free(small);
    int status = argc > 1 ? atoi(argv[1]) : 42;
    printf("exiting with status %d\n", status);
    return status;
}
