#ifndef C_OPENSSL_SHIMS_H
#define C_OPENSSL_SHIMS_H

// Real C functions for OpenSSL macros and type-checked stack helpers that Swift cannot import.
// Each is named COpenSSLShims_<original> and does nothing but call through.

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// SSL / SSL_CTX controls
int COpenSSLShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
int COpenSSLShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int COpenSSLShims_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long COpenSSLShims_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
long COpenSSLShims_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *));
int COpenSSLShims_SSL_CTX_set1_sigalgs_list(SSL_CTX *ctx, const char *list);

// Option bits (defined through macros Swift cannot evaluate)
uint64_t COpenSSLShims_SSL_OP_NO_RENEGOTIATION(void);
uint64_t COpenSSLShims_SSL_OP_NO_COMPRESSION(void);
uint64_t COpenSSLShims_SSL_OP_CIPHER_SERVER_PREFERENCE(void);

// BIO controls
size_t COpenSSLShims_BIO_pending(BIO *bio);
int COpenSSLShims_BIO_set_mem_eof_return(BIO *bio, int value);

// Stacks
int COpenSSLShims_sk_X509_num(const STACK_OF(X509) *stack);
X509 *COpenSSLShims_sk_X509_value(const STACK_OF(X509) *stack, int index);
void COpenSSLShims_sk_X509_pop_free(STACK_OF(X509) *stack);
int COpenSSLShims_sk_GENERAL_NAME_num(const STACK_OF(GENERAL_NAME) *stack);
GENERAL_NAME *COpenSSLShims_sk_GENERAL_NAME_value(const STACK_OF(GENERAL_NAME) *stack, int index);
void COpenSSLShims_GENERAL_NAMES_free(STACK_OF(GENERAL_NAME) *names);
int COpenSSLShims_sk_X509_NAME_num(const STACK_OF(X509_NAME) *stack);

// Memory
void COpenSSLShims_OPENSSL_free(void *pointer);

// Error queue
// Drains this thread's OpenSSL error queue: writes each error's ERR_error_string_n text into `out`, separated by
// "; " and NUL-terminated (cut short at `capacity` bytes; `out` may be NULL when `capacity` is 0), and returns how
// many errors were drained. Every queued error is removed even when the text does not fit.
size_t COpenSSLShims_ERR_drain_text(char *out, size_t capacity);

#endif
