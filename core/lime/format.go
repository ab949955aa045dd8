package lime

// LiME's on-disk format, from the "LiME Memory Range Header Version 1
// Specification" in 504ensicsLabs/LiME doc/README.md
// (https://github.com/504ensicsLabs/LiME/blob/master/doc/README.md#Spec) and
// src/lime.h:
//
//	typedef struct {
//		unsigned int magic;         // always 0x4C694D45 ("EMiL" on disk)
//		unsigned int version;       // always 1
//		unsigned long long s_addr;  // first physical address of the range
//		unsigned long long e_addr;  // last physical address (inclusive)
//		unsigned char reserved[8];  // all zeros
//	} __attribute__((packed)) lime_mem_range_header;
//
// Each header is followed by e_addr-s_addr+1 bytes of memory, then the next
// header. All fields are little-endian: LiME runs on the dumped machine and
// writes host order, and every target of it so far is little-endian.

// LIME_MAGIC is lime_mem_range_header.magic.
const LIME_MAGIC uint32 = 0x4C694D45

// LIME_VERSION is the only header version defined.
const LIME_VERSION uint32 = 1

// HeaderSize is sizeof(lime_mem_range_header).
const HeaderSize = 32

// Field offsets within a header.
const (
	hdrMagic    = 0
	hdrVersion  = 4
	hdrSAddr    = 8
	hdrEAddr    = 16
	hdrReserved = 24
)
