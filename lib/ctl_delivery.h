/* dormantctl's delivery repairs: resend a request, report a bounce. */
#ifndef DM_CTL_DELIVERY_H
#define DM_CTL_DELIVERY_H

struct dm_config;

/*
 * resend ID: the subscriber's current request again, as a new outbox row
 * with a new link, to the address the source holds when it is sent. Only
 * while they are pending and no request of the cycle is delivered (after a
 * dead or bounced message, or a fixed address); otherwise says why and
 * returns 65.
 */
int dm_ctl_resend(const struct dm_config *cfg, int argc, char **argv);

/*
 * bounced ID [--reason TEXT]: the last request or reminder delivered to
 * the subscriber bounced. Through dormant.bounced(), the function the
 * application's mailer calls: the delivery is undone, no deadline runs,
 * the subscriber shows as undeliverable until "resend" is delivered.
 */
int dm_ctl_bounced(const struct dm_config *cfg, int argc, char **argv);

#endif
