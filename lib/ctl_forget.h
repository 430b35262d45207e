/* dormantctl forget: the right to erasure (GDPR art. 17), now. */
#ifndef DM_CTL_FORGET_H
#define DM_CTL_FORGET_H

struct dm_config;

/*
 * forget ID --reason TEXT: in one transaction, erases what dormant holds
 * about the subscriber (tokens, exemption, message payloads, event details;
 * lib/sql/ctl/forget.sql) and the source's policy.erase_columns, whatever
 * the account's state and the billing; leaves the account row as an erased
 * tombstone that no pass asks again (the sweep takes no forgotten
 * subscriber back), and records the event forgotten with the operator, the
 * reason and the database's session_user. Billing is left as it is: it is
 * the application's. Exit 65 for an unknown subscriber.
 */
int dm_ctl_forget(const struct dm_config *cfg, int argc, char **argv);

#endif
