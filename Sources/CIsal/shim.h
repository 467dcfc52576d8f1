// Intel ISA-L's igzip (Debian's libisal-dev): inflate several times faster than zlib.
#include <isa-l/igzip_lib.h>
