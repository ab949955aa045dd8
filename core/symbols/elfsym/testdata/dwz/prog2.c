#include <stdio.h>
#include "common.h"
int __attribute__((noinline)) work_two(struct shared_state *s) { return twice(s) * 2 + s->label[1]; }
int main(void) { struct shared_state s = {2, "two", 1.5}; printf("%d\n", work_two(&s)); return 0; }
