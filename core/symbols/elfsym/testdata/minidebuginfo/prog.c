/* A program with static functions, which .dynsym never lists: only
   MiniDebugInfo names them once the binary is stripped. */
#include <stdio.h>

static int __attribute__((noinline)) parse_header(const char *s) { return s[0] * 3; }
static int __attribute__((noinline)) checksum(const char *s) {
	int c = 0;
	while (*s) c += *s++;
	return c + parse_header(s - 1);
}
int __attribute__((noinline)) exported_entry(const char *s) { return checksum(s) ^ 0x55; }

int main(int argc, char **argv) {
	printf("%d\n", exported_entry(argc > 1 ? argv[1] : "crashbench"));
	return 0;
}
