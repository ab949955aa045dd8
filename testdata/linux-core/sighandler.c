#include <signal.h>
#include <stdlib.h>
#include <string.h>
/* A SIGSEGV handler that aborts: the stack runs through the kernel's
   signal frame (__restore_rt) back into the faulting function. */
static void on_segv(int sig) { (void)sig; abort(); }
__attribute__((noinline)) static void fault(int *p) { *p = 1; }
int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, 0);
	fault(0);
	return 0;
}
