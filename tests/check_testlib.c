/* The test helpers themselves: scratch databases and files. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

START_TEST(test_db_lifecycle)
{
    char *conninfo, *name, *value, *gone;
    PGresult *res;

    DM_TEST_REQUIRE_PG();
    conninfo = dm_test_db_create("Check-TestLib");
    ck_assert_ptr_nonnull(strstr(conninfo, "dbname='check_testlib_"));
    name = dm_test_scalar(conninfo, "SELECT current_database()");
    ck_assert_ptr_nonnull(name);
    ck_assert_ptr_nonnull(strstr(conninfo, name));

    res = dm_test_exec(conninfo, "CREATE TABLE t (id bigint PRIMARY KEY, v text);"
                                 "INSERT INTO t VALUES (1, 'one'), (2, NULL)");
    PQclear(res);
    res = dm_test_exec(conninfo, "SELECT id FROM t ORDER BY id");
    ck_assert_int_eq(PQntuples(res), 2);
    PQclear(res);

    value = dm_test_scalar(conninfo, "SELECT v FROM t WHERE id = 1");
    ck_assert_str_eq(value, "one");
    free(value);
    ck_assert_ptr_null(dm_test_scalar(conninfo, "SELECT v FROM t WHERE id = 2"));
    ck_assert_ptr_null(dm_test_scalar(conninfo, "SELECT v FROM t WHERE id = 3"));

    /* Two databases from one prefix never collide. */
    {
        char *other = dm_test_db_create("Check-TestLib");

        ck_assert_str_ne(other, conninfo);
        dm_test_db_drop(other);
        free(other);
    }

    dm_test_db_drop(conninfo);
    {
        char admin[512];
        char sql[256];

        snprintf(admin, sizeof(admin), "host='%s' user=postgres dbname=postgres", getenv("PGHOST"));
        if (getenv("PGPORT") != NULL)
            snprintf(admin + strlen(admin), sizeof(admin) - strlen(admin), " port=%s",
                     getenv("PGPORT"));
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_database WHERE datname = '%s'", name);
        gone = dm_test_scalar(admin, sql);
        ck_assert_str_eq(gone, "0");
        free(gone);
    }
    free(name);
    free(conninfo);
}
END_TEST

START_TEST(test_files)
{
    char *dir = dm_test_tmpdir();
    char *path;
    struct stat st;
    char buf[64] = {0};
    FILE *f;

    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    path = dm_test_write_file(dir, "a.conf", "key = \"value\";\n");
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, sizeof(buf) - 1, f), 15);
    fclose(f);
    ck_assert_str_eq(buf, "key = \"value\";\n");
    free(path);

    dm_test_rmtree(dir);
    ck_assert_int_ne(stat(dir, &st), 0);
    free(dir);
}
END_TEST

static Suite *testlib_suite(void)
{
    Suite *s = suite_create("testlib");
    TCase *tc = tcase_create("helpers");

    tcase_add_test(tc, test_db_lifecycle);
    tcase_add_test(tc, test_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(testlib_suite());
}
