/* The operator named in the audit trail comes from the system, not $USER. */
#include "testlib.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_util.h"

START_TEST(test_user_is_not_believed)
{
    char actor[300];
    setenv("USER", "mallory", 1);
    setenv("LOGNAME", "mallory", 1);
    unsetenv("SUDO_USER");
    dm_ctl_actor(actor, sizeof actor);
    ck_assert(strncmp(actor, "operator:", 9) == 0);
    ck_assert_str_ne(actor, "operator:mallory");
    if (getuid() != 0) {
        /* Not root: always the account the process runs as. */
        struct passwd *pw = getpwuid(getuid());
        ck_assert_ptr_nonnull(pw);
        ck_assert_str_eq(actor + 9, pw->pw_name);
        setenv("SUDO_USER", "mallory", 1);
        dm_ctl_actor(actor, sizeof actor);
        ck_assert_str_eq(actor + 9, pw->pw_name);
    }
}
END_TEST

START_TEST(test_root_names_who_ran_sudo)
{
    char actor[300];
    if (getuid() != 0)
        return; /* only root's SUDO_USER is believed */
    setenv("SUDO_USER", "ana", 1);
    setenv("USER", "root", 1);
    dm_ctl_actor(actor, sizeof actor);
    ck_assert_str_eq(actor, "operator:ana");
    setenv("SUDO_USER", "ana\nkind=forged", 1); /* no line breaks in the trail */
    dm_ctl_actor(actor, sizeof actor);
    ck_assert_ptr_null(strchr(actor, '\n'));
}
END_TEST

static Suite *actor_suite(void)
{
    Suite *s = suite_create("ctl_actor");
    TCase *tc = tcase_create("actor");
    tcase_add_test(tc, test_user_is_not_believed);
    tcase_add_test(tc, test_root_names_who_ran_sudo);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(actor_suite());
}
