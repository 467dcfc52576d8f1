// Intel ISA-L's igzip (Debian's libisal-dev): inflate and deflate several times faster than zlib.
#include <isa-l/igzip_lib.h>

// The level buffer size igzip recommends for level 1 (a macro expression Swift cannot import).
static inline uint32_t berth_isal_level1_buffer_size(void) { return ISAL_DEF_LVL1_DEFAULT; }
