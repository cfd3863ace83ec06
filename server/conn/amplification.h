/* amplification.h -- UDP anti-amplification: no reply more than --udp-amplification times the
 * request it answers (RFC 9000's rule for unvalidated addresses), and the start-up check. */
#ifndef GREETER_AMPLIFICATION_H
#define GREETER_AMPLIFICATION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when a reply of reply_len bytes may answer a request of request_len, at most `factor`
 * times as large (0: any size). */
int amplification_reply_allowed(int factor, size_t request_len, size_t reply_len);

/* Warns (once, at start) when the limits leave no request that the greeting may answer:
 * every datagram up to udp_max (--udp-max) is too small for it. */
void amplification_warn_unanswerable(int factor, int udp_max, size_t greeting_len);

#ifdef __cplusplus
}
#endif
#endif
