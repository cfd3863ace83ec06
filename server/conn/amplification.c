/* amplification.c -- UDP anti-amplification: no reply more than --udp-amplification times the
 * request it answers (RFC 9000's rule for unvalidated addresses), and the start-up check. */
#include "amplification.h"

#include "log.h"

int amplification_reply_allowed(int factor, size_t request_len, size_t reply_len)
{
    return factor == 0 || reply_len <= (size_t)factor * request_len;
}

void amplification_warn_unanswerable(int factor, int udp_max, size_t greeting_len)
{
    if (amplification_reply_allowed(factor, (size_t)udp_max, greeting_len))
        return;
    log_warn("--udp: the greeting (%zu bytes) is more than %d times the largest request "
             "answered (--udp-max %d), so no datagram will be answered: shorten the greeting, "
             "raise --udp-max to at least %zu, or set --udp-amplification (0 turns the limit off "
             "on a trusted network)",
             greeting_len, factor, udp_max, (greeting_len + (size_t)factor - 1) / (size_t)factor);
}
