#ifndef CBULWARK_LIBCRYPTO_SHIM_H
#define CBULWARK_LIBCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#ifdef __linux__
#include <sys/random.h>
#endif
#endif
