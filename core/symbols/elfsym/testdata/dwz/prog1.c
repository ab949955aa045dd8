#include <stdio.h>
#include "common.h"
int __attribute__((noinline)) work_one(struct shared_state *s) { return twice(s) + s->label[0]; }
int main(void) { struct shared_state s = {1, "one", 0.5}; printf("%d\n", work_one(&s)); return 0; }
