/*
 * Status codes of the HAL and the drivers (docs: firmware/README.md). Every HAL and driver call
 * returns one, checks its arguments first and is warn_unused_result, so no failure is silent.
 * The protocol's error codes (firmware/gen/tl_protocol.h) are what the host sees; the app layer
 * maps these statuses onto them with a detail text.
 */
#ifndef TL_STATUS_H
#define TL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TL_MUST_USE __attribute__((warn_unused_result))
#else
#define TL_MUST_USE
#endif

typedef enum {
  TL_OK = 0,
  TL_E_ARG,      /* an argument out of range (a bug in the caller) */
  TL_E_IO,       /* a system call failed (errno kept by the caller's detail) */
  TL_E_SHORT,    /* a transfer moved fewer bytes than asked */
  TL_E_TIMEOUT,  /* a bounded wait ran out */
  TL_E_NOMEM,    /* a buffer is too small for the request */
  TL_E_FAULT,    /* the accelerator reported an error */
  TL_E_STATE,    /* the call is not allowed in the current state */
} tl_status_t;

/** A short name of a status, for details and logs. */
static inline const char *tl_status_name(tl_status_t s) {
  switch (s) {
    case TL_OK: return "ok";
    case TL_E_ARG: return "bad argument";
    case TL_E_IO: return "I/O error";
    case TL_E_SHORT: return "short transfer";
    case TL_E_TIMEOUT: return "timeout";
    case TL_E_NOMEM: return "buffer too small";
    case TL_E_FAULT: return "accelerator fault";
    case TL_E_STATE: return "wrong state";
  }
  return "unknown status";
}

#ifdef __cplusplus
}
#endif

#endif /* TL_STATUS_H */
