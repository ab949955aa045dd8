#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) static void check(int n) { assert(n < 3 && "queue length"); }
int main(int argc, char **argv) { check(argc + 3); return 0; }
