// libcrypt (Debian's libcrypt-dev, libxcrypt): crypt_r verifies htpasswd bcrypt entries.
#include <crypt.h>
