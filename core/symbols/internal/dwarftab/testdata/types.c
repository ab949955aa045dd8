/* Types for the DWARF type reader's tests: gdb's ptype /o of each is the
   oracle (types.ptype.txt, made by make-types.sh). */
#include <stdint.h>

enum color { RED, GREEN = 5, BLUE = -3 };

typedef struct node {
	struct node *next, *prev;
	const char *name;
	unsigned flags : 3;
	unsigned kind : 5;
	signed level : 4;
	uint64_t big : 40;
	union {
		int i;
		double d;
		char bytes[8];
	} u;
	enum color color;
	short grid[2][3];
	void (*callback)(int, void *);
	struct opaque *hidden;
	volatile int counter;
} node_t;

struct packed_rec {
	char a;
	int16_t b;
	int32_t c;
} __attribute__((packed));

union either {
	float f;
	uint32_t bits;
};

node_t a_node;
struct packed_rec a_rec;
union either an_either;
