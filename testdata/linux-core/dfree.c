#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) static void release(char *p) { free(p); }
int main(void) { char *p = malloc(32); strcpy(p, "x"); release(p); release(p); return 0; }
