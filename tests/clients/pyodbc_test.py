"""pyodbc (Debian's python3-pyodbc, run with /usr/bin/python3) and pandas against the local
Lakebase through the real unixODBC and the driver: DSN and DSN-less connects, real work with
bound parameters of every common type read back exactly, 100,000 rows, catalog calls,
executemany and fast_executemany, pandas.read_sql, and the errors a user sees.
Needs the ctest fixture's environment (ODBCSYSINI, ODBCINI, LAKEBASE_*)."""
import datetime
import decimal
import sys
import time
import unittest

import pyodbc

from local_lakebase import BLOB, CLIENT_ID, DSNLESS, NUMERIC_TEXT, TEXT

NUMERIC = decimal.Decimal(NUMERIC_TEXT)
WHEN = datetime.datetime(2026, 11, 26, 14, 37, 51, 123456)


def connect(dsn_less=False):
    return pyodbc.connect(DSNLESS if dsn_less else "DSN=lakebase-local", timeout=30)


class PyodbcTest(unittest.TestCase):
    def test_identity_dsn_and_dsnless(self):
        for dsn_less in (False, True):
            with connect(dsn_less) as cn:
                row = cn.execute("SELECT current_user, current_database()").fetchone()
                self.assertEqual((row[0], row[1]), (CLIENT_ID, "databricks_postgres"))

    def test_round_trip_of_every_type(self):
        with connect() as cn:
            cur = cn.cursor()
            cur.execute("DROP TABLE IF EXISTS py_types")
            cur.execute("CREATE TABLE py_types (i integer, b bigint, n numeric(40,5), t text, "
                        "ts timestamp with time zone, bin bytea, z text)")
            cur.execute("INSERT INTO py_types VALUES (?, ?, ?, ?, ?, ?, ?)",
                        -2147483648, 9223372036854775807, NUMERIC, TEXT, WHEN, BLOB, None)
            cn.commit()
            row = cur.execute("SELECT i, b, n, t, ts, bin, z FROM py_types").fetchone()
            self.assertEqual(row.i, -2147483648)
            self.assertEqual(row.b, 9223372036854775807)
            self.assertEqual(row.n, NUMERIC)
            self.assertEqual(row.t, TEXT)
            self.assertEqual(row.ts, WHEN)
            self.assertEqual(bytes(row.bin), BLOB)
            self.assertIsNone(row.z)
            cur.execute("DROP TABLE py_types")
            cn.commit()

    def test_many_rows_fetchmany(self):
        with connect() as cn:
            cur = cn.execute("SELECT g, md5(g::text) FROM generate_series(1, 100000) g")
            total, count = 0, 0
            while True:
                rows = cur.fetchmany(5000)
                if not rows:
                    break
                count += len(rows)
                total += sum(r[0] for r in rows)
            self.assertEqual(count, 100000)
            self.assertEqual(total, 100000 * 100001 // 2)

    def test_executemany_and_fast_executemany(self):
        with connect() as cn:
            cur = cn.cursor()
            cur.execute("DROP TABLE IF EXISTS py_many")
            cur.execute("CREATE TABLE py_many (k integer, v text)")
            rows = [(i, "%s %d" % (TEXT, i)) for i in range(500)]
            cur.executemany("INSERT INTO py_many VALUES (?, ?)", rows)
            cur.fast_executemany = True
            cur.executemany("INSERT INTO py_many VALUES (?, ?)", [(k + 1000, v) for k, v in rows])
            cn.commit()
            got = cur.execute("SELECT k, v FROM py_many ORDER BY k").fetchall()
            self.assertEqual([tuple(r) for r in got], rows + [(k + 1000, v) for k, v in rows])
            # Catalog calls, as BI tools make them.
            tables = [t.table_name for t in cur.tables(table="py_many")]
            self.assertEqual(tables, ["py_many"])
            cols = [(c.column_name, c.type_name) for c in cur.columns(table="py_many")]
            self.assertEqual([c[0] for c in cols], ["k", "v"])
            cur.execute("DROP TABLE py_many")
            cn.commit()

    def test_pandas_read_sql(self):
        import warnings
        import pandas
        with connect() as cn, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas prefers SQLAlchemy; a DBAPI connection works
            frame = pandas.read_sql("SELECT g AS n, g * 2 AS twice FROM generate_series(1, 1000) g", cn)
        self.assertEqual(len(frame), 1000)
        self.assertEqual(int(frame["twice"].sum()), 1001000)

    def test_sql_error_shows_its_sqlstate(self):
        with connect() as cn:
            with self.assertRaises(pyodbc.ProgrammingError) as ctx:
                cn.execute("SELECT * FROM no_such_table")
            self.assertIn("42P01", str(ctx.exception))

    def test_wrong_secret_shows_28000_and_the_fix(self):
        with self.assertRaises(pyodbc.Error) as ctx:
            pyodbc.connect("DSN=lakebase-local;ClientSecret={not-the-secret}", timeout=30)
        text = str(ctx.exception)
        self.assertIn("28000", text)
        self.assertIn("Check ClientID and ClientSecret", text)
        self.assertNotIn("not-the-secret", text)

    def test_wrong_uid_shows_the_fix_first(self):
        # pyodbc on Linux shows only the first diagnostic record: the fix must be in it.
        with self.assertRaises(pyodbc.Error) as ctx:
            pyodbc.connect("DSN=lakebase-local;UID=postgres", timeout=30)
        state, text = ctx.exception.args[0], ctx.exception.args[1]
        self.assertEqual(state, "08001")
        self.assertIn("authentication failed", text)
        self.assertIn('UID "postgres" is not the service principal\'s client id', text)


if __name__ == "__main__":
    started = time.monotonic()
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("pyodbc %s: %.1f s" % (pyodbc.version, time.monotonic() - started))
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or result.testsRun == 0 else 0)
