struct shared_state { int counter; const char *label; double ratio; };
static inline int __attribute__((always_inline)) bump(struct shared_state *s, int by) { s->counter += by; return s->counter * 3; }
static inline int __attribute__((always_inline)) twice(struct shared_state *s) { return bump(s, 1) + bump(s, 2); }
