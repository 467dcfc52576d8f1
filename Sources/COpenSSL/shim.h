// SHA-256 through libcrypto's one-shot SHA256_* functions. OpenSSL 3 marks them deprecated in
// favour of EVP, but they run the same SHA-NI code without EVP's provider machinery, which
// costs every hashing process about 2 MiB more resident memory (benchmarks/RESULTS.md).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
